package io.github.mirframework.timer;

import java.time.Duration;

/**
 * The source of time for a {@link TimerModule}: runs tasks after a delay on a thread of its own.
 *
 * <p>Two implementations exist: the module's default one, backed by a single daemon thread that the
 * module owns, and {@link ManualScheduler}, whose virtual time moves only when a test (or a
 * simulation) advances it.
 *
 * <p>Contract for implementations:
 *
 * <ul>
 *   <li>{@link #schedule} and {@link #now} are thread-safe and never block for long.
 *   <li>A task never runs inside the {@code schedule} call that submitted it, not even with a zero
 *       delay.
 *   <li>Tasks never run concurrently with each other, and a task may block (for example on
 *       back-pressure) without harming the scheduler other than delaying its later tasks.
 *   <li>Tasks due at the same time run in the order they were scheduled.
 * </ul>
 */
public interface TimerScheduler {

  /**
   * The current time of this scheduler, measured from an arbitrary fixed origin. Never decreases.
   * Thread-safe.
   */
  Duration now();

  /**
   * Arranges for {@code task} to run once, {@code delay} after {@link #now()}. Thread-safe and
   * non-blocking.
   *
   * @param delay how long to wait; zero means "as soon as possible", but never inside this call
   * @param task what to run on the scheduler's thread
   * @return a handle that cancels the task if it has not started yet
   * @throws IllegalArgumentException if {@code delay} is negative
   */
  Cancellable schedule(Duration delay, Runnable task);

  /** A handle to a scheduled task. */
  @FunctionalInterface
  interface Cancellable {
    /**
     * Prevents the task from running if it has not started yet; no effect otherwise. Idempotent and
     * thread-safe; never waits for a running task to finish.
     */
    void cancel();
  }
}
