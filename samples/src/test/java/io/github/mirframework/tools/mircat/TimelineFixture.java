package io.github.mirframework.tools.mircat;

import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.pb.NetMessage;
import io.github.mirframework.eventlog.Recorder;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A known small run of two nodes: node 0 sends two messages to node 1 (one with a payload holding
 * "</script>", which must not break the page) and node 1 receives them plus one message never sent;
 * node 1 also records a string event. So: 2 lanes, 6 events, 2 arrows.
 */
final class TimelineFixture {
  static final ModuleId NET = ModuleId.of("net");
  static final ModuleId APP = ModuleId.of("app");

  private TimelineFixture() {}

  static List<Path> record(Path dir) throws Exception {
    NetMessage m1 = Events.netMessage(APP, Events.testingString(APP, "hello").payload());
    NetMessage m2 =
        Events.netMessage(APP, Events.testingString(APP, "</script><b>x</b>").payload());
    NetMessage never = Events.netMessage(APP, Events.testingUint(APP, 7).payload());
    AtomicLong clock0 = new AtomicLong(10_000);
    AtomicLong clock1 = new AtomicLong(10_000);
    Path d0 = dir.resolve("node-0");
    Path d1 = dir.resolve("node-1");
    try (Recorder r0 =
            Recorder.builder(NodeId.of("0"), d0).timeSource(clock0::incrementAndGet).build();
        Recorder r1 =
            Recorder.builder(NodeId.of("1"), d1).timeSource(() -> clock1.addAndGet(5)).build()) {
      r0.intercept(NET, EventList.of(Events.sendMessage(NET, m1, List.of(NodeId.of("1")))));
      r0.intercept(NET, EventList.of(Events.sendMessage(NET, m2, List.of(NodeId.of("1")))));
      r1.intercept(APP, EventList.of(Events.messageReceived(NodeId.of("0"), m1)));
      r1.intercept(
          APP,
          EventList.of(
              Events.messageReceived(NodeId.of("0"), m2),
              Events.messageReceived(NodeId.of("0"), never)));
      r1.intercept(APP, EventList.of(Events.testingString(APP, "done")));
    }
    return List.of(d0, d1);
  }
}
