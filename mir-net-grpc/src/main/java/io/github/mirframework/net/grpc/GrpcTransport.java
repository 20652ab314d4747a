package io.github.mirframework.net.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.PayloadRegistry;
import io.github.mirframework.event.pb.Init;
import io.github.mirframework.event.pb.MessageReceived;
import io.github.mirframework.event.pb.NetMessage;
import io.github.mirframework.event.pb.SendMessage;
import io.github.mirframework.metrics.TransportStats;
import io.github.mirframework.module.EventSink;
import io.github.mirframework.net.Membership;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.net.Transport;
import io.github.mirframework.net.grpc.internal.PinnedKeyTrustManager;
import io.github.mirframework.net.grpc.internal.RawBytes;
import io.github.mirframework.net.grpc.internal.Threads;
import io.github.mirframework.net.grpc.internal.Tls;
import io.github.mirframework.net.grpc.pb.ByeBye;
import io.github.mirframework.net.grpc.pb.Frame;
import io.github.mirframework.net.grpc.pb.GrpcTransportGrpc;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServerStreamTracer;
import io.grpc.Status;
import io.grpc.netty.NegotiationType;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.ProtoUtils;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The gRPC transport between nodes (Mir's {@code pkg/net/grpc}, with the robustness of Mir's later
 * versions and authenticated senders).
 *
 * <h2>Behaviour</h2>
 *
 * <ul>
 *   <li>Each node listens on one port ({@link #start()}; port 0 picks a free one, see {@link
 *       #listenAddress()}) and opens one client stream ({@code mir.net.GrpcTransport/Listen}) to
 *       every known peer. {@link #connect} never blocks: connecting happens in the background, and
 *       a stream that fails is re-opened after an exponential backoff ({@link
 *       Params#reconnectMinDelay()} doubling up to {@link Params#reconnectMaxDelay()}, with
 *       jitter), for as long as the peer is known.
 *   <li>Messages for a peer wait in a bounded per-peer queue ({@link Params#sendQueueMessages()},
 *       {@link Params#sendQueueBytes()}) while the peer is down or slow, and are dropped (and
 *       counted) only when it is full; the sending node never blocks. A message is serialized once
 *       whatever the number of destinations.
 *   <li>Messages to the node itself are delivered locally, without the network.
 *   <li>Every message, sent or received, must fit in {@link Params#maxMessageSize()} bytes.
 *   <li>Input from peers is untrusted: a frame that does not parse, lacks its payload, names an
 *       invalid module, has a payload type outside the accepted types (if configured, {@link
 *       Builder#acceptedTypes}) or is too large is dropped and counted; a stream from a node that
 *       is not authenticated or not known is refused and counted. Nothing a peer sends can make the
 *       transport throw into the node.
 *   <li>Senders: with {@link Security.MutualTls} (the default expectation), the {@code from} of a
 *       received message is the node whose key authenticated the TLS connection; with {@link
 *       Security.Plaintext} it is the unauthenticated {@code mir-sender} header of the stream.
 *   <li>Received messages wait in a bounded inbox ({@link Params#inboxCapacity()} messages, {@link
 *       Params#inboxBytes()} bytes, {@link Params#inboxBytesPerPeer()} bytes per peer) until the
 *       node takes them; when it is full the transport stops reading from peers, or from the peer
 *       over its share (gRPC flow control then slows them down, and their send queues fill up and
 *       drop), so a slow node bounds its own memory without blocking any peer. A new stream is
 *       refused while its sender has no room, so opening streams does not bypass the limits.
 *   <li>Incoming connections are capped ({@link Params#maxConnections()}, {@link
 *       Params#maxConnectionsPerAddress()}), must finish their handshake within {@link
 *       Params#handshakeTimeout()} and are closed after {@link Params#idleTimeout()} without a
 *       stream. With mutual TLS the keys of nodes removed from the membership are no longer
 *       accepted (see {@link #addPeerKeys}).
 * </ul>
 *
 * <h2>Threads</h2>
 *
 * All owned by the transport and ended by {@link #stop()}: a Netty event loop group ({@code
 * mir-grpc-<node>-io-*}, {@link Params#ioThreads()} threads) that runs all network I/O and gRPC
 * callbacks; one delivery thread ({@code mir-grpc-<node>-deliver}) that hands received messages to
 * the node and may block when the node pauses its input; and a small pool ({@code
 * mir-grpc-<node>-offload-*}) for gRPC's blocking jobs such as host name resolution.
 *
 * <p>Thread-safety: all public methods may be called from any thread.
 */
public final class GrpcTransport implements Transport, TransportStats {
  private static final Logger LOG = LoggerFactory.getLogger(GrpcTransport.class);
  private static final io.github.mirframework.log.RateLimitedLog REJECTS =
      io.github.mirframework.log.RateLimitedLog.shared(LOG);

  /** The request header that carries the sender's node ID in plaintext mode. */
  public static final Metadata.Key<String> SENDER_HEADER =
      Metadata.Key.of("mir-sender", Metadata.ASCII_STRING_MARSHALLER);

  /** The most events handed to the node at once. */
  private static final int MAX_DELIVERY_BATCH = 4096;

  private static final MethodDescriptor<byte[], ByeBye> CLIENT_METHOD =
      GrpcTransportGrpc.getListenMethod().toBuilder(RawBytes.INSTANCE, byeByeMarshaller()).build();
  private static final MethodDescriptor<byte[], ByeBye> SERVER_METHOD = CLIENT_METHOD;

  /** The method peers are called with (for tests of {@link PeerConnection}). */
  static MethodDescriptor<byte[], ByeBye> clientMethodForTesting() {
    return CLIENT_METHOD;
  }

  /**
   * Parameters of the transport (Mir's {@code grpc.Params}, extended). Validated on construction.
   *
   * @param maxMessageSize the largest frame sent or accepted, in bytes
   * @param sendQueueMessages the most messages queued per peer
   * @param sendQueueBytes the most bytes queued per peer (at least {@code maxMessageSize})
   * @param inboxCapacity the most received messages buffered before the node takes them
   * @param reconnectMinDelay the first delay before re-opening a failed stream
   * @param reconnectMaxDelay the longest delay between attempts (Mir's reconnection period)
   * @param keepAliveTime how long a connection may be silent before it is probed (and, if the probe
   *     is not answered within the same time, considered broken)
   * @param ioThreads the number of Netty event loop threads
   * @param shutdownTimeout how long {@link #stop()} waits for connections and threads to end
   * @param minComplainPeriod the least time between two log warnings about the same peer
   * @param inboxBytes the most bytes of received messages buffered before the node takes them
   *     (reading stops at this budget; one frame per stream may overshoot it)
   * @param inboxBytesPerPeer the most bytes of received messages of one peer buffered before the
   *     node takes them (at most {@code inboxBytes})
   * @param maxConnections the most incoming connections at a time; further ones are closed at once
   * @param maxConnectionsPerAddress the most incoming connections at a time from one IP address
   * @param handshakeTimeout how long an incoming connection may take to complete its handshake
   * @param idleTimeout how long an incoming connection may stay open without a stream
   */
  public record Params(
      int maxMessageSize,
      int sendQueueMessages,
      long sendQueueBytes,
      int inboxCapacity,
      Duration reconnectMinDelay,
      Duration reconnectMaxDelay,
      Duration keepAliveTime,
      int ioThreads,
      Duration shutdownTimeout,
      Duration minComplainPeriod,
      long inboxBytes,
      long inboxBytesPerPeer,
      int maxConnections,
      int maxConnectionsPerAddress,
      Duration handshakeTimeout,
      Duration idleTimeout) {

    /** Default maximum message size: 4 MiB. */
    public static final int DEFAULT_MAX_MESSAGE_SIZE = 4 << 20;

    /** Validates the parameters. */
    public Params {
      positive("maxMessageSize", maxMessageSize);
      positive("sendQueueMessages", sendQueueMessages);
      positive("inboxCapacity", inboxCapacity);
      positive("ioThreads", ioThreads);
      if (sendQueueBytes < maxMessageSize) {
        throw new IllegalArgumentException(
            "sendQueueBytes ("
                + sendQueueBytes
                + ") must be at least maxMessageSize ("
                + maxMessageSize
                + ")");
      }
      positive("reconnectMinDelay", reconnectMinDelay);
      positive("reconnectMaxDelay", reconnectMaxDelay);
      positive("keepAliveTime", keepAliveTime);
      positive("shutdownTimeout", shutdownTimeout);
      Objects.requireNonNull(minComplainPeriod, "minComplainPeriod");
      if (reconnectMaxDelay.compareTo(reconnectMinDelay) < 0) {
        throw new IllegalArgumentException(
            "reconnectMaxDelay ("
                + reconnectMaxDelay
                + ") must not be less than reconnectMinDelay ("
                + reconnectMinDelay
                + ")");
      }
      positive("inboxBytes", inboxBytes);
      positive("inboxBytesPerPeer", inboxBytesPerPeer);
      if (inboxBytesPerPeer > inboxBytes) {
        throw new IllegalArgumentException(
            "inboxBytesPerPeer ("
                + inboxBytesPerPeer
                + ") must not exceed inboxBytes ("
                + inboxBytes
                + ")");
      }
      positive("maxConnections", maxConnections);
      positive("maxConnectionsPerAddress", maxConnectionsPerAddress);
      positive("handshakeTimeout", handshakeTimeout);
      positive("idleTimeout", idleTimeout);
    }

    /**
     * The parameters of earlier versions; the later ones get their defaults (see {@link
     * #defaults()}).
     */
    public Params(
        int maxMessageSize,
        int sendQueueMessages,
        long sendQueueBytes,
        int inboxCapacity,
        Duration reconnectMinDelay,
        Duration reconnectMaxDelay,
        Duration keepAliveTime,
        int ioThreads,
        Duration shutdownTimeout,
        Duration minComplainPeriod) {
      this(
          maxMessageSize,
          sendQueueMessages,
          sendQueueBytes,
          inboxCapacity,
          reconnectMinDelay,
          reconnectMaxDelay,
          keepAliveTime,
          ioThreads,
          shutdownTimeout,
          minComplainPeriod,
          DEFAULT_INBOX_BYTES,
          DEFAULT_INBOX_BYTES_PER_PEER,
          DEFAULT_MAX_CONNECTIONS,
          DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
          DEFAULT_HANDSHAKE_TIMEOUT,
          DEFAULT_IDLE_TIMEOUT);
    }

    /** Default inbox budget: 64 MiB. */
    public static final long DEFAULT_INBOX_BYTES = 64L << 20;

    /** Default inbox budget per peer: 16 MiB. */
    public static final long DEFAULT_INBOX_BYTES_PER_PEER = 16L << 20;

    /** Default limit on incoming connections: 1024. */
    public static final int DEFAULT_MAX_CONNECTIONS = 1024;

    /** Default limit on incoming connections from one IP address: 64. */
    public static final int DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 64;

    /** Default handshake timeout: 5 s. */
    public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(5);

    /** Default idle timeout of a connection without a stream: 30 s. */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(30);

    /**
     * The defaults: 4 MiB messages, 1024 messages or 64 MiB queued per peer, 8192 inbox entries and
     * 64 MiB in the inbox (16 MiB per peer), reconnection after 50 ms doubling to 3 s, keep-alive
     * 10 s, 2 I/O threads, 5 s shutdown timeout, one warning per peer per second, 1024 incoming
     * connections (64 per IP address), 5 s to complete a handshake, 30 s without a stream.
     */
    public static Params defaults() {
      return new Params(
          DEFAULT_MAX_MESSAGE_SIZE,
          1024,
          64L << 20,
          8192,
          Duration.ofMillis(50),
          Duration.ofSeconds(3),
          Duration.ofSeconds(10),
          2,
          Duration.ofSeconds(5),
          Duration.ofSeconds(1));
    }

    /** A copy with another maximum message size (the byte queue limit grows to fit it). */
    public Params withMaxMessageSize(int bytes) {
      return new Params(
          bytes,
          sendQueueMessages,
          Math.max(sendQueueBytes, bytes),
          inboxCapacity,
          reconnectMinDelay,
          reconnectMaxDelay,
          keepAliveTime,
          ioThreads,
          shutdownTimeout,
          minComplainPeriod,
          inboxBytes,
          inboxBytesPerPeer,
          maxConnections,
          maxConnectionsPerAddress,
          handshakeTimeout,
          idleTimeout);
    }

    /** A copy with other send queue limits. */
    public Params withSendQueue(int messages, long bytes) {
      return new Params(
          maxMessageSize,
          messages,
          bytes,
          inboxCapacity,
          reconnectMinDelay,
          reconnectMaxDelay,
          keepAliveTime,
          ioThreads,
          shutdownTimeout,
          minComplainPeriod,
          inboxBytes,
          inboxBytesPerPeer,
          maxConnections,
          maxConnectionsPerAddress,
          handshakeTimeout,
          idleTimeout);
    }

    /** A copy with another inbox capacity (in messages). */
    public Params withInboxCapacity(int messages) {
      return new Params(
          maxMessageSize,
          sendQueueMessages,
          sendQueueBytes,
          messages,
          reconnectMinDelay,
          reconnectMaxDelay,
          keepAliveTime,
          ioThreads,
          shutdownTimeout,
          minComplainPeriod,
          inboxBytes,
          inboxBytesPerPeer,
          maxConnections,
          maxConnectionsPerAddress,
          handshakeTimeout,
          idleTimeout);
    }

    /** A copy with other inbox byte budgets: in total, and per sending peer. */
    public Params withInboxBytes(long total, long perPeer) {
      return new Params(
          maxMessageSize,
          sendQueueMessages,
          sendQueueBytes,
          inboxCapacity,
          reconnectMinDelay,
          reconnectMaxDelay,
          keepAliveTime,
          ioThreads,
          shutdownTimeout,
          minComplainPeriod,
          total,
          perPeer,
          maxConnections,
          maxConnectionsPerAddress,
          handshakeTimeout,
          idleTimeout);
    }

    /** A copy with other reconnection delays. */
    public Params withReconnectDelays(Duration min, Duration max) {
      return new Params(
          maxMessageSize,
          sendQueueMessages,
          sendQueueBytes,
          inboxCapacity,
          min,
          max,
          keepAliveTime,
          ioThreads,
          shutdownTimeout,
          minComplainPeriod,
          inboxBytes,
          inboxBytesPerPeer,
          maxConnections,
          maxConnectionsPerAddress,
          handshakeTimeout,
          idleTimeout);
    }

    /** A copy with another number of I/O threads. */
    public Params withIoThreads(int threads) {
      return new Params(
          maxMessageSize,
          sendQueueMessages,
          sendQueueBytes,
          inboxCapacity,
          reconnectMinDelay,
          reconnectMaxDelay,
          keepAliveTime,
          threads,
          shutdownTimeout,
          minComplainPeriod,
          inboxBytes,
          inboxBytesPerPeer,
          maxConnections,
          maxConnectionsPerAddress,
          handshakeTimeout,
          idleTimeout);
    }

    /** A copy with other limits on incoming connections: in total, and per remote IP address. */
    public Params withConnectionLimits(int total, int perAddress) {
      return new Params(
          maxMessageSize,
          sendQueueMessages,
          sendQueueBytes,
          inboxCapacity,
          reconnectMinDelay,
          reconnectMaxDelay,
          keepAliveTime,
          ioThreads,
          shutdownTimeout,
          minComplainPeriod,
          inboxBytes,
          inboxBytesPerPeer,
          total,
          perAddress,
          handshakeTimeout,
          idleTimeout);
    }

    /**
     * A copy with other incoming-connection timeouts: for the TLS handshake, and for a connection
     * without a stream.
     */
    public Params withTimeouts(Duration handshake, Duration idle) {
      return new Params(
          maxMessageSize,
          sendQueueMessages,
          sendQueueBytes,
          inboxCapacity,
          reconnectMinDelay,
          reconnectMaxDelay,
          keepAliveTime,
          ioThreads,
          shutdownTimeout,
          minComplainPeriod,
          inboxBytes,
          inboxBytesPerPeer,
          maxConnections,
          maxConnectionsPerAddress,
          handshake,
          idle);
    }

    private static void positive(String name, long value) {
      if (value <= 0) {
        throw new IllegalArgumentException(name + " must be positive, got " + value);
      }
    }

    private static void positive(String name, Duration value) {
      Objects.requireNonNull(value, name);
      if (value.isNegative() || value.isZero()) {
        throw new IllegalArgumentException(name + " must be positive, got " + value);
      }
    }
  }

  private enum State {
    NEW,
    STARTED,
    STOPPED
  }

  private final NodeId self;
  private final NodeAddress requestedAddress;
  private final Security security;
  private final Params params;
  private final PayloadRegistry acceptedTypes;
  // The key of every node this node may talk to (guarded by lock). The keys of nodes removed from
  // the membership (and not made known again since) are not trusted (trustedByKey), so the trusted
  // set follows the membership.
  private final Map<NodeId, ByteString> keyDirectory = new HashMap<>();
  private final Set<NodeId> removedNodes = new HashSet<>();
  private volatile Map<ByteString, NodeId> trustedByKey = Map.of();
  private final ConnectionLimiter connections;
  private final String threadPrefix;
  private final Threads threads;

  private final Object lock = new Object();
  private State state = State.NEW;
  private EventLoopGroup eventLoops;
  private ExecutorService offload;
  private Server server;
  private NodeAddress boundAddress;
  private Thread deliveryThread;

  private final ConcurrentHashMap<NodeId, PeerConnection> peers = new ConcurrentHashMap<>();
  private volatile Set<NodeId> known = Set.of();
  private final ConcurrentHashMap<NodeId, InboundStream> inbound = new ConcurrentHashMap<>();
  private volatile boolean stopped;

  private final Inbox inbox = new Inbox();
  // Streams waiting for room in the inbox; a stream leaves the set when it resumes or closes.
  private final Set<InboundStream> paused = ConcurrentHashMap.newKeySet();

  private final AtomicLong received = new AtomicLong();
  private final AtomicLong sentByRemovedPeers = new AtomicLong();
  private final AtomicLong refusedStreams = new AtomicLong();
  private final AtomicLong refusedConnections = new AtomicLong();
  // Test seam: runs in acceptStream between the sender's authorization and its registration.
  volatile Runnable acceptHook;
  private final AtomicLong deliveredLocally = new AtomicLong();
  private final EnumMap<DropReason, AtomicLong> dropped = new EnumMap<>(DropReason.class);
  private final Object connectionMonitor = new Object();

  private GrpcTransport(Builder b) {
    this.self = b.self;
    this.requestedAddress = b.listenAddress;
    this.security = b.security;
    this.params = b.params;
    this.acceptedTypes = b.acceptedTypes;
    for (DropReason r : DropReason.values()) {
      dropped.put(r, new AtomicLong());
    }
    if (security instanceof Security.MutualTls tls) {
      if (!tls.identity().id().equals(self)) {
        throw new IllegalArgumentException(
            "the TLS identity is node " + tls.identity().id() + ", not " + self);
      }
      keyDirectory.putAll(tls.peerKeys());
      recomputeTrust();
    }
    this.connections =
        new ConnectionLimiter(
            self, params.maxConnections(), params.maxConnectionsPerAddress(), this::refused);
    this.threadPrefix = "mir-grpc-" + self;
    this.threads = new Threads(self.value());
  }

  /**
   * Returns a builder of the transport of node {@code self}, listening on {@code listenAddress}
   * (port 0: any free port).
   */
  public static Builder builder(NodeId self, NodeAddress listenAddress) {
    return new Builder(self, listenAddress);
  }

  /** Builds a {@link GrpcTransport}. */
  public static final class Builder {
    private final NodeId self;
    private final NodeAddress listenAddress;
    private Security security;
    private Params params = Params.defaults();
    private PayloadRegistry acceptedTypes;

    private Builder(NodeId self, NodeAddress listenAddress) {
      this.self = Objects.requireNonNull(self, "self");
      this.listenAddress = Objects.requireNonNull(listenAddress, "listenAddress");
    }

    /**
     * How connections are secured. Required, so that plaintext is always an explicit choice: see
     * {@link Security#mutualTls} and {@link Security#plaintext()}.
     */
    public Builder security(Security security) {
      this.security = Objects.requireNonNull(security, "security");
      return this;
    }

    /** The parameters (default {@link Params#defaults()}). */
    public Builder params(Params params) {
      this.params = Objects.requireNonNull(params, "params");
      return this;
    }

    /**
     * Accept only received messages whose payload type is registered in {@code types}; others are
     * dropped as {@link DropReason#UNKNOWN_TYPE}. By default any well-formed payload is passed on
     * (the receiving modules check types themselves).
     */
    public Builder acceptedTypes(PayloadRegistry types) {
      this.acceptedTypes = Objects.requireNonNull(types, "types");
      return this;
    }

    /**
     * Builds the transport (not started).
     *
     * @throws IllegalStateException if no security was chosen
     * @throws IllegalArgumentException if the TLS identity is not this node's
     */
    public GrpcTransport build() {
      if (security == null) {
        throw new IllegalStateException(
            "choose the transport security: Security.mutualTls(...) or, for tests and demos,"
                + " Security.plaintext()");
      }
      return new GrpcTransport(this);
    }
  }

  @Override
  public NodeId self() {
    return self;
  }

  /** The parameters. */
  public Params params() {
    return params;
  }

  /** The security mode. */
  public Security security() {
    return security;
  }

  // ---------------------------------------------------------------------------------------------
  // Life cycle

  @Override
  public void start() throws IOException {
    synchronized (lock) {
      switch (state) {
        case STARTED -> {
          return;
        }
        case STOPPED -> throw new IllegalStateException("transport of " + self + " was stopped");
        case NEW -> {}
      }
      eventLoops = threads.eventLoops(params.ioThreads(), threadPrefix + "-io");
      offload = threads.offload(2, threadPrefix + "-offload");
      inbox.deferWakeUpsOn(eventLoops);
      NettyServerBuilder sb =
          NettyServerBuilder.forAddress(
                  new InetSocketAddress(requestedAddress.host(), requestedAddress.port()))
              .bossEventLoopGroup(eventLoops)
              .workerEventLoopGroup(eventLoops)
              .directExecutor()
              .maxInboundMessageSize(params.maxMessageSize())
              .maxInboundMetadataSize(8 << 10)
              .maxConcurrentCallsPerConnection(16)
              .permitKeepAliveTime(1, TimeUnit.SECONDS)
              .permitKeepAliveWithoutCalls(true)
              .keepAliveTime(params.keepAliveTime().toNanos(), TimeUnit.NANOSECONDS)
              .keepAliveTimeout(params.keepAliveTime().toNanos(), TimeUnit.NANOSECONDS)
              .handshakeTimeout(params.handshakeTimeout().toNanos(), TimeUnit.NANOSECONDS)
              .maxConnectionIdle(params.idleTimeout().toNanos(), TimeUnit.NANOSECONDS)
              .channelFactory(connections::newServerChannel)
              .addStreamTracerFactory(new OversizeTracer())
              .addService(serviceDefinition());
      if (security instanceof Security.MutualTls tls) {
        sb.sslContext(
            Tls.server(
                tls.identity().privateKey(),
                tls.identity().certificate(),
                new PinnedKeyTrustManager(
                    k -> trustedByKey.containsKey(k), "a node of the current membership")));
      }
      Server s = sb.build();
      try {
        s.start();
      } catch (IOException | RuntimeException e) {
        s.shutdownNow();
        Threads.shutdown(eventLoops, params.shutdownTimeout());
        Threads.shutdown(offload, params.shutdownTimeout());
        threads.joinAll(params.shutdownTimeout());
        eventLoops = null;
        offload = null;
        throw new IOException(
            "node " + self + " cannot listen on " + requestedAddress + ": " + e.getMessage(), e);
      }
      server = s;
      int port = requestedAddress.port();
      for (SocketAddress a : s.getListenSockets()) {
        if (a instanceof InetSocketAddress isa) {
          port = isa.getPort();
        }
      }
      boundAddress = requestedAddress.withPort(port);
      state = State.STARTED;
      LOG.info(
          "{}: gRPC transport listening on {} ({})",
          self,
          boundAddress,
          security instanceof Security.MutualTls ? "mutual TLS" : "PLAINTEXT, unauthenticated");
    }
  }

  /**
   * The address the transport listens on, with the actual port.
   *
   * @throws IllegalStateException if the transport has not been started
   */
  public NodeAddress listenAddress() {
    synchronized (lock) {
      if (boundAddress == null) {
        throw new IllegalStateException("transport of " + self + " is not started");
      }
      return boundAddress;
    }
  }

  @Override
  public void start(EventSink sink) {
    Objects.requireNonNull(sink, "sink");
    try {
      start();
    } catch (IOException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
    synchronized (lock) {
      if (deliveryThread != null) {
        throw new IllegalStateException("transport of " + self + " already delivers to a node");
      }
      if (state == State.STOPPED) {
        return;
      }
      Thread t =
          new Thread(
              () -> {
                MDC.put("node", self.value());
                deliverLoop(sink);
              },
              threadPrefix + "-deliver");
      t.setDaemon(true);
      deliveryThread = t;
      t.start();
    }
  }

  @Override
  public void stop() {
    List<PeerConnection> toClose;
    Thread delivery;
    synchronized (lock) {
      if (state == State.STOPPED) {
        return;
      }
      state = State.STOPPED;
      stopped = true;
      known = Set.of();
      toClose = new ArrayList<>(peers.values());
      peers.clear();
      delivery = deliveryThread;
    }
    synchronized (connectionMonitor) {
      connectionMonitor.notifyAll();
    }
    Duration timeout = params.shutdownTimeout();
    long deadline = System.nanoTime() + timeout.toNanos();
    for (PeerConnection p : toClose) {
      p.close();
    }
    if (server != null) {
      server.shutdownNow();
    }
    for (PeerConnection p : toClose) {
      p.awaitClosed(remaining(deadline));
    }
    if (server != null) {
      try {
        if (!server.awaitTermination(remaining(deadline).toNanos(), TimeUnit.NANOSECONDS)) {
          LOG.warn("{}: the gRPC server did not terminate within {}", self, timeout);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (delivery != null && delivery != Thread.currentThread()) {
      delivery.interrupt();
      joinUninterruptibly(delivery);
    }
    Threads.shutdown(eventLoops, remaining(deadline));
    Threads.shutdown(offload, remaining(deadline));
    if (!threads.joinAll(remaining(deadline))) {
      LOG.warn("{}: some transport threads did not end within {}", self, timeout);
    }
    inbox.clear();
    paused.clear();
    inbound.clear();
    LOG.debug("{}: gRPC transport stopped", self);
  }

  private static Duration remaining(long deadlineNanos) {
    return Duration.ofNanos(Math.max(1_000_000, deadlineNanos - System.nanoTime()));
  }

  private static void joinUninterruptibly(Thread t) {
    boolean interrupted = false;
    while (true) {
      try {
        t.join();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Membership

  /**
   * {@inheritDoc}
   *
   * <p>A node whose address changed is reconnected at the new address; its queued messages are
   * kept.
   *
   * @throws IllegalStateException if the transport has not been started (after {@link #stop()}, the
   *     call is ignored)
   */
  @Override
  public void connect(Membership membership) {
    List<PeerConnection> opened = new ArrayList<>();
    synchronized (lock) {
      if (state == State.STOPPED) {
        LOG.warn("{}: connect() after stop() ignored", self);
        return;
      }
      if (state == State.NEW) {
        throw new IllegalStateException("transport of " + self + " is not started");
      }
      HashSet<NodeId> next = new HashSet<>(known);
      for (Map.Entry<NodeId, NodeAddress> e : membership.nodes().entrySet()) {
        NodeId id = e.getKey();
        next.add(id);
        removedNodes.remove(id);
        if (id.equals(self)) {
          continue;
        }
        PeerConnection existing = peers.get(id);
        if (existing == null) {
          PeerConnection p = newPeer(id, e.getValue());
          peers.put(id, p);
          opened.add(p);
        } else if (!existing.address().equals(e.getValue())) {
          LOG.info("{}: node {} moved from {} to {}", self, id, existing.address(), e.getValue());
          existing.retarget(e.getValue());
        }
      }
      known = Set.copyOf(next);
      recomputeTrust();
    }
    for (PeerConnection p : opened) {
      p.open();
    }
    synchronized (connectionMonitor) {
      connectionMonitor.notifyAll();
    }
  }

  @Override
  public void closeOldConnections(Membership newMembership) {
    List<PeerConnection> removed = new ArrayList<>();
    List<InboundStream> refused = new ArrayList<>();
    synchronized (lock) {
      if (state == State.STOPPED) {
        return;
      }
      HashSet<NodeId> next = new HashSet<>(known);
      for (NodeId id : known) {
        if (!newMembership.contains(id)) {
          removedNodes.add(id);
        }
      }
      next.retainAll(newMembership.ids());
      known = Set.copyOf(next);
      recomputeTrust();
      for (NodeId id : List.copyOf(peers.keySet())) {
        if (!newMembership.contains(id)) {
          removed.add(peers.remove(id));
        }
      }
      for (Map.Entry<NodeId, InboundStream> e : inbound.entrySet()) {
        if (!next.contains(e.getKey())) {
          refused.add(e.getValue());
        }
      }
    }
    for (InboundStream s : refused) {
      s.cancel(Status.PERMISSION_DENIED.withDescription("node removed from the membership"));
    }
    for (PeerConnection p : removed) {
      p.close();
    }
    for (PeerConnection p : removed) {
      p.awaitClosed(params.shutdownTimeout());
      sentByRemovedPeers.addAndGet(p.sent());
      LOG.info("{}: closed the connection to removed node {}", self, p.peer());
    }
    synchronized (connectionMonitor) {
      connectionMonitor.notifyAll();
    }
  }

  /**
   * Trusts the configured keys except those of removed nodes (called under lock). Nodes configured
   * but not known yet still complete the handshake (their streams are refused until they are
   * known), so that a node that learns of a peer late is reached at once.
   */
  private void recomputeTrust() {
    Map<ByteString, NodeId> t = new HashMap<>();
    keyDirectory.forEach(
        (id, key) -> {
          if (!id.equals(self) && !removedNodes.contains(id)) {
            t.put(key, id);
          }
        });
    trustedByKey = Map.copyOf(t);
  }

  /**
   * Adds or replaces the public keys of nodes (e.g. nodes that will join the membership), with
   * mutual TLS. Configured and added keys complete the TLS handshake unless {@link
   * #closeOldConnections} removed their node (and {@link #connect} has not made it known again): a
   * removed node can no longer complete a handshake with this node, and a node added with its key
   * can. Streams are accepted only from known nodes.
   *
   * @param keys public keys (SubjectPublicKeyInfo DER) by node
   * @throws IllegalStateException in plaintext mode
   * @throws IllegalArgumentException if a key is not an EC public key, is this node's, or is
   *     another node's
   */
  public void addPeerKeys(Map<NodeId, ByteString> keys) {
    if (!(security instanceof Security.MutualTls tls)) {
      throw new IllegalStateException("peer keys are used with mutual TLS only");
    }
    synchronized (lock) {
      Map<NodeId, ByteString> next = new HashMap<>(keyDirectory);
      next.putAll(keys);
      // Security validates: canonical EC keys, one node per key, this node's key its own.
      Security.MutualTls checked = new Security.MutualTls(tls.identity(), next);
      keyDirectory.clear();
      keyDirectory.putAll(checked.peerKeys());
      recomputeTrust();
    }
  }

  /** The public key used for {@code peer}, if any. */
  private ByteString keyOf(NodeId peer) {
    synchronized (lock) {
      return keyDirectory.get(peer);
    }
  }

  /** The nodes currently known (made known by {@code connect} and not removed since). */
  public Set<NodeId> knownNodes() {
    return known;
  }

  /** Whether a stream to {@code peer} is established (the node itself: whether it is known). */
  public boolean isConnected(NodeId peer) {
    if (peer.equals(self)) {
      return known.contains(self) && !stopped;
    }
    PeerConnection p = peers.get(peer);
    return p != null && p.isConnected();
  }

  /** Whether {@code peer} has an open incoming stream to this node. */
  public boolean hasIncomingStream(NodeId peer) {
    return inbound.containsKey(peer);
  }

  @Override
  public boolean waitFor(int n, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (connectionMonitor) {
      while (true) {
        if (stopped) {
          return false;
        }
        if (connectedCount() >= n) {
          return true;
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(connectionMonitor, left);
      }
    }
  }

  private int connectedCount() {
    int up = known.contains(self) ? 1 : 0;
    for (PeerConnection p : peers.values()) {
      if (p.isConnected()) {
        up++;
      }
    }
    return up;
  }

  private void connectionChanged() {
    synchronized (connectionMonitor) {
      connectionMonitor.notifyAll();
    }
  }

  private PeerConnection newPeer(NodeId id, NodeAddress address) {
    return new PeerConnection(
        self,
        id,
        address,
        params,
        CLIENT_METHOD,
        a -> newChannel(id, a),
        this::helloHeaders,
        eventLoops,
        this::connectionChanged,
        dropped.get(DropReason.CLOSED),
        dropped.get(DropReason.QUEUE_FULL));
  }

  private Metadata helloHeaders() {
    Metadata h = new Metadata();
    h.put(SENDER_HEADER, self.value());
    return h;
  }

  private ManagedChannel newChannel(NodeId peer, NodeAddress address) {
    NettyChannelBuilder b =
        NettyChannelBuilder.forAddress(address.host(), address.port())
            .channelType(NioSocketChannel.class)
            .eventLoopGroup(eventLoops)
            .offloadExecutor(offload)
            .directExecutor()
            .disableRetry()
            .maxInboundMessageSize(64 << 10)
            .maxInboundMetadataSize(8 << 10)
            .keepAliveTime(params.keepAliveTime().toNanos(), TimeUnit.NANOSECONDS)
            .keepAliveTimeout(params.keepAliveTime().toNanos(), TimeUnit.NANOSECONDS)
            .keepAliveWithoutCalls(true)
            .userAgent("mir-java/" + self);
    if (security instanceof Security.MutualTls tls) {
      ByteString peerKey = keyOf(peer);
      if (peerKey == null) {
        // Known by connect() but without a configured key: the handshake can only fail.
        LOG.warn("{}: no TLS key configured for node {}; it cannot be reached", self, peer);
      }
      SslContext ctx =
          Tls.client(
              tls.identity().privateKey(),
              tls.identity().certificate(),
              new PinnedKeyTrustManager(
                  k -> k.equals(peerKey), "node " + peer + " (as configured)"));
      b.sslContext(ctx).negotiationType(NegotiationType.TLS);
    } else {
      b.usePlaintext();
    }
    return b.build();
  }

  // ---------------------------------------------------------------------------------------------
  // Sending

  @Override
  public void applyEvents(EventList events) {
    for (Event e : events) {
      switch (e.payload()) {
        case SendMessage s -> send(s);
        case Init i -> {}
        default ->
            throw new IllegalArgumentException(
                "the gRPC transport cannot handle events of type " + e.typeName());
      }
    }
  }

  private void send(SendMessage s) {
    List<NodeId> dests = new ArrayList<>(s.getDestinationsCount());
    for (String d : s.getDestinationsList()) {
      try {
        dests.add(NodeId.of(d));
      } catch (IllegalArgumentException e) {
        drop(DropReason.UNKNOWN_DESTINATION);
      }
    }
    send(dests, s.getMsg());
  }

  @Override
  public boolean send(NodeId destination, NetMessage msg) {
    return send(List.of(destination), msg) == 1;
  }

  @Override
  public int send(Collection<NodeId> destinations, NetMessage msg) {
    int n = destinations.size();
    if (stopped) {
      drop(DropReason.CLOSED, n);
      return 0;
    }
    ModuleId dest = validDestination(msg);
    if (dest == null) {
      drop(DropReason.INVALID, n);
      return 0;
    }
    byte[] frame = null;
    int accepted = 0;
    for (NodeId d : destinations) {
      if (d.equals(self)) {
        if (deliverLocally(msg)) {
          accepted++;
        }
        continue;
      }
      PeerConnection p = peers.get(d);
      if (p == null) {
        drop(DropReason.UNKNOWN_DESTINATION);
        continue;
      }
      if (frame == null) {
        frame = Frame.newBuilder().setMsg(msg).build().toByteArray();
        if (frame.length > params.maxMessageSize()) {
          LOG.warn(
              "{}: dropping a {}-byte message for '{}' (limit {} bytes)",
              self,
              frame.length,
              msg.getDestModule(),
              params.maxMessageSize());
          // Dropped for this and every remaining remote destination.
          for (NodeId rest : destinations) {
            if (!rest.equals(self) && peers.containsKey(rest)) {
              drop(DropReason.TOO_LARGE);
            }
          }
          frame = new byte[0];
        }
      }
      if (frame.length == 0) {
        continue;
      }
      if (p.enqueue(frame)) {
        accepted++;
      }
    }
    return accepted;
  }

  private static ModuleId validDestination(NetMessage msg) {
    if (!msg.hasPayload() || msg.getPayload().getTypeUrl().isEmpty()) {
      return null;
    }
    try {
      return ModuleId.of(msg.getDestModule());
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private boolean deliverLocally(NetMessage msg) {
    // Self-messages may use the inbox up to twice its capacity: network input stops at the
    // capacity, so there is always room for the node's own messages unless it is far behind.
    if (inbox.size() >= 2 * params.inboxCapacity()) {
      drop(DropReason.INBOX_FULL);
      return false;
    }
    inbox.add(Events.messageReceived(self, msg), self, msg.getSerializedSize());
    deliveredLocally.incrementAndGet();
    return true;
  }

  // ---------------------------------------------------------------------------------------------
  // Receiving

  private ServerServiceDefinition serviceDefinition() {
    ServerCallHandler<byte[], ByeBye> handler = this::acceptStream;
    return ServerServiceDefinition.builder(GrpcTransportGrpc.SERVICE_NAME)
        .addMethod(ServerMethodDefinition.create(SERVER_METHOD, handler))
        .build();
  }

  private ServerCall.Listener<byte[]> acceptStream(
      ServerCall<byte[], ByeBye> call, Metadata headers) {
    NodeId sender = authenticate(call, headers);
    if (sender == null || !known.contains(sender) || sender.equals(self) || stopped) {
      refusedStreams.incrementAndGet();
      LOG.debug("{}: refusing a stream from {}", self, sender == null ? "an unknown peer" : sender);
      call.close(
          Status.PERMISSION_DENIED.withDescription(
              sender == null ? "unknown sender" : "node " + sender + " is not known here"),
          new Metadata());
      return new ServerCall.Listener<>() {};
    }
    if (!hasRoom(sender)) {
      // The inbox has no room for this sender: a new stream would only let it read one more frame
      // (a peer opening one stream per frame would fill the inbox). It retries after its backoff;
      // its current stream, if any, stays (paused).
      refusedStreams.incrementAndGet();
      REJECTS.info(
          "stream while the inbox is full",
          "{}: refusing a new stream from {}: no room in the inbox",
          self,
          sender);
      call.close(
          Status.RESOURCE_EXHAUSTED.withDescription("the receiver's inbox is full; retry later"),
          new Metadata());
      return new ServerCall.Listener<>() {};
    }
    Runnable hook = acceptHook;
    if (hook != null) {
      hook.run();
    }
    InboundStream s = new InboundStream(sender, call);
    InboundStream old = inbound.put(sender, s);
    if (old != null) {
      old.cancel(Status.CANCELLED.withDescription("replaced by a newer stream from the same node"));
    }
    // closeOldConnections() updates `known` before it looks at `inbound`: if it ran since the check
    // above, either it saw this stream or this re-check sees the removal.
    if (!known.contains(sender) || stopped) {
      refusedStreams.incrementAndGet();
      s.cancel(Status.PERMISSION_DENIED.withDescription("node " + sender + " was removed"));
      return s;
    }
    s.accept();
    PeerConnection out = peers.get(sender);
    if (out != null) {
      // The sender is up and knows us: if it refused our stream earlier (it did not know us then),
      // try again now rather than after the backoff.
      out.peerIsUp();
    }
    return s;
  }

  private NodeId authenticate(ServerCall<byte[], ByeBye> call, Metadata headers) {
    if (security instanceof Security.Plaintext) {
      String claimed = headers.get(SENDER_HEADER);
      if (claimed == null) {
        return null;
      }
      try {
        return NodeId.of(claimed);
      } catch (IllegalArgumentException e) {
        return null;
      }
    }
    SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
    if (session == null) {
      return null;
    }
    try {
      Certificate[] chain = session.getPeerCertificates();
      if (chain.length == 0 || !(chain[0] instanceof X509Certificate leaf)) {
        return null;
      }
      return trustedByKey.get(Certificates.publicKey(leaf));
    } catch (SSLPeerUnverifiedException e) {
      return null;
    }
  }

  /** Parses and checks one frame; returns the event for the node, or null (counted) if dropped. */
  private Event toEvent(NodeId sender, byte[] bytes) {
    Frame frame;
    try {
      frame = Frame.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      drop(DropReason.GARBAGE);
      return null;
    }
    if (!frame.hasMsg()) {
      drop(DropReason.MALFORMED);
      return null;
    }
    NetMessage msg = frame.getMsg();
    ModuleId dest = validDestination(msg);
    if (dest == null) {
      drop(DropReason.MALFORMED);
      return null;
    }
    if (acceptedTypes != null && !acceptedTypes.contains(msg.getPayload().getTypeUrl())) {
      drop(DropReason.UNKNOWN_TYPE);
      return null;
    }
    return Event.of(dest, MessageReceived.newBuilder().setFrom(sender.value()).setMsg(msg).build());
  }

  /** One incoming stream from an authenticated, known peer. */
  private final class InboundStream extends ServerCall.Listener<byte[]> {
    private final NodeId sender;
    private final ServerCall<byte[], ByeBye> call;
    private final AtomicBoolean isPaused = new AtomicBoolean();
    private boolean closed;

    InboundStream(NodeId sender, ServerCall<byte[], ByeBye> call) {
      this.sender = sender;
      this.call = call;
    }

    void accept() {
      synchronized (this) {
        if (closed) {
          return;
        }
        // The headers tell the sender that the stream is accepted (it sends nothing before).
        call.sendHeaders(new Metadata());
      }
      // Re-checked: the inbox may have filled since the stream was admitted.
      requestOrPause();
    }

    @Override
    public void onMessage(byte[] bytes) {
      Event e = toEvent(sender, bytes);
      if (e != null) {
        inbox.add(e, sender, bytes.length);
        received.incrementAndGet();
      }
      requestOrPause();
    }

    private void requestOrPause() {
      if (hasRoom(sender)) {
        request();
      } else {
        isPaused.set(true);
        paused.add(this);
        // The delivery thread may have drained the inbox before it could see us in `paused`.
        if (hasRoom(sender)) {
          resume();
        }
      }
    }

    /** Asks gRPC for the next frame if the stream is paused (thread-safe). */
    void resume() {
      if (isPaused.compareAndSet(true, false)) {
        paused.remove(this);
        request();
      }
    }

    private synchronized void request() {
      if (!closed) {
        call.request(1);
      }
    }

    @Override
    public void onHalfClose() {
      synchronized (this) {
        if (!closed) {
          closed = true;
          call.sendMessage(ByeBye.getDefaultInstance());
          call.close(Status.OK, new Metadata());
        }
      }
      forget();
    }

    @Override
    public void onCancel() {
      synchronized (this) {
        closed = true;
      }
      forget();
    }

    @Override
    public void onComplete() {
      forget();
    }

    private void forget() {
      inbound.remove(sender, this);
      paused.remove(this);
    }

    synchronized void cancel(Status status) {
      if (!closed) {
        closed = true;
        call.close(status, new Metadata());
      }
      forget();
    }
  }

  /** Counts streams that gRPC closed because a frame exceeded the maximum message size. */
  private final class OversizeTracer extends ServerStreamTracer.Factory {
    @Override
    public ServerStreamTracer newServerStreamTracer(String fullMethodName, Metadata headers) {
      return new ServerStreamTracer() {
        @Override
        public void streamClosed(Status status) {
          if (status.getCode() == Status.Code.RESOURCE_EXHAUSTED) {
            drop(DropReason.RECEIVED_TOO_LARGE);
          }
        }
      };
    }
  }

  private void deliverLoop(EventSink sink) {
    List<Event> batch = new ArrayList<>();
    try {
      while (!stopped) {
        batch.clear();
        inbox.takeBatch(batch, MAX_DELIVERY_BATCH);
        resumePaused();
        if (!sink.emit(EventList.of(batch))) {
          return;
        }
      }
    } catch (InterruptedException e) {
      // stop() interrupts us.
    }
  }

  private void resumePaused() {
    for (InboundStream s : paused) {
      if (!hasRoom()) {
        return;
      }
      if (hasRoom(s.sender)) {
        s.resume();
      }
    }
  }

  /** Whether the inbox has room for more network input. */
  private boolean hasRoom() {
    return inbox.size() < params.inboxCapacity() && inbox.bytes() < params.inboxBytes();
  }

  /** Whether the inbox has room for more network input from {@code sender}. */
  private boolean hasRoom(NodeId sender) {
    return hasRoom() && inbox.bytesOf(sender) < params.inboxBytesPerPeer();
  }

  // ---------------------------------------------------------------------------------------------
  // Metrics

  private void drop(DropReason reason) {
    dropped.get(reason).incrementAndGet();
  }

  private void drop(DropReason reason, int n) {
    dropped.get(reason).addAndGet(n);
  }

  /**
   * Per peer, for metrics (see {@link TransportStats}): messages sent, messages dropped because the
   * peer's queue was full, reconnections (streams opened after the first) and whether a stream is
   * up. This transport does not count received messages or bytes per peer.
   */
  @Override
  public Map<NodeId, PeerStats> peerStats() {
    Map<NodeId, PeerStats> out = new LinkedHashMap<>();
    metrics()
        .peers()
        .forEach(
            (id, p) ->
                out.put(
                    id,
                    new PeerStats(
                        p.sent(),
                        UNKNOWN,
                        UNKNOWN,
                        UNKNOWN,
                        p.droppedQueueFull(),
                        Math.max(0, p.connectAttempts() - 1),
                        p.connected())));
    return out;
  }

  /** Messages received from all peers. */
  @Override
  public long messagesReceived() {
    return received.get();
  }

  /** Dropped messages by {@link DropReason} (lower case). */
  @Override
  public Map<String, Long> droppedByReason() {
    Map<String, Long> out = new LinkedHashMap<>();
    dropped.forEach((r, c) -> out.put(r.name().toLowerCase(java.util.Locale.ROOT), c.get()));
    return out;
  }

  /** A snapshot of the counters. */
  public TransportMetrics metrics() {
    Map<DropReason, Long> d = new EnumMap<>(DropReason.class);
    dropped.forEach((r, c) -> d.put(r, c.get()));
    Map<NodeId, TransportMetrics.Peer> perPeer = new LinkedHashMap<>();
    long sent = 0;
    for (PeerConnection p : peers.values()) {
      TransportMetrics.Peer m = p.metrics();
      perPeer.put(p.peer(), m);
      sent += m.sent();
    }
    return new TransportMetrics(
        sent + sentByRemovedPeers.get(),
        received.get(),
        deliveredLocally.get(),
        d,
        refusedStreams.get(),
        perPeer);
  }

  /** Messages received from peers so far. */
  public long receivedCount() {
    return received.get();
  }

  /**
   * Incoming streams refused so far because the sender was not authenticated or not known, or had
   * no room left in the inbox (nothing sent on them was read).
   */
  public long refusedStreamCount() {
    return refusedStreams.get();
  }

  /**
   * Incoming connections closed at once so far because of the connection limits ({@link
   * Params#maxConnections()}, {@link Params#maxConnectionsPerAddress()}).
   */
  public long refusedConnectionCount() {
    return refusedConnections.get();
  }

  /** Incoming connections open now (before or after their handshake). */
  public int openConnectionCount() {
    return connections.open();
  }

  /** Messages received and not yet taken by the node. */
  int inboxSize() {
    return inbox.size();
  }

  /** Bytes of the messages received and not yet taken by the node (of {@code sender}). */
  long inboxBytes(NodeId sender) {
    return sender == null ? inbox.bytes() : inbox.bytesOf(sender);
  }

  private void refused() {
    refusedConnections.incrementAndGet();
  }

  /** Messages dropped so far for {@code reason}. */
  public long droppedCount(DropReason reason) {
    return dropped.get(reason).get();
  }

  private static MethodDescriptor.Marshaller<ByeBye> byeByeMarshaller() {
    return ProtoUtils.marshaller(ByeBye.getDefaultInstance());
  }

  @Override
  public String toString() {
    return "GrpcTransport[" + self + "]";
  }
}
