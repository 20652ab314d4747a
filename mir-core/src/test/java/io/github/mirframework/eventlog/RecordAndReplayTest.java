package io.github.mirframework.eventlog;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.PayloadRegistry;
import io.github.mirframework.event.pb.Init;
import io.github.mirframework.event.pb.TestingUint;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.node.Debugger;
import io.github.mirframework.node.Node;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run recorded by a {@link Recorder} can be replayed, event by event, into a node built from the
 * same modules in debug mode, reproducing the module's state and outputs (what mircat's debugger
 * does).
 */
class RecordAndReplayTest {
  private static final ModuleId ADDER = ModuleId.of("adder");
  private static final ModuleId SINK = ModuleId.of("sink");

  /** Keeps a running sum; reports every new sum to the sink. */
  static final class Adder implements PassiveModule {
    volatile long sum;
    final List<Long> reported = new ArrayList<>();

    @Override
    public EventList applyEvents(EventList events) {
      EventList out = EventList.empty();
      for (Event e : events) {
        if (e.payload() instanceof TestingUint u) {
          sum += u.getValue();
          out.add(Events.testingUint(SINK, sum));
        }
      }
      return out;
    }
  }

  @Test
  void replayingTheRecordedEventsOfAModuleReproducesItsState(@TempDir Path dir) throws Exception {
    Adder original = new Adder();
    try (Node node =
        Node.builder(NodeId.of("0"))
            .module(ADDER, original)
            .module(SINK, (PassiveModule) events -> EventList.empty())
            .interceptor(Recorder.builder(NodeId.of("0"), dir).build())
            .build()) {
      node.start();
      for (int i = 1; i <= 100; i++) {
        node.injectEvents(EventList.of(Events.testingUint(ADDER, i)));
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (original.sum != 5050 && System.nanoTime() < deadline) {
        LockSupport.parkNanos(1_000_000);
      }
    }
    assertThat(original.sum).isEqualTo(5050);

    // Replay what the adder processed (generated classes, since the registry knows them) into a
    // debug node.
    Adder replayed = new Adder();
    List<Long> outputs = new ArrayList<>();
    Node debugNode =
        Node.builder(NodeId.of("0"))
            .module(ADDER, replayed)
            .module(SINK, (PassiveModule) events -> EventList.empty())
            .build();
    try (LogReader reader =
            LogReader.open(
                LogReader.seriesFiles(dir, "eventlog"), PayloadRegistry.withCoreTypes());
        Debugger dbg = debugNode.debug()) {
      for (RecordedEntry entry : reader) {
        if (!entry.moduleId().equals(ADDER)) {
          continue;
        }
        for (RecordedEvent re : entry.events()) {
          Event e = re.toEvent();
          if (e.payload() instanceof Init) {
            continue;
          }
          dbg.inject(e);
          Debugger.Step step = dbg.step().orElseThrow();
          step.produced().forEach(p -> outputs.add(p.payload(TestingUint.class).getValue()));
        }
      }
    }
    assertThat(replayed.sum).isEqualTo(original.sum);
    List<Long> expected = new ArrayList<>();
    long s = 0;
    for (int i = 1; i <= 100; i++) {
      expected.add(s += i);
    }
    assertThat(outputs).isEqualTo(expected);
  }
}
