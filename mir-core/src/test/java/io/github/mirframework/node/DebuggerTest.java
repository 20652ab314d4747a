package io.github.mirframework.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.pb.TestingString;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class DebuggerTest {
  private static final ModuleId PING = ModuleId.of("ping");
  private static final ModuleId LOG = ModuleId.of("log");

  /** Replies to each string s with "pong:s" for the log module, with a follow-up back to itself. */
  private static final PassiveModule PINGER =
      events -> {
        EventList out = EventList.empty();
        for (Event e : events) {
          if (e.is(TestingString.class)) {
            out.add(Events.testingString(LOG, "pong:" + e.payload(TestingString.class).getValue()));
          }
        }
        return out;
      };

  @Test
  void stepsOneEventAtATimeAndLetsTheCallerModifyWhatIsProduced() {
    List<String> logged = new ArrayList<>();
    PassiveModule log =
        events -> {
          events.forEach(e -> logged.add(e.payload(TestingString.class).getValue()));
          return EventList.empty();
        };
    Node node = Node.builder(NodeId.of("dbg")).module(PING, PINGER).module(LOG, log).build();
    try (Debugger dbg = node.debug()) {
      assertThat(NodeTest.liveThreadsOf(node.id())).as("debug mode starts no workers").isEmpty();
      assertThat(dbg.pending()).as("no Init in debug mode").isEmpty();
      assertThat(dbg.step()).isEmpty();

      dbg.inject(
          Events.testingString(PING, "a").withFollowUp(Events.testingString(LOG, "after-a")));
      dbg.inject(Events.testingString(PING, "b"));
      assertThat(dbg.pending()).hasSize(2);

      Debugger.Step s1 = dbg.step().orElseThrow();
      assertThat(s1.event().payload(TestingString.class).getValue()).isEqualTo("a");
      // Follow-ups come first, then the module's output.
      assertThat(s1.produced())
          .isEqualTo(
              EventList.of(
                  Events.testingString(LOG, "after-a"), Events.testingString(LOG, "pong:a")));
      assertThat(logged).as("produced events are not passed on by themselves").isEmpty();

      // Drop the follow-up, change the reply, and pass it on.
      dbg.inject(
          s1.produced().get(1).withPayload(TestingString.newBuilder().setValue("changed").build()));
      Debugger.Step s2 = dbg.step().orElseThrow();
      assertThat(s2.event().payload(TestingString.class).getValue()).isEqualTo("changed");
      assertThat(logged).containsExactly("changed");

      assertThat(dbg.runUntilIdle(100)).isEqualTo(2); // "b", then "pong:b"
      assertThat(logged).containsExactly("changed", "pong:b");
      assertThat(dbg.hasPending()).isFalse();
    }
    assertThat(node.isTerminated()).isTrue();
  }

  @Test
  void walEventsArePendingAndUnknownDestinationsAreRejected() {
    Node node =
        Node.builder(NodeId.of("dbg2"))
            .module(PING, PINGER)
            .module(LOG, events -> EventList.empty())
            .wal(() -> EventList.of(Events.testingString(PING, "from-wal")))
            .build();
    try (Debugger dbg = node.debug()) {
      assertThat(dbg.pending()).containsExactly(Events.testingString(PING, "from-wal"));
      assertThatThrownBy(() -> dbg.inject(Events.testingString(ModuleId.of("nope"), "x")))
          .isInstanceOf(UnknownDestinationException.class);
      assertThat(dbg.pending()).hasSize(1);
    }
  }

  @Test
  void failingModuleStopsTheDebuggedNode() {
    PassiveModule bad =
        events -> {
          throw new IllegalStateException("bad");
        };
    Node node = Node.builder(NodeId.of("dbg3")).module(PING, bad).build();
    try (Debugger dbg = node.debug()) {
      dbg.inject(Events.testingString(PING, "x"));
      assertThatThrownBy(dbg::step).isInstanceOf(ModuleFailedException.class);
      assertThatThrownBy(() -> dbg.inject(Events.testingString(PING, "y")))
          .isInstanceOf(NodeStoppedException.class);
      assertThat(node.failure()).isPresent();
    }
  }
}
