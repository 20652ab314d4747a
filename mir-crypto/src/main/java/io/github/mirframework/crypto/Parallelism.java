package io.github.mirframework.crypto;

import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;

/**
 * How the crypto modules may spread a batch of independent operations (signature checks, signing,
 * share verification) over several threads.
 *
 * <p>The modules never start threads themselves: helpers come from {@code executor}, which the
 * caller owns (and shuts down). The thread that calls the module always does part of the work and
 * never waits for a helper that has not started, so a busy or shut-down executor only makes a batch
 * slower, never stuck. Results do not depend on the number of threads: outputs keep the input order
 * and are the same as in a sequential run.
 *
 * @param executor where helper tasks run
 * @param threads the most threads to use for one batch, the calling thread included; 1 means
 *     sequential
 * @param minBatchSize batches with fewer operations run sequentially on the calling thread
 */
public record Parallelism(Executor executor, int threads, int minBatchSize) {
  /**
   * The default {@link #minBatchSize}: below it, handing work to other threads costs more than it
   * saves.
   */
  public static final int DEFAULT_MIN_BATCH_SIZE = 8;

  private static final Parallelism SEQUENTIAL =
      new Parallelism(Runnable::run, 1, Integer.MAX_VALUE);

  /** Validates the parameters. */
  public Parallelism {
    Objects.requireNonNull(executor, "executor");
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1, got " + threads);
    }
    if (minBatchSize < 1) {
      throw new IllegalArgumentException("minBatchSize must be at least 1, got " + minBatchSize);
    }
  }

  /** Everything runs on the calling thread. */
  public static Parallelism sequential() {
    return SEQUENTIAL;
  }

  /**
   * Uses the JVM's common fork-join pool: as many threads as its parallelism plus the calling
   * thread (2 on a two-core machine). The common pool is shared with the rest of the JVM (parallel
   * streams, {@code CompletableFuture} defaults); use {@link #using} with an own pool to isolate
   * crypto work.
   */
  public static Parallelism commonPool() {
    return new Parallelism(
        ForkJoinPool.commonPool(),
        ForkJoinPool.getCommonPoolParallelism() + 1,
        DEFAULT_MIN_BATCH_SIZE);
  }

  /**
   * Uses {@code executor} for up to {@code threads - 1} helpers besides the calling thread.
   *
   * @param executor a pool the caller owns
   * @param threads the most threads per batch, the calling thread included
   */
  public static Parallelism using(Executor executor, int threads) {
    return new Parallelism(executor, threads, DEFAULT_MIN_BATCH_SIZE);
  }

  /** Returns a copy with another {@link #minBatchSize}. */
  public Parallelism withMinBatchSize(int newMinBatchSize) {
    return new Parallelism(executor, threads, newMinBatchSize);
  }
}
