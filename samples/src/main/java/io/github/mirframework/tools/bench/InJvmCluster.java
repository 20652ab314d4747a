package io.github.mirframework.tools.bench;

import com.google.protobuf.ByteString;
import io.github.mirframework.client.ClientEvents;
import io.github.mirframework.client.RequestReceiver;
import io.github.mirframework.crypto.InsecureKeys;
import io.github.mirframework.event.EventList;
import io.github.mirframework.mempool.SimpleMempool;
import io.github.mirframework.net.Membership;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.net.grpc.NodeIdentity;
import io.github.mirframework.net.inprocess.InProcessNetwork;
import io.github.mirframework.node.Node;
import io.github.mirframework.types.ClientId;
import io.github.mirframework.types.NodeId;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * All replicas in this JVM, connected by the in-process transport; clients reach them through their
 * request receivers on 127.0.0.1 (gRPC, TLS optional) or by direct injection.
 */
final class InJvmCluster implements Cluster {
  /** Messages an in-process inbox holds before dropping: generous, so that no load drops any. */
  static final int INBOX_CAPACITY = 1 << 20;

  private final BenchParams params;
  private final List<Node> nodes = new ArrayList<>();
  private final List<RequestReceiver> receivers = new ArrayList<>();
  private Submitter submitter;

  /** Builds and starts the replicas; node 0 reports applied requests to {@code observer}. */
  InJvmCluster(BenchParams params, AppliedListener observer) throws IOException {
    this.params = params;
    List<NodeId> ids = NodeId.range(params.nodes());
    InProcessNetwork net = new InProcessNetwork(ids, INBOX_CAPACITY);
    Map<NodeId, NodeAddress> addresses = new LinkedHashMap<>();
    for (int i = 0; i < ids.size(); i++) {
      // Addresses are not used by the in-process transport; ISS only needs the IDs.
      addresses.put(ids.get(i), NodeAddress.of("127.0.0.1", 1 + i));
    }
    Membership membership = Membership.of(addresses);
    try {
      for (NodeId id : ids) {
        BenchApp app = new BenchApp(id.equals(ids.get(0)) ? observer : null);
        nodes.add(Replicas.build(id, net.transport(id), membership, app, params));
      }
      nodes.forEach(Node::start);
      if (params.submit() == BenchParams.SubmitPath.GRPC) {
        for (Node n : nodes) {
          RequestReceiver.Builder b =
              RequestReceiver.builder(n, SimpleMempool.DEFAULT_ID, NodeAddress.of("127.0.0.1", 0))
                  // Measures ordering with unsigned requests (signatures are measured separately:
                  // ClientPathBenchmark).
                  .insecureUnauthenticatedClientsForTesting()
                  .streamsPerConnection(GrpcSubmitter.STREAMS_PER_CONNECTION);
          if (params.tls()) {
            b.tls(NodeIdentity.insecureForTesting(n.id(), params.keySeed()));
          } else {
            b.plaintext();
          }
          RequestReceiver rr = b.build();
          receivers.add(rr);
          rr.start();
        }
      }
    } catch (IOException | RuntimeException e) {
      close();
      throw e;
    }
  }

  @Override
  public synchronized Submitter submitter() {
    if (submitter == null) {
      if (params.submit() == BenchParams.SubmitPath.DIRECT) {
        submitter = new DirectSubmitter(nodes);
      } else {
        Map<NodeId, NodeAddress> rr = new LinkedHashMap<>();
        Map<NodeId, ByteString> keys = new LinkedHashMap<>();
        for (int i = 0; i < nodes.size(); i++) {
          NodeId id = nodes.get(i).id();
          rr.put(id, receivers.get(i).listenAddress());
          keys.put(id, InsecureKeys.publicKey(id, params.keySeed()));
        }
        submitter =
            new GrpcSubmitter(
                rr, params.tls() ? keys : null, params.clients(), params.sharedConnections());
      }
    }
    return submitter;
  }

  @Override
  public Usage usage() {
    return new Usage(JvmUsage.processCpuNanos(), 0, JvmUsage.gcMillis(), JvmUsage.heapUsed());
  }

  @Override
  public long heapAfterGc() {
    return JvmUsage.heapAfterGc();
  }

  @Override
  public boolean cpuIncludesClients() {
    return true;
  }

  @Override
  public synchronized void close() {
    if (submitter != null) {
      submitter.close();
    }
    receivers.forEach(RequestReceiver::stop);
    nodes.forEach(Node::stop);
  }

  /** Injects each request into the mempool of every node, as a client sending to all would. */
  private static final class DirectSubmitter implements Submitter {
    private final List<Node> nodes;

    DirectSubmitter(List<Node> nodes) {
      this.nodes = List.copyOf(nodes);
    }

    @Override
    public void submit(int client, long reqNo, ByteString data) {
      var request = ClientEvents.request(ClientId.of(BenchApp.clientId(client)), reqNo, data);
      for (Node n : nodes) {
        n.injectEvents(
            EventList.of(ClientEvents.newRequests(SimpleMempool.DEFAULT_ID, List.of(request))));
      }
    }

    @Override
    public void close() {}
  }
}
