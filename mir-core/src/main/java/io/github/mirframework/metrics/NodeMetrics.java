package io.github.mirframework.metrics;

import io.github.mirframework.types.ModuleId;
import java.util.function.LongSupplier;

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

  /**
   * Returns the recorder of the node's ordering progress, for the protocol modules (e.g. {@code
   * TrantorSystem} passes it to ISS and the app module). Called by whoever builds the modules,
   * possibly more than once for one node (a simulated node that restarts): the recorders of one
   * node should add up.
   *
   * @param nanoClock the clock latencies are measured with, in nanoseconds ({@code
   *     System::nanoTime} for a real node, the virtual clock in a simulation)
   * @return the recorder, or {@code null} (the default) to measure nothing about ordering
   */
  default OrderingMetrics ordering(LongSupplier nanoClock) {
    return null;
  }
}
