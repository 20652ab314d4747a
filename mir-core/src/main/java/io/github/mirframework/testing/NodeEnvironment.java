package io.github.mirframework.testing;

import io.github.mirframework.module.Module;
import io.github.mirframework.module.Modules;
import io.github.mirframework.types.NodeId;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * What a {@link Deployment} offers the modules of one node, whatever the transport: the node's
 * transport and timer modules (simulated or real) and a seeded random source.
 */
public interface NodeEnvironment {

  /** The node being built. */
  NodeId nodeId();

  /** All nodes of the deployment, in declaration order. */
  List<NodeId> allNodes();

  /** The transport module to register (usually as {@code "net"}). */
  Module transport();

  /** The timer module to register (usually as {@code "timer"}). */
  Module timer();

  /** A random source for protocol code, derived from the deployment's seed and the node. */
  RandomGenerator random();

  /**
   * The write-ahead log module to register (usually as {@code "wal"}): the simulation's WAL, which
   * survives crashes, or the one given to {@link Deployment.Builder#wals}; by default a module that
   * ignores every event.
   */
  default Module wal() {
    return Modules.nullPassive();
  }
}
