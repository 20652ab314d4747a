package io.github.mirframework.sim;

import io.github.mirframework.module.Module;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.util.Map;

/**
 * Builds the modules of one simulated node, every time the node starts (initially and after each
 * restart). The modules are the real ones; only the environment-facing ones come from the {@link
 * SimEnvironment}: the transport, the timer and, for crash recovery, the write-ahead log, which
 * keeps its contents across restarts.
 */
@FunctionalInterface
public interface SimNodeFactory {

  /**
   * Returns the node's modules by top-level ID, in registration order. Active modules are not
   * allowed (they would need real threads): use {@link SimEnvironment#transport()} and {@link
   * SimEnvironment#timer()}.
   */
  Map<ModuleId, Module> create(NodeId id, SimEnvironment env);
}
