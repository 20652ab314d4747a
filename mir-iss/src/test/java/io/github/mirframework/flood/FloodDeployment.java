package io.github.mirframework.flood;

import com.google.protobuf.ByteString;
import io.github.mirframework.client.ClientRegistry;
import io.github.mirframework.client.MirClient;
import io.github.mirframework.crypto.EcdsaCrypto;
import io.github.mirframework.crypto.EncodedKeyPair;
import io.github.mirframework.crypto.InsecureKeys;
import io.github.mirframework.mempool.SimpleMempool;
import io.github.mirframework.net.Membership;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.net.grpc.GrpcTransport;
import io.github.mirframework.net.grpc.NodeIdentity;
import io.github.mirframework.net.grpc.Security;
import io.github.mirframework.node.NodeConfig;
import io.github.mirframework.trantor.AppLogic;
import io.github.mirframework.trantor.Trantor;
import io.github.mirframework.trantor.TrantorSystem;
import io.github.mirframework.types.ClientId;
import io.github.mirframework.types.NodeId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Four Trantor replicas ({@link TrantorSystem}) in this JVM, as an operator would run them: ECDSA
 * node keys, gRPC between them with mutual TLS, a TLS client port each that accepts only the
 * registered clients' signed requests, all on free loopback ports; and signed {@link MirClient}s
 * that submit requests to every replica. Keys derive from a seed ({@link InsecureKeys}), so an
 * attacker in the test can hold a member's key (a Byzantine member). Everything is stopped by
 * {@link #close()}.
 */
final class FloodDeployment implements AutoCloseable {
  static final List<NodeId> NODES = NodeId.range(4);
  static final long SEED = 4242;

  /**
   * Whether the replicas keep the default buffer sizes ({@code -Dmir.flood.defaultBuffers=true}),
   * which assume a heap of a gigabyte or more per replica: 64 MiB of received messages in the
   * transport and 256 MiB of event payloads in the node.
   */
  static final boolean DEFAULT_BUFFERS = Boolean.getBoolean("mir.flood.defaultBuffers");

  /**
   * Unless {@link #DEFAULT_BUFFERS}, the replicas' buffers are sized for four of them in one 256
   * MiB heap: 32 MiB of received messages (8 MiB per peer), and input paused above 32 MiB of
   * buffered payloads.
   */
  static final GrpcTransport.Params TRANSPORT_PARAMS =
      DEFAULT_BUFFERS
          ? GrpcTransport.Params.defaults()
          : GrpcTransport.Params.defaults().withInboxBytes(32L << 20, 8L << 20);

  static final NodeConfig NODE_CONFIG =
      DEFAULT_BUFFERS
          ? NodeConfig.defaults()
          : NodeConfig.defaults().withInputBytes(32L << 20, 24L << 20);

  final Map<NodeId, NodeIdentity> identities = new LinkedHashMap<>();
  final Map<NodeId, ByteString> nodeKeys = new LinkedHashMap<>();
  final Map<NodeId, GrpcTransport> transports = new LinkedHashMap<>();
  final Map<NodeId, TrantorSystem> systems = new LinkedHashMap<>();
  final Map<NodeId, FloodApp> apps = new LinkedHashMap<>();
  final Map<NodeId, SimpleMempool> mempools = new LinkedHashMap<>();
  final Map<ClientId, EncodedKeyPair> clientKeys = new LinkedHashMap<>();
  final List<MirClient> clients = new ArrayList<>();
  final ClientRegistry registry;
  Load load;

  /**
   * Starts the replicas and connects {@code clientCount} clients to them.
   *
   * @param proposalPeriod ISS's proposal period (its timeouts scale with it)
   */
  FloodDeployment(int clientCount, Duration proposalPeriod) throws Exception {
    try {
      for (int i = 0; i < clientCount; i++) {
        ClientId c = ClientId.of("client-" + i);
        clientKeys.put(c, InsecureKeys.keyPair(NodeId.of("flood-client-" + i), SEED));
      }
      Map<ClientId, ByteString> registered = new LinkedHashMap<>();
      clientKeys.forEach((c, k) -> registered.put(c, k.publicKey()));
      registry = ClientRegistry.of(registered);

      Map<NodeId, NodeAddress> addresses = new LinkedHashMap<>();
      for (NodeId id : NODES) {
        identities.put(id, NodeIdentity.insecureForTesting(id, SEED));
        nodeKeys.put(id, identities.get(id).publicKey());
      }
      for (NodeId id : NODES) {
        GrpcTransport t =
            GrpcTransport.builder(id, NodeAddress.loopback(0))
                .security(Security.mutualTls(identities.get(id), nodeKeys))
                .params(TRANSPORT_PARAMS)
                .build();
        transports.put(id, t);
        t.start();
        addresses.put(id, t.listenAddress());
      }
      Membership membership = Membership.of(addresses);
      // Batches of up to 256 requests (Mir's default of 10 orders only about 40 requests/s here).
      Trantor.Params params =
          Trantor.Params.defaults(membership)
              .adjustSpeed(proposalPeriod)
              .withMempool(SimpleMempool.Params.defaults().withMaxTransactionsInBatch(256));
      for (NodeId id : NODES) {
        EcdsaCrypto crypto =
            EcdsaCrypto.fromPrivateKey(InsecureKeys.keyPair(id, SEED).privateKey());
        for (NodeId other : NODES) {
          crypto.registerNodeKey(other, nodeKeys.get(other));
        }
        FloodApp app = new FloodApp();
        apps.put(id, app);
        // The mempool Trantor would create, kept here for its counters.
        SimpleMempool mempool =
            new SimpleMempool(SimpleMempool.Config.defaults(), params.mempool());
        mempools.put(id, mempool);
        systems.put(
            id,
            TrantorSystem.builder(id, AppLogic.fromStatic(app, membership), params)
                .crypto(crypto)
                .transport(transports.get(id))
                .requestReceiver(NodeAddress.loopback(0), identities.get(id))
                .clients(registry)
                .module(SimpleMempool.DEFAULT_ID, mempool)
                .nodeConfig(NODE_CONFIG)
                .build());
      }
      for (TrantorSystem s : systems.values()) {
        s.start();
      }
      Map<NodeId, NodeAddress> receivers = new LinkedHashMap<>();
      systems.forEach((id, s) -> receivers.put(id, s.clientAddress().orElseThrow()));
      for (Map.Entry<ClientId, EncodedKeyPair> e : clientKeys.entrySet()) {
        MirClient c =
            MirClient.builder(e.getKey())
                .nodes(receivers)
                .tls(nodeKeys)
                .signingKey(e.getValue())
                .build();
        clients.add(c);
        c.start();
      }
    } catch (Exception | Error e) {
      close();
      throw e;
    }
  }

  /** Starts submitting {@code rate} requests per second. */
  Load startLoad(double rate) {
    load = new Load(clients, rate);
    load.start();
    return load;
  }

  TrantorSystem system(NodeId id) {
    return systems.get(id);
  }

  NodeAddress transportAddress(NodeId id) {
    return transports.get(id).listenAddress();
  }

  NodeAddress clientAddress(NodeId id) {
    return systems.get(id).clientAddress().orElseThrow();
  }

  /** Requests applied by {@code id} so far. */
  long applied(NodeId id) {
    return apps.get(id).count();
  }

  /** The counters of clients and receivers, for failure messages. */
  String diagnostics() {
    StringBuilder b = new StringBuilder();
    for (MirClient c : clients) {
      b.append(
          String.format(
              "%n  %s: next=%d pending=%d resubmitted=%d rejected=%d givenUp=%d timedOut=%d"
                  + " streamsEnded=%d connected=%s",
              c.id(),
              c.nextRequestNumber(),
              c.pendingCount(),
              c.resubmittedCount(),
              c.rejectedCount(),
              c.givenUpCount(),
              c.timedOutCount(),
              c.streamsEndedCount(),
              NODES.stream().filter(c::isConnected).toList()));
    }
    systems.forEach(
        (id, s) ->
            s.requestReceiver()
                .ifPresent(
                    r ->
                        b.append(
                            String.format(
                                "%n  receiver %s: accepted=%d rejected=%d throttled=%d"
                                    + " repliesSent=%d repliesDropped=%d conns=%d applied=%d"
                                    + " buffered=%d mempool epoch %d %s",
                                id,
                                r.acceptedCount(),
                                r.rejectedCount(),
                                r.throttledCount(),
                                r.repliesSentCount(),
                                r.repliesDroppedCount(),
                                r.openConnections(),
                                applied(id),
                                s.node().bufferedEvents(),
                                mempools.get(id).epoch(),
                                mempools.get(id).stats()))));
    return b.toString();
  }

  /** Throws if a replica failed. */
  void checkNoFailure() {
    systems.forEach(
        (id, s) ->
            s.failure()
                .ifPresent(
                    f -> {
                      throw new AssertionError("node " + id + " failed: " + f, f);
                    }));
  }

  @Override
  public void close() {
    if (load != null) {
      load.stop();
    }
    for (MirClient c : clients) {
      c.close();
    }
    for (TrantorSystem s : systems.values()) {
      s.close();
    }
    for (GrpcTransport t : transports.values()) {
      t.stop(); // those whose system was never built
    }
  }
}
