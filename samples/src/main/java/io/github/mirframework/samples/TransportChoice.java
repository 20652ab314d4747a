package io.github.mirframework.samples;

import io.github.mirframework.net.grpc.GrpcTransportProvider;
import io.github.mirframework.net.inprocess.InProcessNetwork;
import io.github.mirframework.testing.TransportProvider;
import io.github.mirframework.types.NodeId;
import java.util.List;

/** How the nodes of a sample are connected. */
public enum TransportChoice {
  /**
   * gRPC on 127.0.0.1 (ports chosen by the OS) with mutual TLS and per-node certificates from
   * pseudo keys.
   */
  GRPC,
  /** gRPC on 127.0.0.1 without TLS. */
  GRPC_PLAINTEXT,
  /** In-process transport (no network). */
  INPROCESS;

  /**
   * Creates and prepares the transports of the given nodes; the caller closes the provider after
   * the nodes.
   */
  public TransportProvider open(List<NodeId> nodes) throws Exception {
    TransportProvider p =
        switch (this) {
          case GRPC -> GrpcTransportProvider.insecureMutualTls(12345);
          case GRPC_PLAINTEXT -> GrpcTransportProvider.plaintext();
          case INPROCESS -> {
            InProcessNetwork net = new InProcessNetwork(nodes);
            yield new TransportProvider() {
              @Override
              public void prepare(List<NodeId> ids) {}

              @Override
              public io.github.mirframework.module.ActiveModule transport(NodeId id) {
                return net.transport(id);
              }

              @Override
              public void close() {}
            };
          }
        };
    p.prepare(nodes);
    return p;
  }
}
