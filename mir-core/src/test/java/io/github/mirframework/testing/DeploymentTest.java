package io.github.mirframework.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Message;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.NetMessages;
import io.github.mirframework.event.pb.Init;
import io.github.mirframework.event.pb.MessageReceived;
import io.github.mirframework.event.pb.TestingString;
import io.github.mirframework.eventlog.LogReader;
import io.github.mirframework.eventlog.RecordedEntry;
import io.github.mirframework.eventlog.Recorder;
import io.github.mirframework.module.Module;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class DeploymentTest {
  static final ModuleId NET = ModuleId.of("net");
  static final ModuleId TIMER = ModuleId.of("timer");
  static final ModuleId HELLO = ModuleId.of("hello");
  static final ModuleId APP = ModuleId.of("app");

  /** Says hello to every node at Init, forwards what it hears to the app, and sets a timer. */
  static final class Hello implements PassiveModule {
    @Override
    public boolean receivesMessages() {
      return true;
    }

    final NodeId self;
    final List<NodeId> all;

    Hello(NodeId self, List<NodeId> all) {
      this.self = self;
      this.all = all;
    }

    @Override
    public EventList applyEvents(EventList events) {
      EventList out = EventList.empty();
      for (Event e : events) {
        switch (e.payload()) {
          case Init i -> {
            out.add(
                Events.sendMessage(
                    NET,
                    HELLO,
                    TestingString.newBuilder().setValue("hi from " + self).build(),
                    all));
            out.add(
                Events.timerDelay(
                    TIMER,
                    List.of(Events.testingString(APP, "timer fired")),
                    Duration.ofMillis(50)));
          }
          case MessageReceived m ->
              NetMessages.unpack(m.getMsg(), TestingString.class)
                  .ifPresent(
                      s -> out.add(Events.testingString(APP, m.getFrom() + ": " + s.getValue())));
          default -> throw new IllegalArgumentException(e.typeName());
        }
      }
      return out;
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = Deployment.Kind.class,
      names = {"SIMULATED", "IN_PROCESS"})
  void everyNodeHearsEveryNodeAndItsTimer(Deployment.Kind kind) throws Exception {
    try (Deployment d =
        Deployment.builder(kind)
            .seed(17)
            .nodes(4)
            .factory(
                (id, env) -> {
                  Map<ModuleId, Module> m = new LinkedHashMap<>();
                  m.put(NET, env.transport());
                  m.put(TIMER, env.timer());
                  m.put(HELLO, new Hello(id, env.allNodes()));
                  m.put(APP, new FakeApp());
                  return m;
                })
            .build()) {
      boolean done =
          d.runUntil(
              () ->
                  d.nodeIds().stream()
                      .allMatch(id -> d.module(id, APP, FakeApp.class).deliveredCount() == 5),
              Duration.ofSeconds(20));
      assertThat(done).as("all deliveries within the deadline (seed %d)", d.seed()).isTrue();
      for (NodeId id : d.nodeIds()) {
        Set<String> got = new TreeSet<>();
        for (Message m : d.module(id, APP, FakeApp.class).delivered()) {
          got.add(((TestingString) m).getValue());
        }
        assertThat(got)
            .containsExactlyInAnyOrder(
                "0: hi from 0", "1: hi from 1", "2: hi from 2", "3: hi from 3", "timer fired");
      }
      assertThat(d.failures()).isEmpty();
    }
    List<String> leftovers =
        Thread.getAllStackTraces().keySet().stream()
            .filter(Thread::isAlive)
            .map(Thread::getName)
            .filter(n -> n.startsWith("mir-inproc-") || n.matches("mir-[0-3]-.*"))
            .toList();
    assertThat(leftovers).as("threads left after close()").isEmpty();
  }

  /**
   * A node held back by startLater hears nobody before it starts; every start of a node is recorded
   * in its own directory, readable once the deployment is closed.
   */
  @ParameterizedTest
  @EnumSource(
      value = Deployment.Kind.class,
      names = {"SIMULATED", "IN_PROCESS"})
  void recordsEveryStartOfEveryNodeAndStartsHeldBackNodesOnRequest(
      Deployment.Kind kind, @TempDir Path dir) throws Exception {
    NodeId late = NodeId.of("3");
    Map<NodeId, List<Path>> logs;
    try (Deployment d =
        Deployment.builder(kind)
            .seed(5)
            .nodes(NodeId.range(4))
            .recordEventsTo(dir)
            .startLater(late)
            .factory(
                (id, env) -> {
                  Map<ModuleId, Module> m = new LinkedHashMap<>();
                  m.put(NET, env.transport());
                  m.put(TIMER, env.timer());
                  m.put(HELLO, new Hello(id, env.allNodes()));
                  m.put(APP, new FakeApp());
                  m.put(ModuleId.of("wal"), env.wal());
                  return m;
                })
            .build()) {
      assertThat(
              d.runUntil(
                  () -> d.module(NodeId.of("0"), APP, FakeApp.class).deliveredCount() == 4,
                  Duration.ofSeconds(20)))
          .isTrue();
      d.start(late);
      // It hears itself, its timer, and the others' hellos only if they were kept for it.
      assertThat(
              d.runUntil(
                  () ->
                      d.module(late, APP, FakeApp.class).deliveredCount() >= 2
                          && d.module(NodeId.of("0"), APP, FakeApp.class).deliveredCount() == 5,
                  Duration.ofSeconds(20)))
          .isTrue();
      assertThatThrownBy(() -> d.start(late)).isInstanceOf(IllegalStateException.class);
      if (kind == Deployment.Kind.SIMULATED) {
        d.simulation().orElseThrow().crash(late);
        d.simulation().orElseThrow().restart(late);
        d.simulation().orElseThrow().runFor(Duration.ofMillis(100));
      }
      logs = d.logDirectories();
    }
    int lateStarts = kind == Deployment.Kind.SIMULATED ? 2 : 1;
    assertThat(logs.get(late)).hasSize(lateStarts);
    assertThat(logs.get(NodeId.of("0"))).containsExactly(dir.resolve("0").resolve("run-000"));
    for (Path run : logs.get(late)) {
      boolean sawInit = false;
      try (LogReader r = LogReader.open(LogReader.seriesFiles(run, Recorder.DEFAULT_FILE_PREFIX))) {
        for (RecordedEntry e : r) {
          assertThat(e.nodeId()).isEqualTo(late);
          sawInit |= e.events().stream().anyMatch(ev -> ev.typeName().equals("mir.core.Init"));
        }
      }
      assertThat(sawInit).as("Init recorded in %s", run).isTrue();
    }
  }
}
