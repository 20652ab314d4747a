package io.github.mirframework.timer;

import java.time.Duration;
import java.util.Comparator;
import java.util.Objects;
import java.util.Optional;
import java.util.PriorityQueue;

/**
 * A {@link TimerScheduler} with virtual time, for tests and deterministic simulations: time stands
 * still until {@link #advance(Duration)} moves it, and due tasks then run on the thread that called
 * {@code advance}.
 *
 * <p>Tasks run in deadline order; tasks with the same deadline run in the order they were
 * scheduled. A task that schedules another task due within the same {@code advance} window sees it
 * run in that window too, so a repeating timer fires as many times as it would in real time.
 *
 * <p>Thread-safety: {@link #schedule}, {@link #now} and {@link #pendingTasks} may be called from
 * any thread. {@link #advance} runs tasks without holding any lock, so tasks may schedule and
 * cancel freely; it must not be called from inside a task or by two threads at once (it throws
 * {@link IllegalStateException} if it is).
 */
public final class ManualScheduler implements TimerScheduler {
  private static final Comparator<Task> ORDER =
      Comparator.comparing((Task t) -> t.deadline).thenComparingLong(t -> t.seq);

  private final PriorityQueue<Task> queue = new PriorityQueue<>(ORDER);
  private Duration now = Duration.ZERO;
  private long nextSeq;
  private Thread advancing;

  /** Returns a scheduler whose virtual time starts at zero. */
  public ManualScheduler() {}

  /**
   * The virtual time: the total of all {@link #advance} calls so far, or the deadline of the task
   * now running.
   */
  @Override
  public synchronized Duration now() {
    return now;
  }

  /**
   * Schedules {@code task} to run when virtual time reaches {@code now() + delay}. A zero delay
   * makes it run at the next {@link #advance} call (which may be {@code advance(Duration.ZERO)}),
   * never inside this call.
   */
  @Override
  public synchronized Cancellable schedule(Duration delay, Runnable task) {
    Objects.requireNonNull(delay, "delay");
    Objects.requireNonNull(task, "task");
    if (delay.isNegative()) {
      throw new IllegalArgumentException("delay must not be negative: " + delay);
    }
    Task t = new Task(now.plus(delay), nextSeq++, task);
    queue.add(t);
    return () -> cancel(t);
  }

  private synchronized void cancel(Task t) {
    queue.remove(t);
  }

  /**
   * Moves virtual time forward by {@code duration}, running every task that falls due on the way,
   * including tasks scheduled by those tasks. While a task runs, {@link #now()} is its deadline;
   * afterwards it is the old time plus {@code duration}. Blocks for as long as the tasks take (a
   * task that blocks blocks this call).
   *
   * <p>If a task throws, the exception propagates from this call: virtual time stays at that task's
   * deadline and the remaining tasks stay scheduled.
   *
   * @throws IllegalArgumentException if {@code duration} is negative
   * @throws IllegalStateException if called from inside a task or while another thread is advancing
   */
  public void advance(Duration duration) {
    Objects.requireNonNull(duration, "duration");
    if (duration.isNegative()) {
      throw new IllegalArgumentException("cannot move time backwards: " + duration);
    }
    Duration target;
    synchronized (this) {
      if (advancing != null) {
        throw new IllegalStateException(
            "advance() called while "
                + advancing.getName()
                + " is already advancing this scheduler");
      }
      advancing = Thread.currentThread();
      target = now.plus(duration);
    }
    try {
      while (true) {
        Task due;
        synchronized (this) {
          Task first = queue.peek();
          if (first == null || first.deadline.compareTo(target) > 0) {
            now = target;
            return;
          }
          due = queue.poll();
          now = due.deadline;
        }
        due.action.run();
      }
    } finally {
      synchronized (this) {
        advancing = null;
      }
    }
  }

  /** Runs the tasks due now without moving time; the same as {@code advance(Duration.ZERO)}. */
  public void runDueTasks() {
    advance(Duration.ZERO);
  }

  /** The number of tasks scheduled and neither run nor cancelled yet. */
  public synchronized int pendingTasks() {
    return queue.size();
  }

  /** The deadline of the earliest pending task, if any. */
  public synchronized Optional<Duration> nextDeadline() {
    Task first = queue.peek();
    return first == null ? Optional.empty() : Optional.of(first.deadline);
  }

  @Override
  public synchronized String toString() {
    return "ManualScheduler{now=" + now + ", pending=" + queue.size() + "}";
  }

  private static final class Task {
    final Duration deadline;
    final long seq;
    final Runnable action;

    Task(Duration deadline, long seq, Runnable action) {
      this.deadline = deadline;
      this.seq = seq;
      this.action = action;
    }
  }
}
