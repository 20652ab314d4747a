package io.github.mirframework.timer;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The real-time {@link TimerScheduler}: one daemon thread named {@code mir-timer-<n>}, owned by a
 * {@link TimerModule}. After {@link #shutdown()} nothing runs any more and {@link #schedule}
 * returns a handle to a task that never runs.
 */
final class ThreadTimerScheduler implements TimerScheduler {
  private static final AtomicInteger INSTANCES = new AtomicInteger();

  private final long originNanos = System.nanoTime();
  private final ScheduledThreadPoolExecutor executor;
  private volatile Thread thread;

  ThreadTimerScheduler() {
    String name = "mir-timer-" + INSTANCES.incrementAndGet();
    // A task's exception is captured in its future, so the single worker lives until shutdown.
    executor =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, name);
              t.setDaemon(true);
              thread = t;
              return t;
            });
    executor.setRemoveOnCancelPolicy(true);
    executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    executor.setContinueExistingPeriodicTasksAfterShutdownPolicy(false);
    executor.prestartCoreThread();
  }

  @Override
  public Duration now() {
    return Duration.ofNanos(System.nanoTime() - originNanos);
  }

  @Override
  public Cancellable schedule(Duration delay, Runnable task) {
    Objects.requireNonNull(delay, "delay");
    Objects.requireNonNull(task, "task");
    if (delay.isNegative()) {
      throw new IllegalArgumentException("delay must not be negative: " + delay);
    }
    long nanos = saturatedNanos(delay);
    ScheduledFuture<?> f;
    try {
      f = executor.schedule(task, nanos, TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      return () -> {};
    }
    return () -> f.cancel(false);
  }

  /**
   * Stops the thread: pending tasks are dropped and a running task is interrupted. Waits up to
   * {@code timeout} for the thread to end (not at all when called from the scheduler's own thread).
   *
   * @return whether the thread has ended
   */
  boolean shutdown(Duration timeout) throws InterruptedException {
    executor.shutdownNow();
    Thread t = thread;
    if (t == null) {
      return true;
    }
    if (Thread.currentThread() == t) {
      return false;
    }
    // The pool reports termination slightly before its worker thread has died, so join the thread
    // itself.
    t.join(Math.max(1, timeout.toMillis()));
    return !t.isAlive();
  }

  private static long saturatedNanos(Duration d) {
    try {
      return d.toNanos();
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE;
    }
  }
}
