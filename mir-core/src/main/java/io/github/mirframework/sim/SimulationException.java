package io.github.mirframework.sim;

import io.github.mirframework.node.ModuleFailedException;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.util.Optional;

/**
 * A simulation run failed. The message names the node, the module and the reason where they are
 * known, the virtual time, and the seed that reproduces the run, e.g. {@code node 2, module 'rbc'
 * failed at virtual time PT0.0153S: IllegalStateException: two values delivered [reproduce with
 * seed 7]}.
 */
public final class SimulationException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final long seed;
  private final transient NodeId nodeId;
  private final transient ModuleId moduleId;

  SimulationException(long seed, String message, Throwable cause) {
    this(seed, null, null, message, cause);
  }

  private SimulationException(
      long seed, NodeId nodeId, ModuleId moduleId, String message, Throwable cause) {
    super(message + " [reproduce with seed " + seed + "]", cause);
    this.seed = seed;
    this.nodeId = nodeId;
    this.moduleId = moduleId;
  }

  /**
   * The failure of node {@code node} at virtual time {@code at}: names the module if the cause is a
   * {@link ModuleFailedException}, and the root reason.
   */
  static SimulationException nodeFailed(long seed, NodeId node, Object at, Throwable cause) {
    ModuleId module = null;
    Throwable reason = cause;
    if (cause instanceof ModuleFailedException mf) {
      module = mf.moduleId();
      reason = mf.getCause() == null ? mf : mf.getCause();
    }
    StringBuilder msg = new StringBuilder("node ").append(node);
    if (module != null) {
      msg.append(", module '").append(module).append('\'');
    }
    msg.append(" failed at virtual time ").append(at).append(": ").append(describe(reason));
    return new SimulationException(seed, node, module, msg.toString(), cause);
  }

  private static String describe(Throwable t) {
    String m = t.getMessage();
    return t.getClass().getSimpleName() + (m == null ? "" : ": " + m);
  }

  /** The seed of the failed run. */
  public long seed() {
    return seed;
  }

  /** The node that failed, if the failure is a node's. */
  public Optional<NodeId> nodeId() {
    return Optional.ofNullable(nodeId);
  }

  /** The module that failed, if a module threw. */
  public Optional<ModuleId> moduleId() {
    return Optional.ofNullable(moduleId);
  }
}
