package io.github.mirframework.net.grpc;

import io.github.mirframework.event.Events;
import io.github.mirframework.event.pb.NetMessage;
import io.github.mirframework.event.pb.TestingString;
import io.github.mirframework.net.Membership;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** A few gRPC transports on 127.0.0.1 with free ports, each with a {@link CollectingSink}. */
final class TestCluster implements AutoCloseable {
  static final ModuleId APP = ModuleId.of("app");
  static final long SEED = 42;

  enum Mode {
    PLAINTEXT,
    MUTUAL_TLS
  }

  final Mode mode;
  final List<NodeId> ids;
  final Map<NodeId, GrpcTransport> transports = new LinkedHashMap<>();
  final Map<NodeId, CollectingSink> sinks = new LinkedHashMap<>();
  private final Function<NodeId, GrpcTransport.Params> params;
  private final List<GrpcTransport> extra = new ArrayList<>();

  TestCluster(Mode mode, List<String> names) throws IOException {
    this(mode, names, id -> fastParams());
  }

  TestCluster(Mode mode, List<String> names, Function<NodeId, GrpcTransport.Params> params)
      throws IOException {
    this.mode = mode;
    this.params = params;
    this.ids = names.stream().map(NodeId::of).toList();
    for (NodeId id : ids) {
      GrpcTransport t = newTransport(id, NodeAddress.loopback(0));
      t.start();
      transports.put(id, t);
    }
  }

  static GrpcTransport.Params fastParams() {
    return GrpcTransport.Params.defaults()
        .withReconnectDelays(java.time.Duration.ofMillis(10), java.time.Duration.ofMillis(200));
  }

  /** A new, unstarted transport for {@code id} with this cluster's security; closed with it. */
  GrpcTransport newTransport(NodeId id, NodeAddress address) {
    GrpcTransport t =
        GrpcTransport.builder(id, address).security(security(id)).params(params.apply(id)).build();
    extra.add(t);
    return t;
  }

  /** Nodes every transport of a cluster trusts besides its members (for nodes added later). */
  static final List<NodeId> ALSO_TRUSTED =
      List.of("a", "b", "c", "d", "e").stream().map(NodeId::of).toList();

  Security security(NodeId id) {
    if (mode == Mode.PLAINTEXT) {
      return Security.plaintext();
    }
    java.util.Set<NodeId> trusted = new java.util.TreeSet<>(ids);
    trusted.addAll(ALSO_TRUSTED);
    trusted.add(id);
    return Security.insecureMutualTlsForTesting(id, trusted, SEED);
  }

  GrpcTransport t(String id) {
    return transports.get(NodeId.of(id));
  }

  CollectingSink sink(String id) {
    return sinks.get(NodeId.of(id));
  }

  Membership membership(String... names) {
    Map<NodeId, NodeAddress> m = new LinkedHashMap<>();
    for (String n : names) {
      NodeId id = NodeId.of(n);
      m.put(id, transports.get(id).listenAddress());
    }
    return Membership.of(m);
  }

  Membership membership() {
    return membership(ids.stream().map(NodeId::value).toArray(String[]::new));
  }

  /** Attaches a sink to every transport (like a node would). */
  TestCluster deliverToSinks() {
    for (NodeId id : ids) {
      CollectingSink s = new CollectingSink();
      sinks.put(id, s);
      transports.get(id).start(s);
    }
    return this;
  }

  /** Connects every node to every node. */
  TestCluster connectAll() {
    Membership m = membership();
    for (GrpcTransport t : transports.values()) {
      t.connect(m);
    }
    return this;
  }

  static NetMessage msg(String text) {
    return Events.netMessage(APP, TestingString.newBuilder().setValue(text).build());
  }

  @Override
  public void close() {
    for (GrpcTransport t : extra) {
      t.stop();
    }
  }
}
