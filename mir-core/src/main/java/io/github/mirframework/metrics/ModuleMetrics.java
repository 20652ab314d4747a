package io.github.mirframework.metrics;

import com.google.protobuf.Descriptors.Descriptor;

/**
 * Records the batches one module applies. Called by the module's worker thread only (one batch at a
 * time), so an implementation needs no more thread-safety than its readers require; it must be
 * cheap and must not block.
 */
@FunctionalInterface
public interface ModuleMetrics {

  /** The value of {@code nanos} in {@link #batchApplied} for a batch that was not timed. */
  long NOT_TIMED = -1;

  /**
   * Whether the batch about to be applied is to be timed. Reading the clock twice per batch costs
   * more than the engine's own work on small batches, so a binding may time only a sample of the
   * batches (default: every batch).
   *
   * @param events the number of events in the batch
   */
  default boolean timeBatch(int events) {
    return true;
  }

  /**
   * Whether the module's applied events are to be counted by payload type ({@link #eventApplied}),
   * e.g. to see epochs ({@code mir.iss.NewEpoch}) or delivered certificates ({@code
   * mir.iss.DeliverCert}) go by. Default: no, since it costs a call per event.
   */
  default boolean countsEventTypes() {
    return false;
  }

  /**
   * An event of this payload type was applied (only if {@link #countsEventTypes()}); called before
   * {@link #batchApplied} for each event of the batch.
   */
  default void eventApplied(Descriptor payloadType) {}

  /**
   * A batch was applied.
   *
   * @param events the number of events in the batch
   * @param nanos the time spent in the module's {@code applyEvents}, in nanoseconds, or {@link
   *     #NOT_TIMED}
   */
  void batchApplied(int events, long nanos);
}
