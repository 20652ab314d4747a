package io.github.mirframework.messagebuffer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.mirframework.event.pb.TestingString;
import io.github.mirframework.messagebuffer.MessageBuffer.Applicable;
import io.github.mirframework.types.NodeId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MessageBufferTest {

  /** A message of exactly {@code size} serialized bytes (3 <= size <= 129): tag, length, text. */
  private static TestingString msg(char c, int size) {
    TestingString m =
        TestingString.newBuilder().setValue(String.valueOf(c).repeat(size - 2)).build();
    assertThat(m.getSerializedSize()).isEqualTo(size);
    return m;
  }

  private static List<String> contents(MessageBuffer<TestingString> b) {
    List<String> out = new ArrayList<>();
    b.iterate(
        m -> {
          out.add(m.getValue());
          return Applicable.FUTURE;
        },
        m -> {});
    return out;
  }

  @Test
  void storesUntilFullThenEvictsTheOldestToMakeRoom() {
    MessageBuffer<TestingString> b = MessageBuffer.create(30);
    assertThat(b.store(msg('a', 10))).isTrue();
    assertThat(b.store(msg('b', 10))).isTrue();
    assertThat(b.store(msg('c', 10))).isTrue();
    assertThat(b.sizeBytes()).isEqualTo(30);
    assertThat(b.evictedCount()).isZero();

    // 15 more bytes: the two oldest messages must go.
    assertThat(b.store(msg('d', 15))).isTrue();
    assertThat(contents(b)).containsExactly("c".repeat(8), "d".repeat(13));
    assertThat(b.sizeBytes()).isEqualTo(25);
    assertThat(b.messageCount()).isEqualTo(2);
    assertThat(b.evictedCount()).isEqualTo(2);
  }

  @Test
  void rejectsAMessageLargerThanTheCapacityAndKeepsItsContents() {
    MessageBuffer<TestingString> b = MessageBuffer.create(20);
    b.store(msg('a', 10));
    assertThat(b.store(msg('z', 21))).isFalse();
    assertThat(contents(b)).containsExactly("a".repeat(8));
    assertThat(b.rejectedCount()).isEqualTo(1);
    assertThat(b.evictedCount()).isZero();

    // A message of exactly the capacity fits, after evicting everything else.
    assertThat(b.store(msg('y', 20))).isTrue();
    assertThat(contents(b)).containsExactly("y".repeat(18));
  }

  @Test
  void iterateAppliesCurrentDropsPastAndInvalidAndKeepsFutureInOrder() {
    MessageBuffer<TestingString> b = MessageBuffer.create(1000);
    for (String s : List.of("past1", "cur1", "fut1", "inv1", "cur2", "fut2")) {
      b.store(TestingString.newBuilder().setValue(s).build());
    }
    List<String> applied = new ArrayList<>();
    b.iterate(
        m ->
            switch (m.getValue().substring(0, 3)) {
              case "pas" -> Applicable.PAST;
              case "cur" -> Applicable.CURRENT;
              case "fut" -> Applicable.FUTURE;
              default -> Applicable.INVALID;
            },
        m -> applied.add(m.getValue()));

    assertThat(applied).containsExactly("cur1", "cur2");
    assertThat(contents(b)).containsExactly("fut1", "fut2");
    assertThat(b.sizeBytes()).isEqualTo(2 * 6);
  }

  @Test
  void applyMayStoreIntoTheBufferDuringIteration() {
    MessageBuffer<TestingString> b = MessageBuffer.create(1000);
    b.store(TestingString.newBuilder().setValue("x").build());
    b.store(TestingString.newBuilder().setValue("y").build());
    List<String> applied = new ArrayList<>();
    b.iterate(
        m -> m.getValue().equals("x") ? Applicable.CURRENT : Applicable.FUTURE,
        m -> {
          applied.add(m.getValue());
          b.store(TestingString.newBuilder().setValue("x").build()); // not visited this round
        });
    assertThat(applied).containsExactly("x");
    assertThat(contents(b)).containsExactly("y", "x");
  }

  @Test
  void resizeEvictsTheOldestUntilTheRestFits() {
    MessageBuffer<TestingString> b = MessageBuffer.create(100);
    b.store(msg('a', 10));
    b.store(msg('b', 20));
    b.store(msg('c', 30));
    b.resize(50);
    assertThat(contents(b)).containsExactly("b".repeat(18), "c".repeat(28));
    assertThat(b.capacityBytes()).isEqualTo(50);
    b.resize(29);
    assertThat(b.isEmpty()).isTrue();
    assertThat(b.sizeBytes()).isZero();
    assertThat(b.evictedCount()).isEqualTo(3);
    assertThatThrownBy(() -> b.resize(-1)).hasMessageContaining("-1");
  }

  @Test
  void splitGivesEachSenderAnEqualShareAndIsolatesThem() {
    List<NodeId> nodes = NodeId.range(3);
    Map<NodeId, MessageBuffer<TestingString>> buffers = MessageBuffers.split(nodes, 100);
    assertThat(buffers.keySet()).containsExactlyElementsOf(nodes);
    buffers.values().forEach(b -> assertThat(b.capacityBytes()).isEqualTo(33));

    // An honest sender's early message survives a flood from a Byzantine one.
    MessageBuffer<TestingString> honest = buffers.get(NodeId.of("0"));
    MessageBuffer<TestingString> byzantine = buffers.get(NodeId.of("2"));
    honest.store(msg('h', 10));
    for (int i = 0; i < 10_000; i++) {
      byzantine.store(msg('x', 11));
    }
    assertThat(contents(honest)).containsExactly("h".repeat(8));
    assertThat(byzantine.sizeBytes()).isLessThanOrEqualTo(33);
    assertThat(byzantine.messageCount()).isEqualTo(3);
  }

  @Test
  void splitRejectsBadArguments() {
    assertThatThrownBy(() -> MessageBuffers.split(List.of(), 10))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> MessageBuffers.split(List.of(NodeId.of("0"), NodeId.of("0")), 10))
        .hasMessageContaining("duplicate node ID: 0");
    assertThatThrownBy(() -> MessageBuffers.split(NodeId.range(2), -5)).hasMessageContaining("-5");
    assertThatThrownBy(() -> MessageBuffer.create(-3)).hasMessageContaining("-3");
  }

  @Test
  void zeroCapacityRejectsEverythingButEmptyMessages() {
    MessageBuffer<TestingString> b = MessageBuffer.create(0);
    assertThat(b.store(msg('a', 3))).isFalse();
    assertThat(b.store(TestingString.getDefaultInstance())).isTrue();
    assertThat(b.messageCount()).isEqualTo(1);
  }
}
