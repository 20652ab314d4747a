package io.github.mirframework.testing;

import io.github.mirframework.module.ActiveModule;
import io.github.mirframework.types.NodeId;
import java.util.List;

/**
 * Creates the real transports of a threaded {@link Deployment} (in-process, gRPC, ...).
 * Implementations are provided by the transport's Maven module.
 */
public interface TransportProvider extends AutoCloseable {

  /**
   * Prepares transports for the given nodes (e.g. binds ports). Called once before any {@link
   * #transport}.
   */
  void prepare(List<NodeId> nodes) throws Exception;

  /** The transport module of node {@code id}; the node owns and closes it. */
  ActiveModule transport(NodeId id);

  /** Releases whatever {@link #prepare} acquired that the nodes do not own. */
  @Override
  void close();
}
