package io.github.mirframework.metrics;

import io.github.mirframework.types.ModuleId;

/**
 * Where one node reports its measurements; implemented by a metrics binding. The node calls the
 * registration methods once, while it is being built, from the building thread.
 */
public interface NodeMetrics {

  /**
   * Registers a module and returns the recorder of its batches.
   *
   * @param module the module's top-level ID
   * @param gauges values of the module read on demand (thread-safe)
   * @return the recorder the node calls after each batch, from the module's worker thread; {@code
   *     null} to measure nothing about this module
   */
  ModuleMetrics module(ModuleId module, ModuleGauges gauges);

  /** Registers the node's own gauges (thread-safe, read on demand). */
  default void node(NodeGauges gauges) {}

  /**
   * Registers a module that reports transport counters (any module implementing {@link
   * TransportStats}).
   */
  default void transport(ModuleId module, TransportStats stats) {}
}
