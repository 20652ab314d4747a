package io.github.mirframework.timer;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventCodec;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.pb.EventRecord;
import io.github.mirframework.event.pb.TimerDelay;
import io.github.mirframework.event.pb.TimerRepeat;
import io.github.mirframework.module.EventSink;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.RetentionIndex;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class TimerModuleTest {
  private static final ModuleId TIMER = ModuleId.of("timer");
  private static final ModuleId APP = ModuleId.of("app");

  private ManualScheduler clock;
  private RecordingSink sink;
  private TimerModule timer;

  /** What the timer emitted, with the virtual time of each emission. */
  private final class RecordingSink implements EventSink {
    final List<Duration> times = Collections.synchronizedList(new ArrayList<>());
    final List<EventList> lists = Collections.synchronizedList(new ArrayList<>());
    volatile boolean nodeRunning = true;

    @Override
    public boolean emit(EventList events) {
      if (!nodeRunning) {
        return false;
      }
      times.add(clock.now());
      lists.add(events);
      return true;
    }

    List<Event> events() {
      List<Event> all = new ArrayList<>();
      lists.forEach(l -> all.addAll(l.toList()));
      return all;
    }
  }

  @BeforeEach
  void setUp() {
    clock = new ManualScheduler();
    sink = new RecordingSink();
    timer = new TimerModule(EventCodec.shared(), clock);
    timer.start(sink);
  }

  @AfterEach
  void tearDown() {
    timer.close();
  }

  private static Event ping(String s) {
    return Events.testingString(APP, s);
  }

  private static Duration ms(long n) {
    return Duration.ofMillis(n);
  }

  private void apply(Event... events) {
    timer.applyEvents(EventList.of(events));
  }

  private static Event repeat(Event what, Duration period, long retentionIndex) {
    return Events.timerRepeat(TIMER, List.of(what), period, RetentionIndex.of(retentionIndex));
  }

  private static Event delay(Event what, Duration delay) {
    return Events.timerDelay(TIMER, List.of(what), delay);
  }

  private static Event gc(long retentionIndex) {
    return Events.timerGarbageCollect(TIMER, RetentionIndex.of(retentionIndex));
  }

  @Test
  void delayFiresOnceAtTheRightVirtualTimeAndNotBefore() {
    Event a = ping("a").withFollowUp(ping("a-next"));
    apply(delay(a, ms(100)));

    clock.advance(ms(99));
    assertEquals(List.of(), sink.events());

    clock.advance(ms(1));
    assertEquals(List.of(a), sink.events(), "wrapped event emitted verbatim, follow-ups included");
    assertEquals(List.of(ms(100)), sink.times);

    clock.advance(Duration.ofHours(1));
    assertEquals(1, sink.lists.size(), "a delay fires once");
    assertEquals(0, clock.pendingTasks());
  }

  @Test
  void neverEmitsInsideApplyEventsEvenWithZeroDelay() {
    apply(delay(ping("now"), Duration.ZERO), repeat(ping("r"), ms(10), 0));
    assertEquals(
        List.of(), sink.events(), "emitting belongs to the timer's thread, not the caller's");

    clock.runDueTasks();
    assertEquals(List.of(ping("now"), ping("r")), sink.events());
  }

  @Test
  void repeatFiresImmediatelyThenEveryPeriod() {
    apply(repeat(ping("r"), ms(10), 0));

    clock.runDueTasks();
    assertEquals(List.of(ms(0)), sink.times);

    clock.advance(ms(35));
    assertEquals(List.of(ms(0), ms(10), ms(20), ms(30)), sink.times);
    assertEquals(List.of(ping("r"), ping("r"), ping("r"), ping("r")), sink.events());
    assertNotSame(sink.lists.get(0), sink.lists.get(1), "each emission hands over a fresh list");

    clock.advance(ms(5));
    assertEquals(ms(40), sink.times.get(sink.times.size() - 1));
  }

  @Test
  void garbageCollectionStopsRepeatsBelowTheIndexAndKeepsTheOthers() {
    apply(
        repeat(ping("ri1"), ms(10), 1),
        repeat(ping("ri2"), ms(10), 2),
        repeat(ping("ri3"), ms(10), 3));
    clock.runDueTasks();
    assertEquals(List.of(ping("ri1"), ping("ri2"), ping("ri3")), sink.events());
    sink.lists.clear();

    apply(gc(2));
    assertEquals(2, clock.pendingTasks(), "the collected repeat's task is cancelled at once");

    clock.advance(ms(20));
    assertEquals(List.of(ping("ri2"), ping("ri3"), ping("ri2"), ping("ri3")), sink.events());
  }

  @Test
  void garbageCollectionIndexNeverDecreases() {
    apply(gc(5), gc(3));
    apply(repeat(ping("ri4"), ms(10), 4), repeat(ping("ri5"), ms(10), 5));

    clock.advance(ms(10));
    assertEquals(
        List.of(ping("ri5"), ping("ri5")), sink.events(), "index stayed at 5, so ri4 never fires");
  }

  @Test
  void garbageCollectionStopsARepeatBetweenTwoFirings() {
    apply(repeat(ping("r"), ms(10), 1));
    clock.advance(ms(10));
    assertEquals(List.of(ms(0), ms(10)), sink.times);

    apply(gc(2));
    clock.advance(ms(100));
    assertEquals(List.of(ms(0), ms(10)), sink.times);
  }

  @Test
  void garbageCollectionDoesNotAffectDelays() {
    apply(delay(ping("d"), ms(10)), gc(100));
    clock.advance(ms(10));
    assertEquals(List.of(ping("d")), sink.events());
  }

  @Test
  void severalTimersFireInDeadlineOrderAndTiesInRequestOrder() {
    apply(
        delay(ping("30"), ms(30)),
        delay(ping("10a"), ms(10)),
        delay(ping("20"), ms(20)),
        delay(ping("10b"), ms(10)),
        repeat(ping("r"), ms(15), 0));

    clock.advance(ms(30));
    assertEquals(
        List.of(ping("r"), ping("10a"), ping("10b"), ping("r"), ping("20"), ping("30"), ping("r")),
        sink.events());
    assertEquals(List.of(ms(0), ms(10), ms(10), ms(15), ms(20), ms(30), ms(30)), sink.times);
  }

  @Test
  void delaysRequestedLaterCountFromTheirOwnRequest() {
    clock.advance(ms(50));
    apply(delay(ping("d"), ms(10)));
    clock.advance(ms(9));
    assertEquals(List.of(), sink.events());
    clock.advance(ms(1));
    assertEquals(List.of(ms(60)), sink.times);
  }

  @Test
  void initIsIgnored() {
    apply(Events.init(TIMER));
    clock.advance(ms(100));
    assertEquals(List.of(), sink.events());
    assertEquals(0, clock.pendingTasks());
  }

  @Test
  void unknownEventTypeIsRejectedNamingTheType() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> apply(Events.testingUint(TIMER, 7)));
    assertTrue(e.getMessage().contains("mir.core.TestingUint"), e.getMessage());
  }

  @Test
  void undecodableWrappedEventIsRejected() {
    EventRecord bogus =
        EventRecord.newBuilder()
            .setDestination("app")
            .setPayload(
                Any.newBuilder()
                    .setTypeUrl("type.googleapis.com/no.such.Type")
                    .setValue(ByteString.copyFromUtf8("x")))
            .build();
    Event request = Event.of(TIMER, TimerDelay.newBuilder().addEvents(bogus).setDelayNs(1).build());

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> apply(request));
    assertTrue(e.getMessage().contains("no.such.Type"), e.getMessage());
  }

  @Test
  void zeroOrOutOfRangeDurationsAreRejected() {
    Event zeroPeriod = Event.of(TIMER, TimerRepeat.newBuilder().setPeriodNs(0).build());
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> apply(zeroPeriod));
    assertTrue(e.getMessage().contains("period_ns"), e.getMessage());

    Event hugeDelay = Event.of(TIMER, TimerDelay.newBuilder().setDelayNs(-1L).build());
    e = assertThrows(IllegalArgumentException.class, () -> apply(hugeDelay));
    assertTrue(e.getMessage().contains("18446744073709551615"), e.getMessage());
  }

  @Test
  void retentionIndicesCompareAsUnsigned() {
    long huge = -1L; // 2^64 - 1 in the protobuf's uint64
    Event request =
        Event.of(
            TIMER,
            TimerRepeat.newBuilder()
                .addAllEvents(EventCodec.toRecords(List.of(ping("r"))))
                .setPeriodNs(ms(10).toNanos())
                .setRetentionIndex(huge)
                .build());
    apply(request, gc(1_000_000));
    clock.advance(ms(10));
    assertEquals(2, sink.lists.size(), "2^64-1 is above any other index");
  }

  @Test
  void closeStopsEverything() {
    apply(delay(ping("d"), ms(10)), repeat(ping("r"), ms(10), 0));
    clock.runDueTasks();
    assertEquals(1, sink.lists.size());

    timer.close();
    assertEquals(0, clock.pendingTasks(), "close cancels every pending task");
    assertDoesNotThrow(() -> apply(delay(ping("late"), ms(1))), "events after close are ignored");
    clock.advance(Duration.ofHours(1));
    assertEquals(1, sink.lists.size(), "nothing is emitted after close");

    assertDoesNotThrow(timer::close, "close is idempotent");
    assertThrows(IllegalStateException.class, () -> timer.start(sink));
  }

  @Test
  void stopsEmittingOnceTheNodeHasStopped() {
    apply(repeat(ping("r"), ms(10), 0), delay(ping("d"), ms(50)));
    clock.runDueTasks();
    sink.nodeRunning = false;
    clock.advance(ms(10));
    assertEquals(0, clock.pendingTasks());
    clock.advance(ms(100));
    assertEquals(1, sink.lists.size());
  }

  @Test
  void applyEventsBeforeStartAndDoubleStartAreProgrammerErrors() {
    TimerModule fresh = new TimerModule(EventCodec.shared(), clock);
    assertThrows(IllegalStateException.class, () -> fresh.applyEvents(EventList.of(gc(1))));
    fresh.start(sink);
    assertThrows(IllegalStateException.class, () -> fresh.start(sink));
    fresh.close();
  }

  @Test
  void realSchedulerEmitsOnItsOwnDaemonThreadAndEndsItOnClose() throws InterruptedException {
    CountDownLatch delayed = new CountDownLatch(1);
    CountDownLatch repeated = new CountDownLatch(3);
    AtomicReference<Thread> emitter = new AtomicReference<>();
    EventSink realSink =
        events -> {
          emitter.set(Thread.currentThread());
          for (Event e : events) {
            if (e.equals(ping("d"))) {
              delayed.countDown();
            } else {
              repeated.countDown();
            }
          }
          return true;
        };

    TimerModule real = new TimerModule();
    try {
      real.start(realSink);
      real.applyEvents(EventList.of(delay(ping("d"), ms(20)), repeat(ping("r"), ms(5), 0)));

      assertTrue(delayed.await(30, TimeUnit.SECONDS), "delayed event within 30 s");
      assertTrue(repeated.await(30, TimeUnit.SECONDS), "three repetitions within 30 s");
    } finally {
      real.close();
    }

    Thread t = emitter.get();
    assertTrue(t.getName().startsWith("mir-timer-"), t.getName());
    assertTrue(t.isDaemon(), "timer thread is a daemon");
    assertFalse(t.isAlive(), "close() joined the timer thread");
    assertFalse(
        Thread.getAllStackTraces().keySet().stream()
            .anyMatch(th -> th.isAlive() && th.getName().startsWith("mir-timer")),
        "no mir-timer thread remains");
  }

  @Test
  void closeInterruptsAnEmissionBlockedOnBackPressure() throws InterruptedException {
    CountDownLatch blocked = new CountDownLatch(1);
    AtomicReference<Thread> emitter = new AtomicReference<>();
    EventSink stuckNode =
        events -> {
          emitter.set(Thread.currentThread());
          blocked.countDown();
          new CountDownLatch(1).await(); // the node never resumes its input
          return true;
        };
    TimerModule real = new TimerModule();
    real.start(stuckNode);
    real.applyEvents(EventList.of(delay(ping("d"), Duration.ZERO)));
    assertTrue(blocked.await(30, TimeUnit.SECONDS));

    real.close();
    assertFalse(emitter.get().isAlive(), "close() ended the blocked timer thread");
  }

  @Test
  void closeWithoutStartIsHarmless() {
    TimerModule never = new TimerModule();
    assertDoesNotThrow(never::close);
    assertThrows(IllegalStateException.class, () -> never.start(sink));
  }
}
