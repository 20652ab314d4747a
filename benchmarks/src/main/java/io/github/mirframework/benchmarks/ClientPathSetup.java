package io.github.mirframework.benchmarks;

import com.google.protobuf.ByteString;
import io.github.mirframework.client.MirClient;
import io.github.mirframework.client.RequestReceiver;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.net.grpc.NodeIdentity;
import io.github.mirframework.node.Node;
import io.github.mirframework.types.ClientId;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.util.Map;

/** Builds the client and receivers of {@link ClientPathBenchmark}. */
final class ClientPathSetup {
  private ClientPathSetup() {}

  static RequestReceiver receiver(
      Node node, ModuleId destination, NodeAddress address, NodeIdentity identity)
      throws Exception {
    RequestReceiver rr =
        RequestReceiver.builder(node, destination, address)
            .tls(identity)
            .insecureUnauthenticatedClientsForTesting()
            .build();
    rr.start();
    return rr;
  }

  static MirClient client(
      ClientId id, Map<NodeId, NodeAddress> addrs, Map<NodeId, ByteString> keys) {
    MirClient c =
        MirClient.builder(id).nodes(addrs).tls(keys).insecureUnsignedRequestsForTesting().build();
    c.start();
    return c;
  }
}
