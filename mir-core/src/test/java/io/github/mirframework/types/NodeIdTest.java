package io.github.mirframework.types;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class NodeIdTest {

  @Test
  void ofIntIsTheDecimalText() {
    assertEquals(NodeId.of("0"), NodeId.of(0));
    assertEquals("17", NodeId.of(17).value());
    assertEquals("17", NodeId.of(17).toString());
  }

  @Test
  void rangeListsZeroToNMinusOne() {
    assertEquals(List.of(NodeId.of("0"), NodeId.of("1"), NodeId.of("2")), NodeId.range(3));
    assertEquals(List.of(), NodeId.range(0));
    assertThrows(UnsupportedOperationException.class, () -> NodeId.range(2).add(NodeId.of(9)));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> NodeId.range(-1));
    assertEquals("number of nodes must not be negative: -1", e.getMessage());
  }

  @Test
  void stringsKeepsTheOrder() {
    assertEquals(
        List.of("2", "0", "b"),
        NodeId.strings(List.of(NodeId.of(2), NodeId.of(0), NodeId.of("b"))));
  }

  @Test
  void emptyIdIsRejected() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NodeId.of(""));
    assertEquals("node ID must not be empty", e.getMessage());
    assertThrows(NullPointerException.class, () -> NodeId.of((String) null));
  }

  @ParameterizedTest
  @ValueSource(strings = {" ", "a b", "a\tb", "node\n", " 0"})
  void whitespaceIsRejectedNamingTheId(String bad) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NodeId.of(bad));
    assertEquals("node ID must not contain whitespace: '" + bad + "'", e.getMessage());
  }

  @Test
  void orderIsThatOfTheText() {
    assertTrue(NodeId.of("10").compareTo(NodeId.of("9")) < 0, "string order, not numeric");
    assertEquals(0, NodeId.of("a").compareTo(NodeId.of("a")));
  }

  @Test
  void clientIdIsValidatedToo() {
    assertEquals("4", ClientId.of(4).value());
    assertEquals(ClientId.of("4"), ClientId.of(4));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ClientId.of(""));
    assertEquals("client ID must not be empty", e.getMessage());
    assertTrue(ClientId.of("a").compareTo(ClientId.of("b")) < 0);
  }
}
