package io.github.mirframework.client;

import com.google.protobuf.ByteString;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.net.grpc.Certificates;
import io.github.mirframework.net.grpc.internal.PinnedKeyTrustManager;
import io.github.mirframework.net.grpc.internal.Threads;
import io.github.mirframework.net.grpc.internal.Tls;
import io.github.mirframework.types.NodeId;
import io.grpc.ManagedChannel;
import io.grpc.netty.NegotiationType;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Connections to the request receivers of a Mir system that several {@link MirClient}s share: one
 * HTTP/2 connection per node, on which each client opens its own stream, and one set of I/O
 * threads.
 *
 * <p>A process that acts for many clients (an application server, a load generator) should share
 * connections: the requests and replies of all its clients then travel in the same TLS records and
 * system calls, and the process runs one event loop instead of one per client. Every client still
 * identifies itself on its own stream (its hello) and signs its own requests, so sharing changes
 * nothing about authentication. A request receiver accepts at most {@link
 * RequestReceiver.Builder#streamsPerConnection(int)} streams on one connection (8 by default):
 * configure it to at least the number of clients sharing a connection.
 *
 * <p>Build with {@link #builder()}, pass to {@link MirClient.Builder#channels(ClientChannels)}, and
 * {@link #close()} after the clients (closing it ends the streams of clients still open).
 * Thread-safe.
 */
public final class ClientChannels implements AutoCloseable {
  private final Map<NodeId, ManagedChannel> channels;
  private final EventLoopGroup eventLoops;
  private final ExecutorService offload;
  private final Threads threads;
  private final boolean tls;
  private final Duration shutdownTimeout;

  private ClientChannels(Builder b) {
    this.threads = new Threads(b.name);
    this.tls = b.nodeKeys != null;
    this.shutdownTimeout = b.shutdownTimeout;
    String prefix = "mir-" + b.name;
    this.eventLoops = threads.eventLoops(b.ioThreads, prefix + "-io");
    this.offload = threads.offload(1, prefix + "-offload");
    Map<NodeId, ManagedChannel> m = new LinkedHashMap<>();
    b.nodes.forEach(
        (n, addr) ->
            m.put(
                n,
                newChannel(
                    addr,
                    b.nodeKeys == null ? null : b.nodeKeys.get(n),
                    n,
                    eventLoops,
                    offload,
                    b.keepAliveTime,
                    b.name)));
    this.channels = Map.copyOf(m);
  }

  /** Returns a builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** The nodes these connections reach. */
  public Set<NodeId> nodes() {
    return channels.keySet();
  }

  /** Whether the connections use TLS (as opposed to plaintext). */
  public boolean tls() {
    return tls;
  }

  ManagedChannel channel(NodeId node) {
    return channels.get(node);
  }

  EventLoopGroup eventLoops() {
    return eventLoops;
  }

  boolean isClosed() {
    return eventLoops.isShuttingDown();
  }

  /**
   * Closes the connections and ends the I/O threads; streams of clients still open end, and those
   * clients keep retrying until they are closed. Idempotent.
   */
  @Override
  public void close() {
    long deadline = System.nanoTime() + shutdownTimeout.toNanos();
    channels.values().forEach(ManagedChannel::shutdownNow);
    for (ManagedChannel c : channels.values()) {
      try {
        c.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    Duration left = Duration.ofNanos(Math.max(1_000_000, deadline - System.nanoTime()));
    Threads.shutdown(eventLoops, left);
    Threads.shutdown(offload, left);
    threads.joinAll(Duration.ofNanos(Math.max(1_000_000, deadline - System.nanoTime())));
  }

  /** A gRPC channel to one node's request receiver, pinning {@code key} if it is not null. */
  private static ManagedChannel newChannel(
      NodeAddress addr,
      ByteString key,
      NodeId node,
      EventLoopGroup eventLoops,
      ExecutorService offload,
      Duration keepAliveTime,
      String agent) {
    NettyChannelBuilder b =
        NettyChannelBuilder.forAddress(addr.host(), addr.port())
            .channelType(NioSocketChannel.class)
            .eventLoopGroup(eventLoops)
            .offloadExecutor(offload)
            .directExecutor()
            .disableRetry()
            .keepAliveTime(keepAliveTime.toNanos(), TimeUnit.NANOSECONDS)
            .keepAliveWithoutCalls(true)
            .userAgent("mir-java-client/" + agent);
    if (key != null) {
      b.sslContext(
              Tls.client(
                  null,
                  null,
                  new PinnedKeyTrustManager(
                      k -> k.equals(key), "node " + node + " (as configured)")))
          .negotiationType(NegotiationType.TLS);
    } else {
      b.usePlaintext();
    }
    return b.build();
  }

  /** Builds {@link ClientChannels}. */
  public static final class Builder {
    private final Map<NodeId, NodeAddress> nodes = new HashMap<>();
    private Map<NodeId, ByteString> nodeKeys;
    private boolean securityChosen;
    private int ioThreads = 1;
    private Duration keepAliveTime = MirClient.Params.defaults().keepAliveTime();
    private Duration shutdownTimeout = MirClient.Params.defaults().shutdownTimeout();
    private String name = "clients";

    private Builder() {}

    /** The request receivers of the nodes (the whole membership). */
    public Builder nodes(Map<NodeId, NodeAddress> receivers) {
      nodes.putAll(receivers);
      return this;
    }

    /** Connect with TLS, trusting each node exactly by its public key (SubjectPublicKeyInfo). */
    public Builder tls(Map<NodeId, ByteString> keys) {
      Map<NodeId, ByteString> canonical = new HashMap<>();
      keys.forEach((n, k) -> canonical.put(n, Certificates.canonicalPublicKey(k)));
      this.nodeKeys = canonical;
      this.securityChosen = true;
      return this;
    }

    /** Connect in plaintext (tests, demos, trusted networks). */
    public Builder plaintext() {
      this.nodeKeys = null;
      this.securityChosen = true;
      return this;
    }

    /** Netty event loop threads (default 1). */
    public Builder ioThreads(int threads) {
      if (threads < 1) {
        throw new IllegalArgumentException("ioThreads must be positive, got " + threads);
      }
      this.ioThreads = threads;
      return this;
    }

    /**
     * Ping a silent connection after this long (default as {@link MirClient.Params#defaults()};
     * gRPC allows no less than 10 s).
     */
    public Builder keepAliveTime(Duration d) {
      Objects.requireNonNull(d, "keepAliveTime");
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException("keepAliveTime must be positive: " + d);
      }
      this.keepAliveTime = d;
      return this;
    }

    /** How long {@link #close()} waits for connections and threads to end. */
    public Builder shutdownTimeout(Duration d) {
      Objects.requireNonNull(d, "shutdownTimeout");
      if (d.isNegative()) {
        throw new IllegalArgumentException("shutdownTimeout must not be negative: " + d);
      }
      this.shutdownTimeout = d;
      return this;
    }

    /** A name for the threads ({@code mir-<name>-io-*}, default {@code clients}). */
    public Builder name(String name) {
      Objects.requireNonNull(name, "name");
      if (name.isBlank()) {
        throw new IllegalArgumentException("name must not be blank");
      }
      this.name = name;
      return this;
    }

    /**
     * Builds and starts the connections (they connect when the first client opens a stream).
     *
     * @throws IllegalStateException if no node was given, neither {@link #tls} nor {@link
     *     #plaintext()} was chosen, or a node has no key for TLS
     */
    public ClientChannels build() {
      check();
      return new ClientChannels(this);
    }

    int nodeCount() {
      return nodes.size();
    }

    /** Throws what {@link #build()} would throw for this configuration. */
    void check() {
      if (nodes.isEmpty()) {
        throw new IllegalStateException("a client needs at least one node");
      }
      if (!securityChosen) {
        throw new IllegalStateException("choose tls(nodeKeys) or plaintext()");
      }
      if (nodeKeys != null && !nodeKeys.keySet().containsAll(nodes.keySet())) {
        Set<NodeId> missing = new HashSet<>(nodes.keySet());
        missing.removeAll(nodeKeys.keySet());
        throw new IllegalStateException("no TLS key for nodes " + missing);
      }
    }
  }
}
