package io.github.mirframework.sim;

import io.github.mirframework.metrics.NodeMetrics;
import io.github.mirframework.metrics.OrderingMetrics;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.types.NodeId;
import java.time.Duration;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * What the simulation offers the modules of one incarnation of a simulated node: a simulated
 * transport, timer and write-ahead log, the virtual clock and a seeded random source. Everything
 * here is deterministic given the simulation's seed.
 */
public interface SimEnvironment {

  /** The node being built. */
  NodeId nodeId();

  /** All nodes of the simulation, in the order they were declared. */
  List<NodeId> allNodes();

  /** How many times this node has been (re)started before; 0 for the first start. */
  int incarnation();

  /**
   * A simulated transport to register (usually as {@code "net"}): it turns {@code SendMessage}
   * events into {@code MessageReceived} events at the destinations, as the simulation's network
   * model decides.
   */
  PassiveModule transport();

  /**
   * A simulated timer to register (usually as {@code "timer"}): delays and repeats in virtual time.
   */
  PassiveModule timer();

  /**
   * This node's write-ahead log (register it, usually as {@code "wal"}). Its contents survive
   * crashes: when the node restarts, the simulation replays them before {@code Init}, as a real
   * node replays its WAL.
   */
  SimWal wal();

  /**
   * A random source for this node's protocol code, derived from the seed, the node and the
   * incarnation.
   */
  RandomGenerator random();

  /** The current virtual time since the start of the simulation. */
  Duration now();

  /**
   * The metrics binding of this node incarnation ({@code Simulation.Builder.metrics}), or {@code
   * null} without one. Default: none.
   */
  default NodeMetrics metrics() {
    return null;
  }

  /**
   * The binding's recorder of ordering progress for this node, timed with the virtual clock (pass
   * it to the protocol modules, e.g. {@code Trantor.modules}), or {@code null} without a binding.
   * Default: none.
   */
  default OrderingMetrics orderingMetrics() {
    return null;
  }
}
