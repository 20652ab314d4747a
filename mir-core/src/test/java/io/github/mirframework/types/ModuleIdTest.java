package io.github.mirframework.types;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ModuleIdTest {

  @Test
  void topLevelIdIsItsOwnTop() {
    ModuleId iss = ModuleId.of("iss");
    assertTrue(iss.isTopLevel());
    assertSame(iss, iss.top());
    assertEquals("iss", iss.topString());
    assertEquals("iss", iss.value());
    assertEquals("iss", iss.toString());
  }

  @Test
  void topIsTheFirstSegmentAndSubIsTheRest() {
    ModuleId id = ModuleId.of("availability/3/x");
    assertFalse(id.isTopLevel());
    assertEquals(ModuleId.of("availability"), id.top());
    assertEquals("availability", id.topString());
    assertEquals(ModuleId.of("3/x"), id.sub());
    assertEquals(ModuleId.of("x"), id.sub().sub());
    assertTrue(id.sub().sub().isTopLevel());
  }

  @Test
  void thenAppendsASubId() {
    ModuleId availability = ModuleId.of("availability");
    ModuleId sub = availability.then("3");
    assertEquals(ModuleId.of("availability/3"), sub);
    assertEquals("availability", sub.topString());
    assertEquals(ModuleId.of("availability/3/x/y"), sub.then(ModuleId.of("x/y")));
    assertEquals(sub.then("x"), availability.then("3/x"));
  }

  @Test
  void thenThenSubGivesBackTheSubId() {
    ModuleId parent = ModuleId.of("iss");
    ModuleId child = ModuleId.of("pbft/7");
    assertEquals(child, parent.then(child).sub());
    assertEquals(parent, parent.then(child).top());
  }

  @Test
  void subOfATopLevelIdIsAnErrorNamingIt() {
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> ModuleId.of("net").sub());
    assertEquals("module ID 'net' has no sub-ID", e.getMessage());
  }

  @Test
  void emptyIdIsRejected() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ModuleId.of(""));
    assertEquals("module ID must not be empty", e.getMessage());
    assertThrows(NullPointerException.class, () -> ModuleId.of(null));
  }

  @ParameterizedTest
  @ValueSource(strings = {"/", "/a", "a/", "a//b", "a/b/", "//"})
  void emptySegmentsAreRejectedNamingTheId(String bad) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ModuleId.of(bad));
    assertEquals("module ID has an empty segment: '" + bad + "'", e.getMessage());
  }

  @Test
  void thenRejectsAnInvalidSubId() {
    ModuleId iss = ModuleId.of("iss");
    assertThrows(IllegalArgumentException.class, () -> iss.then(""));
    assertThrows(IllegalArgumentException.class, () -> iss.then("/x"));
  }

  @Test
  void equalityAndOrderAreThoseOfTheText() {
    ModuleId a = ModuleId.of("a/b");
    ModuleId b = ModuleId.of("a").then("b");
    assertEquals(a, b);
    assertEquals(a.hashCode(), b.hashCode());
    assertNotEquals(a, ModuleId.of("a"));
    assertNotEquals(a, "a/b");

    List<ModuleId> ids =
        new ArrayList<>(List.of(ModuleId.of("b"), ModuleId.of("a/z"), ModuleId.of("a")));
    Collections.sort(ids);
    assertEquals(List.of(ModuleId.of("a"), ModuleId.of("a/z"), ModuleId.of("b")), ids);
  }
}
