package io.github.mirframework.examples.rbc;

import io.github.mirframework.net.Membership;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.net.grpc.GrpcTransport;
import io.github.mirframework.net.grpc.Security;
import io.github.mirframework.node.Node;
import io.github.mirframework.types.NodeId;
import java.io.IOException;
import java.util.Map;

/**
 * One node of a real deployment: {@link ReliableBroadcast} over the gRPC transport, as each process
 * of a cluster would start it. {@code ReliableBroadcastGrpcTest} runs the same modules over the
 * same transport (with {@code GrpcTransportProvider}, which does these steps for every node of a
 * test).
 */
public final class RbcGrpcNode {
  private RbcGrpcNode() {}

  /**
   * Starts node {@code self}: listens on its address in {@code addresses}, connects to every other
   * node (lazily, retrying until they are up) and starts the node. Close the returned node to stop
   * everything, the transport included.
   *
   * @param security how connections are secured: {@link Security#mutualTls} with the node's
   *     identity (e.g. {@code NodeIdentity.fromPemFiles}) and the peers' public keys in production
   * @throws IOException if the transport cannot listen
   */
  public static Node start(
      NodeId self,
      Map<NodeId, NodeAddress> addresses,
      Security security,
      ReliableBroadcast.Config config)
      throws IOException {
    GrpcTransport transport =
        GrpcTransport.builder(self, addresses.get(self)).security(security).build();
    transport.start();
    try {
      transport.connect(Membership.of(addresses));
      Node node = Node.builder(self).modules(RbcNode.modules(config, self, transport)).build();
      node.start();
      return node;
    } catch (RuntimeException e) {
      transport.stop();
      throw e;
    }
  }
}
