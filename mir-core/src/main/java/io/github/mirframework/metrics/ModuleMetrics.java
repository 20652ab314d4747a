package io.github.mirframework.metrics;

/**
 * Records the batches one module applies. Called by the module's worker thread only (one batch at a
 * time), so an implementation needs no more thread-safety than its readers require; it must be
 * cheap and must not block.
 */
@FunctionalInterface
public interface ModuleMetrics {

  /**
   * A batch was applied.
   *
   * @param events the number of events in the batch
   * @param nanos the time spent in the module's {@code applyEvents}, in nanoseconds
   */
  void batchApplied(int events, long nanos);
}
