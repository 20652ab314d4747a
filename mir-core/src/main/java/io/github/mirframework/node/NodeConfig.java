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
 */
public record NodeConfig(
    int maxEventBatchSize,
    int pauseInputThreshold,
    int resumeInputThreshold,
    Duration stopGracePeriod) {

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
  }

  /**
   * Mir's defaults: batches of 512, pause above 8192 buffered events, resume at 6144; and a stop
   * grace period of 5 seconds.
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
    return new NodeConfig(n, pauseInputThreshold, resumeInputThreshold, stopGracePeriod);
  }

  /** Returns a copy with other pause/resume thresholds. */
  public NodeConfig withInputThresholds(int pause, int resume) {
    return new NodeConfig(maxEventBatchSize, pause, resume, stopGracePeriod);
  }

  /** Returns a copy with another stop grace period. */
  public NodeConfig withStopGracePeriod(Duration period) {
    return new NodeConfig(maxEventBatchSize, pauseInputThreshold, resumeInputThreshold, period);
  }
}
