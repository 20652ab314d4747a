package io.github.mirframework.eventlog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.PayloadRegistry;
import io.github.mirframework.event.pb.TestingString;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.node.Node;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecorderWithNodeTest {
  private static final NodeId NODE = NodeId.of("0");
  private static final ModuleId A = ModuleId.of("a");

  @TempDir Path dir;

  @Test
  void everyEventANodeProcessesIsRecordedOnceWithoutFollowUps() throws Exception {
    Event ping =
        Events.testingString(A, "ping")
            .withFollowUp(Events.testingUint(A, 1).withFollowUp(Events.testingUint(A, 2)));
    Event pong = Events.testingString(A, "pong");
    List<Event> processedStripped =
        List.of(
            Events.init(A),
            ping.stripped(),
            Events.testingUint(A, 1),
            Events.testingUint(A, 2),
            pong);

    CountDownLatch allProcessed = new CountDownLatch(processedStripped.size());
    PassiveModule answerPing =
        events -> {
          EventList out = EventList.empty();
          for (Event e : events) {
            allProcessed.countDown();
            if (e.payload() instanceof TestingString s && s.getValue().equals("ping")) {
              out.add(pong);
            }
          }
          return out;
        };
    Recorder recorder = Recorder.builder(NODE, dir).build();
    Node node = Node.builder(NODE).module("a", answerPing).interceptor(recorder).build();
    node.start();
    node.injectEvents(EventList.of(ping));
    assertTrue(allProcessed.await(30, TimeUnit.SECONDS), "the node processed every event");
    node.stop();

    Map<Event, Integer> recorded = new HashMap<>();
    List<RecordedEntry> entries;
    try (LogReader reader = LogReader.open(recorder.files(), PayloadRegistry.withCoreTypes())) {
      entries = reader.readAll();
    }
    for (RecordedEntry entry : entries) {
      assertEquals(NODE, entry.nodeId());
      assertEquals(A, entry.moduleId());
      for (RecordedEvent e : entry.events()) {
        assertEquals(List.of(), e.followUps());
        recorded.merge(e.toEvent(), 1, Integer::sum);
      }
    }
    Map<Event, Integer> expected = new HashMap<>();
    processedStripped.forEach(e -> expected.merge(e, 1, Integer::sum));
    assertEquals(expected, recorded, "entries: " + new ArrayList<>(entries));
  }
}
