package io.github.mirframework.eventlog;

import static io.github.mirframework.eventlog.LogTestSupport.assertSameEvent;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.PayloadRegistry;
import io.github.mirframework.event.pb.TestingString;
import io.github.mirframework.event.pb.TestingUint;
import io.github.mirframework.eventlog.pb.LogHeader;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import io.github.mirframework.types.RetentionIndex;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecorderTest {
  private static final NodeId NODE = NodeId.of("0");
  private static final ModuleId A = ModuleId.of("a");
  private static final ModuleId NET = ModuleId.of("net");
  private static final ModuleId TIMER = ModuleId.of("timer");
  private static final ModuleId WAL = ModuleId.of("wal");

  @TempDir Path dir;

  private static List<Event> coreEventsWithFollowUps() {
    Event deepFollowUp = Events.walTruncate(WAL, RetentionIndex.of(3));
    return List.of(
        Events.init(A),
        Events.testingString(A, "hello")
            .withFollowUp(Events.testingUint(ModuleId.of("b/1"), 7).withFollowUp(deepFollowUp))
            .withFollowUp(Events.testingString(A, "second follow-up")),
        Events.sendMessage(
            NET,
            ModuleId.of("iss"),
            TestingString.newBuilder().setValue("msg").build(),
            NodeId.range(3)),
        Events.messageReceived(
            NodeId.of("2"), Events.netMessage(A, TestingUint.newBuilder().setValue(42).build())),
        Events.timerDelay(TIMER, List.of(Events.testingUint(A, 1)), Duration.ofMillis(5)),
        Events.walAppend(WAL, Events.testingString(A, "persist me"), RetentionIndex.of(2)));
  }

  @Test
  void roundTripPreservesEveryEventWithItsFollowUpsAndTheEntryMetadata() throws Exception {
    List<Event> events = coreEventsWithFollowUps();
    AtomicLong clock = new AtomicLong(1000);
    Recorder recorder = Recorder.builder(NODE, dir).timeSource(clock::incrementAndGet).build();
    recorder.intercept(A, EventList.of(events.subList(0, 2)));
    recorder.intercept(NET, EventList.of(events.subList(2, events.size())));
    recorder.close();

    // Without the application's classes: DynamicMessages with the same content.
    try (LogReader reader = LogReader.open(recorder.files())) {
      List<RecordedEntry> entries = reader.readAll();
      assertEquals(2, entries.size());
      assertEquals(new RecordedEntry(NODE, A, 1002, entries.get(0).events()), entries.get(0));
      assertEquals(NET, entries.get(1).moduleId());
      assertEquals(1003, entries.get(1).timeMs());
      List<RecordedEvent> read = new ArrayList<>(entries.get(0).events());
      read.addAll(entries.get(1).events());
      assertEquals(events.size(), read.size());
      for (int i = 0; i < events.size(); i++) {
        assertSameEvent(events.get(i), read.get(i));
      }
      String text = reader.format(entries.get(1));
      assertTrue(
          text.startsWith("time=1003 node=0 module=net events=4\n  net <- mir.core.SendMessage{"),
          text);
      assertTrue(
          text.contains("[type.googleapis.com/mir.core.TestingString] { value: \"msg\" }"),
          "Any fields are expanded: " + text);
      assertTrue(
          reader
              .format(read.get(1))
              .contains(" then [b/1 <- mir.core.TestingUint{value: 7} then ["));
    }

    // With a registry: the generated classes, equal to the originals.
    try (LogReader reader = LogReader.open(recorder.files(), PayloadRegistry.withCoreTypes())) {
      List<Event> read = new ArrayList<>();
      for (RecordedEntry entry : reader) {
        entry.events().forEach(e -> read.add(e.toEvent()));
      }
      assertEquals(events, read);
    }
  }

  @Test
  void typesInsideAnyFieldsOfCoreMessagesAreDescribedWhenKnown() throws Exception {
    LogHeader notAnEventPayload = LogHeader.newBuilder().setNodeId("7").build();
    Event send = Events.sendMessage(NET, A, notAnEventPayload, List.of(NodeId.of("1")));
    Event timer = Events.timerDelay(TIMER, List.of(send), Duration.ofSeconds(1));

    Path knownDir = dir.resolve("known");
    Recorder known =
        Recorder.builder(NODE, knownDir)
            .anyTypes(PayloadRegistry.withCoreTypes().register(notAnEventPayload))
            .build();
    known.intercept(TIMER, EventList.of(timer));
    known.close();
    try (LogReader reader = LogReader.open(known.files())) {
      RecordedEntry entry = reader.readAll().get(0);
      assertTrue(
          reader
              .format(entry)
              .contains("[type.googleapis.com/mir.core.LogHeader] { node_id: \"7\" }"),
          reader.format(entry));
    }

    Path unknownDir = dir.resolve("unknown");
    Recorder unknown = Recorder.builder(NODE, unknownDir).anyTypes(PayloadRegistry.empty()).build();
    unknown.intercept(TIMER, EventList.of(timer));
    unknown.close();
    try (LogReader reader = LogReader.open(unknown.files())) {
      RecordedEntry entry = reader.readAll().get(0);
      assertEquals(ModuleId.of("timer"), entry.events().get(0).destination());
      assertTrue(
          reader.format(entry).contains("type_url: \"type.googleapis.com/mir.core.LogHeader\""));
      assertEquals(null, reader.typeRegistry().find("mir.core.LogHeader"));
    }
  }

  @Test
  void concurrentInterceptsAreAllRecordedInEachCallersOrder() throws Exception {
    int threads = 4;
    int perThread = 300;
    Recorder recorder = Recorder.builder(NODE, dir).queueCapacity(3).build();
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> workers = new ArrayList<>();
    List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
    for (int t = 0; t < threads; t++) {
      ModuleId module = ModuleId.of("m" + t);
      Thread w =
          new Thread(
              () -> {
                try {
                  go.await();
                  for (int i = 0; i < perThread; i++) {
                    recorder.intercept(module, EventList.of(Events.testingUint(module, i)));
                  }
                } catch (Throwable e) {
                  errors.add(e);
                }
              });
      workers.add(w);
      w.start();
    }
    go.countDown();
    for (Thread w : workers) {
      w.join();
    }
    recorder.close();
    assertEquals(List.of(), errors);

    Map<ModuleId, List<Long>> seen = new HashMap<>();
    try (LogReader reader = LogReader.open(recorder.files(), PayloadRegistry.withCoreTypes())) {
      for (RecordedEntry e : reader) {
        assertEquals(1, e.events().size());
        TestingUint v = (TestingUint) e.events().get(0).payload();
        seen.computeIfAbsent(e.moduleId(), k -> new ArrayList<>()).add(v.getValue());
      }
    }
    assertEquals(threads, seen.size());
    List<Long> expected = new ArrayList<>();
    for (long i = 0; i < perThread; i++) {
      expected.add(i);
    }
    seen.forEach((module, values) -> assertEquals(expected, values, "entries of " + module));
  }

  @Test
  void rotationProducesSeveralFilesEachReadableAloneAndTogetherInOrder() throws Exception {
    Recorder recorder =
        Recorder.builder(NODE, dir).filePrefix("node0").rotateAfterBytes(1024).build();
    List<String> written = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      String value = "value number " + i + " with some padding to fill files";
      written.add(value);
      recorder.intercept(A, EventList.of(Events.testingString(A, value)));
    }
    recorder.close();

    List<Path> files = recorder.files();
    assertTrue(files.size() >= 3, "files: " + files);
    assertEquals(files, LogReader.seriesFiles(dir, "node0"));
    assertEquals(dir.resolve("node0-00000.gz"), files.get(0));
    assertEquals(dir.resolve("node0-00001.gz"), files.get(1));

    List<String> alone = new ArrayList<>();
    for (Path f : files) {
      try (LogReader reader = LogReader.open(f)) {
        List<RecordedEntry> entries = reader.readAll();
        assertFalse(entries.isEmpty(), f + " has entries");
        entries.forEach(e -> alone.add(stringValue(e)));
      }
    }
    assertEquals(written, alone);

    try (LogReader reader = LogReader.open(files)) {
      assertEquals(written, reader.readAll().stream().map(RecorderTest::stringValue).toList());
    }

    List<Path> gap = List.of(files.get(0), files.get(2));
    try (LogReader reader = LogReader.open(gap)) {
      LogReadException e = assertThrows(LogReadException.class, reader::readAll);
      assertEquals(files.get(2), e.file());
      assertTrue(e.getMessage().contains("out of order"), e.getMessage());
    }
  }

  @Test
  void aFileOfAnotherRecordingInTheSeriesIsRejected() throws Exception {
    Recorder first = Recorder.builder(NODE, dir.resolve("one")).rotateAfterBytes(1).build();
    Recorder second = Recorder.builder(NODE, dir.resolve("two")).rotateAfterBytes(1).build();
    for (Recorder r : List.of(first, second)) {
      r.intercept(A, EventList.of(Events.init(A)));
      r.intercept(A, EventList.of(Events.init(A)));
      r.close();
    }
    try (LogReader reader = LogReader.open(List.of(first.files().get(0), second.files().get(1)))) {
      LogReadException e = assertThrows(LogReadException.class, reader::readAll);
      assertTrue(e.getMessage().contains("another recording"), e.getMessage());
    }
  }

  @Test
  void closeIsIdempotentAndEndsTheWriterThread() throws Exception {
    Recorder recorder = Recorder.builder(NODE, dir).build();
    assertTrue(writerThreadAlive(), "the writer thread runs");
    recorder.intercept(A, EventList.of(Events.init(A)));
    recorder.close();
    recorder.close();
    assertFalse(writerThreadAlive(), "the writer thread is gone");
    assertThrows(
        IllegalStateException.class, () -> recorder.intercept(A, EventList.of(Events.init(A))));
    try (LogReader reader = LogReader.open(recorder.files())) {
      assertEquals(1, reader.readAll().size());
    }
  }

  @Test
  void aWriteErrorMakesTheNextInterceptAndEveryCloseThrow() throws Exception {
    // The second file cannot be created: a directory is in the way.
    Files.createDirectories(dir.resolve("eventlog-00001.gz"));
    Recorder recorder = Recorder.builder(NODE, dir).rotateAfterBytes(1).queueCapacity(4).build();
    IOException failure = null;
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (failure == null && System.nanoTime() < deadline) {
      try {
        recorder.intercept(A, EventList.of(Events.init(A)));
      } catch (IOException e) {
        failure = e;
      }
    }
    if (failure == null) {
      fail("intercept never reported the write error");
    }
    assertTrue(failure.getMessage().contains("eventlog-00001.gz"), failure.getMessage());
    assertInstanceOf(IOException.class, failure.getCause());

    IOException onClose = assertThrows(IOException.class, recorder::close);
    assertTrue(onClose.getMessage().contains("eventlog-00001.gz"), onClose.getMessage());
    assertThrows(IOException.class, recorder::close);
    assertFalse(writerThreadAlive());

    // What was written before the failure is intact.
    try (LogReader reader = LogReader.open(dir.resolve("eventlog-00000.gz"))) {
      assertEquals(1, reader.readAll().size());
    }
  }

  @Test
  void builderRejectsInvalidOptions() {
    Recorder.Builder b = Recorder.builder(NODE, dir);
    assertThrows(IllegalArgumentException.class, () -> b.queueCapacity(0));
    assertThrows(IllegalArgumentException.class, () -> b.rotateAfterBytes(0));
    assertThrows(IllegalArgumentException.class, () -> b.flushWhenIdle(java.time.Duration.ZERO));
    assertThrows(IllegalArgumentException.class, () -> b.compressionLevel(10));
    assertThrows(IllegalArgumentException.class, () -> b.filePrefix("a/b"));
    assertThrows(IllegalArgumentException.class, () -> b.filePrefix(""));
  }

  private static String stringValue(RecordedEntry e) {
    RecordedEvent ev = e.events().get(0);
    return (String)
        ev.payload().getField(ev.payload().getDescriptorForType().findFieldByName("value"));
  }

  private static boolean writerThreadAlive() {
    return Thread.getAllStackTraces().keySet().stream()
        .anyMatch(t -> t.getName().equals("mir-recorder-" + NODE) && t.isAlive());
  }
}
