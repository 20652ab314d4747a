package io.github.mirframework.event;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mirframework.types.ModuleId;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class EventListTest {
  private static final ModuleId TEST_MODULE = ModuleId.of("testmodule");

  private static Event str(String s) {
    return Events.testingString(TEST_MODULE, s);
  }

  private static Event num(long n) {
    return Events.testingUint(TEST_MODULE, n);
  }

  // Port of Mir's TestEventList_Constructors.
  static Stream<Arguments> constructors() {
    return Stream.of(
        Arguments.of("empty()", EventList.empty(), List.of()),
        Arguments.of("of() with nothing", EventList.of(), List.of()),
        Arguments.of("one item", EventList.of(str("hello")), List.of(str("hello"))),
        Arguments.of(
            "three items",
            EventList.of(str("hello"), str("world"), num(42)),
            List.of(str("hello"), str("world"), num(42))),
        Arguments.of(
            "from a collection",
            EventList.of(List.of(str("hello"), num(42))),
            List.of(str("hello"), num(42))));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("constructors")
  void constructorsGiveBackTheSameEvents(String name, EventList list, List<Event> expected) {
    assertEquals(expected, list.toList());
    assertEquals(expected.size(), list.size());
    assertEquals(expected.isEmpty(), list.isEmpty());
    List<Event> iterated = new ArrayList<>();
    list.forEach(iterated::add);
    assertEquals(expected, iterated);
  }

  @Test
  void ofCopiesTheArraySoLaterChangesDoNotLeakIn() {
    Event[] array = {str("a"), str("b")};
    EventList list = EventList.of(array);
    array[0] = str("changed");
    assertEquals(List.of(str("a"), str("b")), list.toList());
  }

  @Test
  void nullEventsAreRejected() {
    assertThrows(NullPointerException.class, () -> EventList.of(str("a"), null));
    assertThrows(NullPointerException.class, () -> EventList.empty().add(null));
  }

  @Test
  void addAppendsAndGrowsBeyondTheInitialCapacity() {
    EventList list = EventList.withCapacity(1);
    List<Event> expected = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      assertSame(list, list.add(num(i)), "add returns the list for chaining");
      expected.add(num(i));
    }
    assertEquals(expected, list.toList());
    assertEquals(num(57), list.get(57));
    assertThrows(IndexOutOfBoundsException.class, () -> list.get(100));
  }

  @Test
  void addAllAppendsAnotherListWithoutChangingIt() {
    EventList a = EventList.of(str("a1"), str("a2"));
    EventList b = EventList.of(str("b1"));
    a.addAll(b);
    assertEquals(List.of(str("a1"), str("a2"), str("b1")), a.toList());
    assertEquals(List.of(str("b1")), b.toList());

    a.addAll(List.of(str("c1"), str("c2")));
    assertEquals(List.of(str("a1"), str("a2"), str("b1"), str("c1"), str("c2")), a.toList());

    a.addAll(EventList.empty());
    assertEquals(5, a.size());
  }

  @Test
  void addAllOfItselfDoublesTheList() {
    EventList a = EventList.of(str("x"), str("y"));
    a.addAll(a);
    assertEquals(List.of(str("x"), str("y"), str("x"), str("y")), a.toList());
  }

  @Test
  void headCopiesAtMostTheFirstNEvents() {
    EventList list = EventList.of(num(1), num(2), num(3));
    assertEquals(List.of(num(1), num(2)), list.head(2).toList());
    assertEquals(List.of(num(1), num(2), num(3)), list.head(10).toList());
    assertEquals(List.of(), list.head(0).toList());

    EventList head = list.head(2);
    head.add(num(99));
    assertEquals(List.of(num(1), num(2), num(3)), list.toList(), "head is a copy");
  }

  @Test
  void stripFollowUpsSplitsOneLevelOnly() {
    Event grandChild = str("grandchild");
    Event child1 = str("child1").withFollowUp(grandChild);
    Event child2 = str("child2");
    Event parent = str("parent").withFollowUps(List.of(child1, child2));
    Event plain = num(7);
    Event other = num(8).withFollowUp(str("child3"));

    EventList.Split split = EventList.of(parent, plain, other).stripFollowUps();

    assertEquals(List.of(str("parent"), num(7), num(8)), split.plain().toList());
    assertEquals(List.of(child1, child2, str("child3")), split.followUps().toList());
    assertEquals(
        List.of(grandChild),
        split.followUps().get(0).followUps(),
        "follow-ups keep their own follow-ups");
    assertSame(plain, split.plain().get(1), "events without follow-ups are not copied");
  }

  @Test
  void stripFollowUpsReturnsTheSameListWhenThereAreNone() {
    EventList list = EventList.of(str("a"), str("b"));
    EventList.Split split = list.stripFollowUps();
    assertSame(list, split.plain());
    assertTrue(split.followUps().isEmpty());

    EventList.Split ofEmpty = EventList.empty().stripFollowUps();
    assertTrue(ofEmpty.plain().isEmpty());
    assertTrue(ofEmpty.followUps().isEmpty());
  }

  @Test
  void clearEmptiesTheList() {
    EventList list = EventList.of(str("a"), str("b"));
    list.clear();
    assertTrue(list.isEmpty());
    list.add(str("c"));
    assertEquals(List.of(str("c")), list.toList());
  }

  @Test
  void toListIsAnUnmodifiableCopy() {
    EventList list = EventList.of(str("a"));
    List<Event> copy = list.toList();
    assertThrows(UnsupportedOperationException.class, () -> copy.add(str("b")));
    list.add(str("b"));
    assertEquals(List.of(str("a")), copy);
  }

  @Test
  void iteratorEndsWithNoSuchElement() {
    Iterator<Event> it = EventList.of(str("only")).iterator();
    assertEquals(str("only"), it.next());
    assertThrows(NoSuchElementException.class, it::next);
  }

  @Test
  void equalityIsByContentAndOrder() {
    EventList a = EventList.of(str("a"), num(1));
    EventList grown = EventList.withCapacity(16).add(str("a")).add(num(1));
    assertEquals(a, grown, "capacity does not matter");
    assertEquals(a.hashCode(), grown.hashCode());
    assertNotEquals(a, EventList.of(num(1), str("a")));
    assertNotEquals(a, EventList.of(str("a")));
    assertNotEquals(a, EventList.of(str("a"), num(1).withFollowUp(str("f"))));
    assertEquals(EventList.empty(), EventList.of());
    assertNotEquals(EventList.empty(), List.of());
  }

  @Test
  void toStringShowsTheEvents() {
    String s = EventList.of(str("hello"), num(42)).toString();
    assertTrue(s.contains("hello") && s.contains("42"), s);
  }
}
