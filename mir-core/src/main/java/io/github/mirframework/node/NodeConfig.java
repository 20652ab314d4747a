package io.github.mirframework.node;

import java.time.Duration;
import java.util.Objects;

/**
 * Tuning parameters of the node engine. Instances are validated on construction, so an invalid
 * configuration cannot exist; use {@link #defaults()} and the {@code withX} copies.
 *
 * @param maxEventBatchSize the most events handed to a module in one {@code applyEvents} call (at
 *     least 1)
 * @param pauseInputThreshold when more events than this are buffered in the node, active modules
 *     are paused
 * @param resumeInputThreshold paused active modules resume when at most this many events are
 *     buffered
 * @param stopGracePeriod how long {@link Node#stop()} lets a module finish the batch it is applying
 *     before it interrupts the module's thread (positive)
 * @param pauseInputBytes when the buffered events' payloads take more than this many bytes
 *     (protobuf serialized size), active modules are paused
 * @param resumeInputBytes paused active modules resume when the buffered payloads take at most this
 *     many bytes (and at most {@code resumeInputThreshold} events are buffered)
 * @param workerThreads {@code 0} (the default): one thread per module; more: the modules run on a
 *     pool of this many worker threads ({@code mir-<node>-worker-<k>}). Each module still processes
 *     one batch at a time and in order; a pool worker takes the next ready module round-robin.
 *     Fewer threads mean fewer thread hand-offs between modules, which pays off when many nodes
 *     share few cores (benchmarks, tests, several nodes per process); a module that blocks in
 *     {@code applyEvents} (which passive modules must not do) then stalls a pool worker
 */
public record NodeConfig(
    int maxEventBatchSize,
    int pauseInputThreshold,
    int resumeInputThreshold,
    Duration stopGracePeriod,
    long pauseInputBytes,
    long resumeInputBytes,
    int workerThreads) {

  /** The default byte pause threshold: 256 MiB. */
  public static final long DEFAULT_PAUSE_INPUT_BYTES = 256L << 20;

  /** The default byte resume threshold: 192 MiB. */
  public static final long DEFAULT_RESUME_INPUT_BYTES = 192L << 20;

  /** A configuration with one thread per module (the parameters of earlier versions). */
  public NodeConfig(
      int maxEventBatchSize,
      int pauseInputThreshold,
      int resumeInputThreshold,
      Duration stopGracePeriod,
      long pauseInputBytes,
      long resumeInputBytes) {
    this(
        maxEventBatchSize,
        pauseInputThreshold,
        resumeInputThreshold,
        stopGracePeriod,
        pauseInputBytes,
        resumeInputBytes,
        0);
  }

  /** A configuration with the default byte thresholds (the parameters of earlier versions). */
  public NodeConfig(
      int maxEventBatchSize,
      int pauseInputThreshold,
      int resumeInputThreshold,
      Duration stopGracePeriod) {
    this(
        maxEventBatchSize,
        pauseInputThreshold,
        resumeInputThreshold,
        stopGracePeriod,
        DEFAULT_PAUSE_INPUT_BYTES,
        DEFAULT_RESUME_INPUT_BYTES,
        0);
  }

  /** Mir's default batch size. */
  public static final int DEFAULT_MAX_EVENT_BATCH_SIZE = 512;

  /** Mir's default pause threshold. */
  public static final int DEFAULT_PAUSE_INPUT_THRESHOLD = 8192;

  /** Mir's default resume threshold. */
  public static final int DEFAULT_RESUME_INPUT_THRESHOLD = 6144;

  /** The default {@link #stopGracePeriod()}: 5 seconds. */
  public static final Duration DEFAULT_STOP_GRACE_PERIOD = Duration.ofSeconds(5);

  /** Validates the parameters; the message names the bad value. */
  public NodeConfig {
    Objects.requireNonNull(stopGracePeriod, "stopGracePeriod");
    if (stopGracePeriod.isNegative() || stopGracePeriod.isZero()) {
      throw new IllegalArgumentException(
          "stopGracePeriod must be positive, got " + stopGracePeriod);
    }
    if (maxEventBatchSize < 1) {
      throw new IllegalArgumentException(
          "maxEventBatchSize must be at least 1, got " + maxEventBatchSize);
    }
    if (pauseInputThreshold < 1) {
      throw new IllegalArgumentException(
          "pauseInputThreshold must be at least 1, got " + pauseInputThreshold);
    }
    if (resumeInputThreshold < 0) {
      throw new IllegalArgumentException(
          "resumeInputThreshold must not be negative, got " + resumeInputThreshold);
    }
    if (pauseInputThreshold < resumeInputThreshold) {
      throw new IllegalArgumentException(
          "pauseInputThreshold ("
              + pauseInputThreshold
              + ") must not be below resumeInputThreshold ("
              + resumeInputThreshold
              + ")");
    }
    if (pauseInputBytes < 1) {
      throw new IllegalArgumentException(
          "pauseInputBytes must be at least 1, got " + pauseInputBytes);
    }
    if (workerThreads < 0 || workerThreads > 1024) {
      throw new IllegalArgumentException(
          "workerThreads must be between 0 (one per module) and 1024, got " + workerThreads);
    }
    if (resumeInputBytes < 0 || resumeInputBytes > pauseInputBytes) {
      throw new IllegalArgumentException(
          "resumeInputBytes ("
              + resumeInputBytes
              + ") must be between 0 and pauseInputBytes ("
              + pauseInputBytes
              + ")");
    }
  }

  /**
   * Mir's defaults: batches of 512, pause above 8192 buffered events, resume at 6144; and a stop
   * grace period of 5 seconds; pause also above 256 MiB of buffered payloads, resume at 192 MiB.
   */
  public static NodeConfig defaults() {
    return new NodeConfig(
        DEFAULT_MAX_EVENT_BATCH_SIZE,
        DEFAULT_PAUSE_INPUT_THRESHOLD,
        DEFAULT_RESUME_INPUT_THRESHOLD,
        DEFAULT_STOP_GRACE_PERIOD);
  }

  /** Returns a copy with another batch size. */
  public NodeConfig withMaxEventBatchSize(int n) {
    return new NodeConfig(
        n,
        pauseInputThreshold,
        resumeInputThreshold,
        stopGracePeriod,
        pauseInputBytes,
        resumeInputBytes,
        workerThreads);
  }

  /** Returns a copy with other pause/resume thresholds. */
  public NodeConfig withInputThresholds(int pause, int resume) {
    return new NodeConfig(
        maxEventBatchSize,
        pause,
        resume,
        stopGracePeriod,
        pauseInputBytes,
        resumeInputBytes,
        workerThreads);
  }

  /** Returns a copy with other pause/resume thresholds in bytes of buffered payloads. */
  public NodeConfig withInputBytes(long pause, long resume) {
    return new NodeConfig(
        maxEventBatchSize,
        pauseInputThreshold,
        resumeInputThreshold,
        stopGracePeriod,
        pause,
        resume,
        workerThreads);
  }

  /** Returns a copy with another stop grace period. */
  public NodeConfig withStopGracePeriod(Duration period) {
    return new NodeConfig(
        maxEventBatchSize,
        pauseInputThreshold,
        resumeInputThreshold,
        period,
        pauseInputBytes,
        resumeInputBytes,
        workerThreads);
  }

  /** Returns a copy with another worker count ({@code 0}: one thread per module). */
  public NodeConfig withWorkerThreads(int threads) {
    return new NodeConfig(
        maxEventBatchSize,
        pauseInputThreshold,
        resumeInputThreshold,
        stopGracePeriod,
        pauseInputBytes,
        resumeInputBytes,
        threads);
  }
}
