package io.github.mirframework.examples.rbc;

import io.github.mirframework.module.Module;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The modules of one node running {@link ReliableBroadcast}: the same function builds a node for
 * the simulation, for in-process tests and for a gRPC deployment; only the transport differs.
 */
public final class RbcNode {
  private RbcNode() {}

  /**
   * Returns the modules of node {@code self}: the transport as {@code config.net()}, the protocol
   * as {@code config.self()} and a {@link DeliveryLog} as {@code config.consumer()}.
   */
  public static Map<ModuleId, Module> modules(
      ReliableBroadcast.Config config, NodeId self, Module transport) {
    Map<ModuleId, Module> modules = new LinkedHashMap<>();
    modules.put(config.net(), transport);
    modules.put(config.self(), new ReliableBroadcast(config, self));
    modules.put(config.consumer(), new DeliveryLog(config.consumer()));
    return modules;
  }
}
