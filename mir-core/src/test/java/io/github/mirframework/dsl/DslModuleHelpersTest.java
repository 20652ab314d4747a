package io.github.mirframework.dsl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.pb.SendMessage;
import io.github.mirframework.event.pb.TestingString;
import io.github.mirframework.event.pb.TestingUint;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The helpers for protocols with untrusted input and many instances. */
class DslModuleHelpersTest {
  private static final ModuleId SELF = ModuleId.of("proto");
  private static final ModuleId NET = ModuleId.of("net");
  private static final NodeId A = NodeId.of("a");
  private static final NodeId B = NodeId.of("b");
  private static final NodeId EVIL = NodeId.of("evil");

  private static Event received(NodeId from, long value) {
    return Events.messageReceived(
        from, Events.netMessage(SELF, TestingUint.newBuilder().setValue(value).build()));
  }

  @Test
  void rejectCountsTheMessageAndTheBatchGoesOn() throws Exception {
    DslModule m = new DslModule(SELF);
    List<Long> accepted = new ArrayList<>();
    m.uponMessage(
        TestingUint.class,
        (from, msg) -> {
          if (msg.getValue() > 10) {
            m.reject(from, msg, "value " + msg.getValue() + " exceeds 10");
            return;
          }
          accepted.add(msg.getValue());
        });
    m.applyEvents(EventList.of(received(A, 1), received(A, 11), received(B, 2), received(B, 99)));
    assertThat(accepted).containsExactly(1L, 2L);
    assertThat(m.droppedMessages()).isEqualTo(2);
  }

  @Test
  void memberOnlyHandlersDropMessagesFromOthers() throws Exception {
    DslModule m = new DslModule(SELF);
    List<String> seen = new ArrayList<>();
    m.uponMemberMessage(
        TestingUint.class, List.of(A, B), (from, msg) -> seen.add(from + ":" + msg.getValue()));
    m.applyEvents(EventList.of(received(A, 1), received(EVIL, 2), received(B, 3)));
    assertThat(seen).containsExactly("a:1", "b:3");
    assertThat(m.droppedMessages()).isEqualTo(1);
  }

  @Test
  void keyedConditionRunsOnlyForMarkedKeysOncePerBatch() throws Exception {
    DslModule m = new DslModule(SELF);
    List<String> runs = new ArrayList<>();
    DslModule.KeyedCondition<Long> check = m.uponKeyedCondition((Long k) -> runs.add("k" + k));
    m.uponMessage(TestingUint.class, (from, msg) -> check.mark(msg.getValue()));
    m.uponCondition(() -> runs.add("plain"));

    m.applyEvents(EventList.of(received(A, 7), received(B, 3), received(B, 7)));
    assertThat(runs).containsExactly("k7", "k3", "plain");
    assertThat(check.pending()).isZero();

    runs.clear();
    m.applyEvents(EventList.empty());
    assertThat(runs).containsExactly("plain");
  }

  @Test
  void keyMarkedByALaterConditionWaitsForTheNextBatch() throws Exception {
    DslModule m = new DslModule(SELF);
    List<Long> runs = new ArrayList<>();
    DslModule.KeyedCondition<Long> check = m.uponKeyedCondition(runs::add);
    m.uponCondition(() -> check.mark(5L));
    m.applyEvents(EventList.empty());
    assertThat(runs).isEmpty();
    assertThat(check.pending()).isEqualTo(1);
    m.applyEvents(EventList.empty());
    assertThat(runs).containsExactly(5L);
  }

  @Test
  void aFailedBatchForgetsItsMarks() throws Exception {
    DslModule m = new DslModule(SELF);
    List<Long> runs = new ArrayList<>();
    DslModule.KeyedCondition<Long> check = m.uponKeyedCondition(runs::add);
    m.upon(
        TestingUint.class,
        u -> {
          check.mark(u.getValue());
          if (u.getValue() == 0) {
            throw new IllegalStateException("boom");
          }
        });
    assertThatThrownBy(() -> m.applyEvents(EventList.of(Events.testingUint(SELF, 0))))
        .hasMessage("boom");
    assertThat(check.pending()).isZero();
    m.applyEvents(EventList.of(Events.testingUint(SELF, 4)));
    assertThat(runs).containsExactly(4L);
  }

  @Test
  void shortSendMessageAddressesTheSameModuleThroughTheTransport() throws Exception {
    DslModule m = new DslModule(SELF, NET);
    m.uponInit(() -> m.sendMessage(TestingString.newBuilder().setValue("hi").build(), List.of(A)));
    EventList out = m.applyEvents(EventList.of(Events.init(SELF)));
    assertThat(out.size()).isEqualTo(1);
    Event e = out.iterator().next();
    assertThat(e.destination()).isEqualTo(NET);
    SendMessage send = (SendMessage) e.payload();
    assertThat(send.getMsg().getDestModule()).isEqualTo(SELF.value());
    assertThat(send.getDestinationsList()).containsExactly("a");
  }

  @Test
  void shortSendMessageNeedsATransport() {
    DslModule m = new DslModule(SELF);
    assertThatThrownBy(
            () -> m.sendMessage(TestingString.newBuilder().setValue("x").build(), List.of(A)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("no transport module ID");
  }
}
