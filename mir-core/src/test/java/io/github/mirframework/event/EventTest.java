package io.github.mirframework.event;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mirframework.event.pb.TestingString;
import io.github.mirframework.event.pb.TestingUint;
import io.github.mirframework.types.ModuleId;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class EventTest {
  private static final ModuleId APP = ModuleId.of("app");
  private static final ModuleId OTHER = ModuleId.of("other/sub");

  private static Event str(String s) {
    return Events.testingString(APP, s);
  }

  @Test
  void holdsDestinationPayloadAndNoFollowUpsByDefault() {
    Event e = str("hi");
    assertEquals(APP, e.destination());
    assertEquals(TestingString.newBuilder().setValue("hi").build(), e.payload());
    assertTrue(e.is(TestingString.class));
    assertFalse(e.is(TestingUint.class));
    assertEquals("hi", e.payload(TestingString.class).getValue());
    assertFalse(e.hasFollowUps());
    assertEquals(List.of(), e.followUps());
    assertEquals("TestingString", e.typeName());
  }

  @Test
  void payloadOfTheWrongTypeNamesBothTypes() {
    ClassCastException ex =
        assertThrows(ClassCastException.class, () -> str("hi").payload(TestingUint.class));
    assertTrue(
        ex.getMessage().contains("TestingString") && ex.getMessage().contains("TestingUint"),
        ex.getMessage());
  }

  @Test
  void nullsAreRejected() {
    assertThrows(
        NullPointerException.class, () -> Event.of(null, TestingString.getDefaultInstance()));
    assertThrows(NullPointerException.class, () -> Event.of(APP, null));
    assertThrows(NullPointerException.class, () -> str("a").redirect(null));
    List<Event> withNull = new ArrayList<>();
    withNull.add(null);
    assertThrows(NullPointerException.class, () -> str("a").withFollowUps(withNull));
  }

  @Test
  void withFollowUpsAppendsToACopy() {
    Event original = str("p").withFollowUp(str("f1"));
    Event more = original.withFollowUps(List.of(str("f2"), str("f3")));

    assertEquals(List.of(str("f1"), str("f2"), str("f3")), more.followUps());
    assertEquals(List.of(str("f1")), original.followUps(), "the original is unchanged");
    assertSame(
        original, original.withFollowUps(List.of()), "adding nothing returns the same event");
    assertThrows(UnsupportedOperationException.class, () -> more.followUps().add(str("x")));
    assertEquals(more, Event.of(APP, str("p").payload(), List.of(str("f1"), str("f2"), str("f3"))));
  }

  @Test
  void followUpsListIsCopiedNotShared() {
    List<Event> mutable = new ArrayList<>(List.of(str("f1")));
    Event e = str("p").withFollowUps(mutable);
    mutable.add(str("f2"));
    assertEquals(List.of(str("f1")), e.followUps());
  }

  @Test
  void strippedDropsFollowUpsOnly() {
    Event child = str("child").withFollowUp(str("grandchild"));
    Event parent = str("parent").withFollowUp(child);
    Event stripped = parent.stripped();

    assertEquals(str("parent"), stripped);
    assertFalse(stripped.hasFollowUps());
    assertEquals(List.of(child), parent.followUps(), "the original keeps its follow-ups");
    Event plain = str("plain");
    assertSame(plain, plain.stripped());
  }

  @Test
  void redirectChangesOnlyTheDestination() {
    Event e = str("p").withFollowUp(str("f"));
    Event r = e.redirect(OTHER);
    assertEquals(OTHER, r.destination());
    assertEquals(e.payload(), r.payload());
    assertEquals(e.followUps(), r.followUps());
    assertEquals(APP, e.destination());
  }

  @Test
  void withPayloadChangesOnlyThePayload() {
    Event e = str("p").withFollowUp(str("f"));
    Event w = e.withPayload(TestingUint.newBuilder().setValue(5).build());
    assertEquals(APP, w.destination());
    assertEquals(e.followUps(), w.followUps());
    assertEquals(5, w.payload(TestingUint.class).getValue());
  }

  @Test
  void equalityCoversDestinationPayloadAndFollowUps() {
    Event a = str("x").withFollowUp(str("f"));
    Event same = Events.testingString(ModuleId.of("app"), "x").withFollowUp(str("f"));
    assertEquals(a, same);
    assertEquals(a.hashCode(), same.hashCode());

    assertNotEquals(a, a.redirect(OTHER));
    assertNotEquals(a, str("y").withFollowUp(str("f")));
    assertNotEquals(a, str("x"));
    assertNotEquals(a, str("x").withFollowUp(str("g")));
    assertNotEquals(a, str("x").withFollowUps(List.of(str("f"), str("f"))));
    assertNotEquals(a, "not an event");
  }

  @Test
  void toStringIsOneReadableLine() {
    Event e = str("hello world").withFollowUp(Events.testingUint(OTHER, 42));
    String s = e.toString();
    assertFalse(s.contains("\n"), s);
    assertTrue(s.startsWith("app <- mir.core.TestingString{"), s);
    assertTrue(s.contains("\"hello world\""), s);
    assertTrue(s.contains("other/sub <- mir.core.TestingUint{value: 42}"), s);
  }

  @Test
  void toStringOfAnEmptyPayload() {
    assertEquals("app <- mir.core.Init{}", Events.init(APP).toString());
  }
}
