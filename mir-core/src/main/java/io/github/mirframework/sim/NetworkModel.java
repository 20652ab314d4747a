package io.github.mirframework.sim;

import java.time.Duration;
import java.util.Objects;

/**
 * How the simulated network treats messages between distinct nodes: each copy of a message is
 * delayed by a latency drawn uniformly from [{@code minLatency}, {@code maxLatency}] (so messages
 * are reordered), dropped with probability {@code dropRate} and duplicated with probability {@code
 * duplicateRate}. Messages a node sends to itself are delivered at once and never lost.
 *
 * @param minLatency smallest one-way latency
 * @param maxLatency largest one-way latency (at least {@code minLatency})
 * @param dropRate probability in [0, 1) that a message copy is lost
 * @param duplicateRate probability in [0, 1) that a message is delivered twice (with independent
 *     latencies)
 */
public record NetworkModel(
    Duration minLatency, Duration maxLatency, double dropRate, double duplicateRate) {

  /** Validates the parameters; messages name the bad value. */
  public NetworkModel {
    Objects.requireNonNull(minLatency, "minLatency");
    Objects.requireNonNull(maxLatency, "maxLatency");
    if (minLatency.isNegative()) {
      throw new IllegalArgumentException("minLatency must not be negative: " + minLatency);
    }
    if (maxLatency.compareTo(minLatency) < 0) {
      throw new IllegalArgumentException(
          "maxLatency (" + maxLatency + ") must not be below minLatency (" + minLatency + ")");
    }
    if (!(dropRate >= 0 && dropRate < 1)) {
      throw new IllegalArgumentException("dropRate must be in [0, 1), got " + dropRate);
    }
    if (!(duplicateRate >= 0 && duplicateRate < 1)) {
      throw new IllegalArgumentException("duplicateRate must be in [0, 1), got " + duplicateRate);
    }
  }

  /** Latency uniform in 0–10 ms (as Mir's simulated transport), no loss, no duplicates. */
  public static NetworkModel defaults() {
    return new NetworkModel(Duration.ZERO, Duration.ofMillis(10), 0, 0);
  }

  /** Returns a copy with another latency range. */
  public NetworkModel withLatency(Duration min, Duration max) {
    return new NetworkModel(min, max, dropRate, duplicateRate);
  }

  /** Returns a copy with another drop rate. */
  public NetworkModel withDropRate(double rate) {
    return new NetworkModel(minLatency, maxLatency, rate, duplicateRate);
  }

  /** Returns a copy with another duplicate rate. */
  public NetworkModel withDuplicateRate(double rate) {
    return new NetworkModel(minLatency, maxLatency, dropRate, rate);
  }
}
