package io.github.mirframework.net.grpc;

import io.github.mirframework.module.ActiveModule;
import io.github.mirframework.net.Membership;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.testing.Deployment;
import io.github.mirframework.testing.TransportProvider;
import io.github.mirframework.types.NodeId;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Gives each node of a {@link Deployment} ({@link Deployment.Kind#PROVIDED}) a {@link
 * GrpcTransport} on the loopback interface with a free port, all connected to each other: Mir's
 * gRPC deployment for tests, demos and benchmarks.
 *
 * <p>{@link #prepare} starts every transport and connects it to all nodes, so messages can flow as
 * soon as the nodes start. The nodes own the transports and stop them; {@link #close()} stops any
 * that no node took.
 */
public final class GrpcTransportProvider implements TransportProvider {
  private final Function<List<NodeId>, Function<NodeId, Security>> security;
  private final GrpcTransport.Params params;
  private final String host;
  private final Map<NodeId, GrpcTransport> transports = new LinkedHashMap<>();

  private GrpcTransportProvider(
      Function<List<NodeId>, Function<NodeId, Security>> security,
      GrpcTransport.Params params,
      String host) {
    this.security = security;
    this.params = params;
    this.host = host;
  }

  /** Transports over plaintext connections (unauthenticated senders). */
  public static GrpcTransportProvider plaintext() {
    return new GrpcTransportProvider(
        nodes -> id -> Security.plaintext(), GrpcTransport.Params.defaults(), "127.0.0.1");
  }

  /**
   * Transports over mutual TLS with certificates from {@link
   * io.github.mirframework.crypto.InsecureKeys} derived from {@code seed} (insecure keys, real
   * TLS).
   */
  public static GrpcTransportProvider insecureMutualTls(long seed) {
    return new GrpcTransportProvider(
        nodes -> id -> Security.insecureMutualTlsForTesting(id, nodes, seed),
        GrpcTransport.Params.defaults(),
        "127.0.0.1");
  }

  /** Transports with the security {@code security} returns for each node. */
  public static GrpcTransportProvider withSecurity(Function<NodeId, Security> security) {
    Objects.requireNonNull(security, "security");
    return new GrpcTransportProvider(
        nodes -> security, GrpcTransport.Params.defaults(), "127.0.0.1");
  }

  /** A copy with other transport parameters. */
  public GrpcTransportProvider withParams(GrpcTransport.Params newParams) {
    return new GrpcTransportProvider(security, Objects.requireNonNull(newParams), host);
  }

  @Override
  public void prepare(List<NodeId> nodes) throws IOException {
    Function<NodeId, Security> securityOf = security.apply(List.copyOf(nodes));
    Map<NodeId, NodeAddress> addresses = new LinkedHashMap<>();
    try {
      for (NodeId id : nodes) {
        GrpcTransport t =
            GrpcTransport.builder(id, NodeAddress.of(host, 0))
                .security(securityOf.apply(id))
                .params(params)
                .build();
        transports.put(id, t);
        t.start();
        addresses.put(id, t.listenAddress());
      }
    } catch (IOException | RuntimeException e) {
      close();
      throw e;
    }
    Membership membership = Membership.of(addresses);
    for (GrpcTransport t : transports.values()) {
      t.connect(membership);
    }
  }

  @Override
  public ActiveModule transport(NodeId id) {
    return get(id);
  }

  /** The transport of node {@code id}, e.g. for its metrics. */
  public GrpcTransport get(NodeId id) {
    GrpcTransport t = transports.get(id);
    if (t == null) {
      throw new IllegalArgumentException("no transport prepared for node " + id);
    }
    return t;
  }

  @Override
  public void close() {
    for (GrpcTransport t : transports.values()) {
      t.stop();
    }
  }
}
