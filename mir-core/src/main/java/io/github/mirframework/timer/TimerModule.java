package io.github.mirframework.timer;

import io.github.mirframework.event.DecodeResult;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventCodec;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.pb.EventRecord;
import io.github.mirframework.event.pb.Init;
import io.github.mirframework.event.pb.TimerDelay;
import io.github.mirframework.event.pb.TimerGarbageCollect;
import io.github.mirframework.event.pb.TimerRepeat;
import io.github.mirframework.module.ActiveModule;
import io.github.mirframework.module.EventSink;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mir's timer: an active module that turns the passage of time into events, for timeouts and
 * periodic retries.
 *
 * <p>It accepts these events (anything else is an error that stops the node):
 *
 * <ul>
 *   <li>{@link TimerDelay}: emits the wrapped events once, after the delay.
 *   <li>{@link TimerRepeat}: emits the wrapped events at once and then every period, for as long as
 *       the request's retention index is at least the module's garbage-collection index.
 *   <li>{@link TimerGarbageCollect}: raises the garbage-collection index (a lower value than the
 *       current one has no effect) and cancels every repeating timer whose retention index is now
 *       below it.
 *   <li>{@code Init}: ignored.
 * </ul>
 *
 * <p>Wrapped events travel inside the requests as {@code EventRecord}s and are decoded with the
 * module's {@link EventCodec} when the request arrives; a record that does not decode is an error.
 * Retention indices are compared as unsigned 64-bit numbers, as in Mir.
 *
 * <p>Threads: emitting may block while the node pauses its input, so the module never emits from
 * the node's thread that calls {@link #applyEvents}; it emits from its scheduler's thread. By
 * default that is one daemon thread named {@code mir-timer-<n>}, created in {@link #start} and
 * ended (interrupted if blocked in {@code emit}, then awaited) in {@link #close}. With an injected
 * {@link TimerScheduler}, such as a {@link ManualScheduler}, events are emitted on whatever thread
 * runs the scheduler's tasks, and the scheduler is not the module's to shut down.
 *
 * <p>Once {@link #close()} has been called, or the sink has reported that the node stopped, no
 * further emission starts. The life-cycle methods follow {@link ActiveModule}: {@code start} once,
 * then {@code applyEvents} from one thread at a time, then {@code close}; {@code close} may be
 * called from any thread.
 */
public final class TimerModule implements ActiveModule {
  /** Never takes network input: received messages addressed here are dropped by the node. */
  @Override
  public boolean receivesMessages() {
    return false;
  }

  private static final Logger LOG = LoggerFactory.getLogger(TimerModule.class);
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

  private final EventCodec codec;
  private final TimerScheduler injectedScheduler;
  private final Object lifecycleLock = new Object();

  private volatile TimerScheduler scheduler;
  private volatile EventSink sink;
  private ThreadTimerScheduler ownedScheduler;
  private boolean started;
  private volatile boolean stopped;

  /** The garbage-collection index, an unsigned 64-bit number that only grows. */
  private final AtomicLong gcIndex = new AtomicLong();

  private final Set<Timer> delays = ConcurrentHashMap.newKeySet();
  private final Set<Timer> repeats = ConcurrentHashMap.newKeySet();

  /**
   * Returns a timer on its own real-time thread that decodes wrapped events with {@link
   * EventCodec#shared()}.
   */
  public TimerModule() {
    this(EventCodec.shared());
  }

  /** Returns a timer on its own real-time thread that decodes wrapped events with {@code codec}. */
  public TimerModule(EventCodec codec) {
    this.codec = Objects.requireNonNull(codec, "codec");
    this.injectedScheduler = null;
  }

  /**
   * Returns a timer driven by {@code scheduler} (for example a {@link ManualScheduler}), which the
   * module uses but does not shut down.
   */
  public TimerModule(EventCodec codec, TimerScheduler scheduler) {
    this.codec = Objects.requireNonNull(codec, "codec");
    this.injectedScheduler = Objects.requireNonNull(scheduler, "scheduler");
  }

  /**
   * Starts the module; timers fire into {@code sink} from now on. Starts the module's thread unless
   * a scheduler was injected.
   *
   * @throws IllegalStateException if the module was already started or closed
   */
  @Override
  public void start(EventSink sink) {
    Objects.requireNonNull(sink, "sink");
    synchronized (lifecycleLock) {
      if (stopped) {
        throw new IllegalStateException("timer module was closed");
      }
      if (started) {
        throw new IllegalStateException("timer module was already started");
      }
      started = true;
      this.sink = sink;
      if (injectedScheduler != null) {
        scheduler = injectedScheduler;
      } else {
        ownedScheduler = new ThreadTimerScheduler();
        scheduler = ownedScheduler;
      }
    }
  }

  /**
   * Sets up the timers the events ask for. Never blocks and never emits. Events arriving after
   * {@link #close()} are ignored.
   *
   * @throws IllegalArgumentException naming the event type if an event is not one the timer
   *     accepts, or naming the problem if a wrapped event does not decode or a duration is out of
   *     range; the node stops
   * @throws IllegalStateException if the module has not been started
   */
  @Override
  public void applyEvents(EventList events) {
    TimerScheduler s = scheduler;
    if (s == null) {
      throw new IllegalStateException("timer module has not been started");
    }
    for (Event event : events) {
      if (stopped) {
        return;
      }
      switch (event.payload()) {
        case Init init -> {}
        case TimerDelay d ->
            delay(s, decode("TimerDelay", d.getEventsList()), nanos("delay_ns", d.getDelayNs()));
        case TimerRepeat r ->
            repeat(s, decode("TimerRepeat", r.getEventsList()), period(r), r.getRetentionIndex());
        case TimerGarbageCollect gc -> garbageCollect(gc.getRetentionIndex());
        default ->
            throw new IllegalArgumentException(
                "timer module: unexpected event type "
                    + event.payload().getDescriptorForType().getFullName()
                    + " (for "
                    + event.destination()
                    + ")");
      }
    }
  }

  /**
   * Stops every timer. No emission starts after this call; if the module owns its thread, a blocked
   * emission is interrupted and the thread is awaited (for up to 30 seconds, then a warning is
   * logged). Idempotent; never throws.
   */
  @Override
  public void close() {
    ThreadTimerScheduler toShutDown;
    synchronized (lifecycleLock) {
      if (stopped && ownedScheduler == null) {
        return;
      }
      stopped = true;
      toShutDown = ownedScheduler;
      ownedScheduler = null;
    }
    cancelAll();
    if (toShutDown != null) {
      awaitShutdown(toShutDown);
    }
  }

  @Override
  public String toString() {
    return "TimerModule";
  }

  private static void awaitShutdown(ThreadTimerScheduler s) {
    boolean interrupted = false;
    try {
      while (true) {
        try {
          if (!s.shutdown(CLOSE_TIMEOUT)) {
            LOG.warn("timer thread did not end within {}", CLOSE_TIMEOUT);
          }
          return;
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private List<Event> decode(String requestType, List<EventRecord> records) {
    DecodeResult<EventList> r = codec.fromRecords(records);
    if (r instanceof DecodeResult.Error<EventList> err) {
      throw new IllegalArgumentException(
          "timer module: cannot decode the events of a " + requestType + ": " + err.reason());
    }
    return r.orElseThrow().toList();
  }

  private static Duration nanos(String field, long unsignedNanos) {
    if (unsignedNanos < 0) {
      throw new IllegalArgumentException(
          "timer module: " + field + " out of range: " + Long.toUnsignedString(unsignedNanos));
    }
    return Duration.ofNanos(unsignedNanos);
  }

  private static Duration period(TimerRepeat r) {
    Duration p = nanos("period_ns", r.getPeriodNs());
    if (p.isZero()) {
      throw new IllegalArgumentException(
          "timer module: TimerRepeat period_ns must be positive, got 0");
    }
    return p;
  }

  private void delay(TimerScheduler s, List<Event> events, Duration delay) {
    Timer t = new Timer(events, null, 0);
    delays.add(t);
    t.scheduleAt(s, s.now().plus(delay), delay);
  }

  private void repeat(TimerScheduler s, List<Event> events, Duration period, long retentionIndex) {
    if (Long.compareUnsigned(retentionIndex, gcIndex.get()) < 0) {
      return; // already garbage-collected: Mir's timer never fires such a request either
    }
    Timer t = new Timer(events, period, retentionIndex);
    repeats.add(t);
    t.scheduleAt(s, s.now(), Duration.ZERO);
  }

  private void garbageCollect(long retentionIndex) {
    long index =
        gcIndex.accumulateAndGet(retentionIndex, (a, b) -> Long.compareUnsigned(a, b) >= 0 ? a : b);
    for (Timer t : repeats) {
      if (t.isCollected(index)) {
        t.cancel();
      }
    }
  }

  private void cancelAll() {
    for (Timer t : delays) {
      t.cancel();
    }
    for (Timer t : repeats) {
      t.cancel();
    }
  }

  /** Hands a copy of {@code events} to the node; returns whether the timer should go on. */
  private boolean emit(List<Event> events) {
    if (stopped) {
      return false;
    }
    if (events.isEmpty()) {
      return true;
    }
    try {
      if (sink.emit(EventList.of(events))) {
        return true;
      }
      LOG.debug("node stopped; timer module stops emitting");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      LOG.debug("timer thread interrupted; timer module stops emitting");
    }
    stopped = true;
    cancelAll();
    return false;
  }

  /**
   * One delayed or repeating request. Runs on the scheduler's thread; cancelled from any thread.
   */
  private final class Timer implements Runnable {
    private final List<Event> events;
    private final Duration period; // null for a one-shot delay
    private final long retentionIndex; // only meaningful for repeats
    private Duration deadline;
    private TimerScheduler.Cancellable handle;
    private boolean cancelled;

    Timer(List<Event> events, Duration period, long retentionIndex) {
      this.events = events;
      this.period = period;
      this.retentionIndex = retentionIndex;
    }

    boolean isCollected(long gcIndex) {
      return Long.compareUnsigned(retentionIndex, gcIndex) < 0;
    }

    synchronized void scheduleAt(TimerScheduler s, Duration newDeadline, Duration delay) {
      if (cancelled) {
        return;
      }
      deadline = newDeadline;
      handle = s.schedule(delay, this);
    }

    void cancel() {
      TimerScheduler.Cancellable h;
      synchronized (this) {
        cancelled = true;
        h = handle;
        handle = null;
      }
      if (h != null) {
        h.cancel();
      }
      forget();
    }

    private synchronized boolean isCancelled() {
      return cancelled;
    }

    private void forget() {
      if (period == null) {
        delays.remove(this);
      } else {
        repeats.remove(this);
      }
    }

    @Override
    public void run() {
      if (isCancelled()) {
        return;
      }
      if (period == null) {
        forget();
        emit(events);
        return;
      }
      if (isCollected(gcIndex.get())) {
        cancel();
        return;
      }
      if (!emit(events)) {
        cancel();
        return;
      }
      // Stay on the grid start + k * period. Ticks missed while emission was blocked collapse into
      // one that fires
      // at once, like a Go ticker whose reader fell behind.
      TimerScheduler s = scheduler;
      Duration now = s.now();
      Duration next = deadline.plus(period);
      if (now.compareTo(next) >= 0) {
        long missed = now.minus(deadline).toNanos() / period.toNanos();
        next = deadline.plus(period.multipliedBy(missed));
      }
      Duration wait = next.compareTo(now) > 0 ? next.minus(now) : Duration.ZERO;
      scheduleAt(s, next, wait);
    }
  }
}
