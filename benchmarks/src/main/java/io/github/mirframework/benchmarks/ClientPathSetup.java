package io.github.mirframework.benchmarks;

import com.google.protobuf.ByteString;
import io.github.mirframework.client.ClientRegistry;
import io.github.mirframework.client.MirClient;
import io.github.mirframework.client.RequestReceiver;
import io.github.mirframework.crypto.EncodedKeyPair;
import io.github.mirframework.crypto.InsecureKeys;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.net.grpc.NodeIdentity;
import io.github.mirframework.node.Node;
import io.github.mirframework.types.ClientId;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.time.Duration;
import java.util.Map;

/** Builds the client and receivers of {@link ClientPathBenchmark}. */
final class ClientPathSetup {
  private ClientPathSetup() {}

  static final ClientId CLIENT = ClientId.of("bench");

  static EncodedKeyPair clientKeys() {
    return InsecureKeys.keyPair(NodeId.of("client-bench"), 1);
  }

  static RequestReceiver receiver(
      Node node, ModuleId destination, NodeAddress address, NodeIdentity identity, boolean signed)
      throws Exception {
    RequestReceiver.Builder b =
        RequestReceiver.builder(node, destination, address)
            .tls(identity)
            .params(RequestReceiver.Params.defaults().withClientQuota(1e9, 1_000_000_000));
    if (signed) {
      b.clients(ClientRegistry.of(Map.of(CLIENT, clientKeys().publicKey())));
    } else {
      b.insecureUnauthenticatedClientsForTesting();
    }
    RequestReceiver rr = b.build();
    rr.start();
    return rr;
  }

  static MirClient client(
      ClientId id,
      Map<NodeId, NodeAddress> addrs,
      Map<NodeId, ByteString> keys,
      MirClient.Submission submission,
      boolean signed) {
    MirClient.Builder b =
        MirClient.builder(id)
            .nodes(addrs)
            .tls(keys)
            // The counting nodes do not reply: no resubmission during a run, only ingress is
            // measured.
            .params(
                MirClient.Params.defaults()
                    .withSubmission(submission)
                    .withMaxPending(1_000_000)
                    .withResubmission(
                        Duration.ofHours(1), Duration.ofHours(1), Duration.ofHours(2)));
    if (signed) {
      b.signingKey(clientKeys());
    } else {
      b.insecureUnsignedRequestsForTesting();
    }
    MirClient c = b.build();
    c.start();
    return c;
  }
}
