package io.github.mirframework.crypto.internal;

import io.github.mirframework.crypto.Parallelism;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * Runs a batch of independent tasks {@code 0..n-1}, on the calling thread and, for large batches,
 * on helpers of a caller-owned executor.
 *
 * <p>The calling thread always takes part and keeps taking tasks until none is left, so the batch
 * finishes even when the executor is busy or refuses work; helpers that start late find nothing to
 * do and return at once. Tasks must write their results into per-index slots: the caller reads them
 * after {@link #run} returns (which happens-after every task). If tasks throw, the exception of the
 * lowest failing index is rethrown, so failures are reported deterministically regardless of
 * scheduling.
 */
public final class ParallelBatch {
  private ParallelBatch() {}

  /**
   * Runs {@code task.accept(i)} once for every {@code i} in {@code [0, n)} and returns when all
   * have finished.
   *
   * @throws RuntimeException or {@link Error} thrown by the task with the lowest failing index
   */
  public static void run(int n, IntConsumer task, Parallelism parallelism) {
    if (n <= 0) {
      return;
    }
    int helpers = Math.min(parallelism.threads(), n) - 1;
    if (helpers <= 0 || n < parallelism.minBatchSize()) {
      for (int i = 0; i < n; i++) {
        task.accept(i);
      }
      return;
    }
    Batch batch = new Batch(n, task);
    for (int h = 0; h < helpers; h++) {
      try {
        parallelism.executor().execute(batch::drain);
      } catch (RejectedExecutionException e) {
        break; // the calling thread does the rest
      }
    }
    batch.drain();
    batch.awaitAndRethrow();
  }

  private static final class Batch {
    private final int n;
    private final IntConsumer task;
    private final AtomicInteger next = new AtomicInteger();
    private final CountDownLatch done;
    private final Throwable[] failures;

    Batch(int n, IntConsumer task) {
      this.n = n;
      this.task = task;
      this.done = new CountDownLatch(n);
      this.failures = new Throwable[n];
    }

    void drain() {
      for (int i = next.getAndIncrement(); i < n; i = next.getAndIncrement()) {
        try {
          task.accept(i);
        } catch (Throwable t) {
          failures[i] = t;
        } finally {
          done.countDown();
        }
      }
    }

    void awaitAndRethrow() {
      boolean interrupted = false;
      while (true) {
        try {
          done.await();
          break;
        } catch (InterruptedException e) {
          // The remaining tasks are already running on helpers; finish waiting, then restore the
          // flag.
          interrupted = true;
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
      for (Throwable t : failures) {
        if (t instanceof RuntimeException re) {
          throw re;
        }
        if (t instanceof Error err) {
          throw err;
        }
        if (t != null) {
          throw new IllegalStateException(t);
        }
      }
    }
  }
}
