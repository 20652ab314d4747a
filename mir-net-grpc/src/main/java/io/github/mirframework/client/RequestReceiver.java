package io.github.mirframework.client;

import io.github.mirframework.client.pb.ByeBye;
import io.github.mirframework.client.pb.ClientHello;
import io.github.mirframework.client.pb.Reply;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.client.pb.RequestAck;
import io.github.mirframework.client.pb.RequestBatch;
import io.github.mirframework.client.pb.RequestReceiverGrpc;
import io.github.mirframework.client.pb.SessionFrame;
import io.github.mirframework.event.EventList;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.net.grpc.NodeIdentity;
import io.github.mirframework.net.grpc.internal.Threads;
import io.github.mirframework.net.grpc.internal.Tls;
import io.github.mirframework.node.MirException;
import io.github.mirframework.node.Node;
import io.github.mirframework.node.UnknownDestinationException;
import io.github.mirframework.types.ClientId;
import io.github.mirframework.types.ModuleId;
import io.grpc.Attributes;
import io.grpc.Grpc;
import io.grpc.Server;
import io.grpc.ServerTransportFilter;
import io.grpc.Status;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gRPC service through which clients submit requests to a node (Mir's {@code requestreceiver},
 * hardened and extended with replies): each valid request becomes a {@code NewRequests} event
 * injected into a configured module of the node (e.g. the mempool) with {@link Node#injectEvents},
 * and the results the node's application produces for a client's requests go back to that client.
 *
 * <p><b>Methods.</b> {@code Session} (what {@link MirClient} uses): frames of several requests,
 * cumulative acknowledgements ("the first k requests of this stream are handled") and replies.
 * {@code Listen} (Mir's, no answers) and {@code Submit} (one {@link RequestAck} per request) are
 * kept for compatibility. A request is <em>accepted</em> once the node has taken it into its event
 * buffer; that is all an acknowledgement means (it is neither durable nor ordered yet).
 *
 * <p><b>Clients are authenticated</b> (ADR 0005) with a {@link ClientRegistry}: a request must
 * carry a valid signature of a registered client, so nobody can submit under another client's ID or
 * occupy its request numbers, and unknown client IDs are refused. {@link
 * Builder#insecureUnauthenticatedClientsForTesting()} turns this off, for tests only. Each client
 * has an admission quota (a token bucket of {@link Params#clientRequestsPerSecond()}); requests
 * over it are answered THROTTLED. Request numbers must be below 2<sup>63</sup>.
 *
 * <p><b>Replies.</b> Bind a {@link ReplyModule} registered in the node ({@link Builder#replies});
 * the node's application module emits {@code ClientReplies} to it, and each reply goes to the
 * newest stream its client opened to this receiver (identified by a signed hello or by a signed
 * request on it), and into a bounded reply cache from which a resubmitted, already applied request
 * is answered.
 *
 * <p><b>Limits</b> (all in {@link Params}): TCP connections on the client port are capped globally
 * and per remote IP address; a connection that does not complete its TLS and HTTP/2 handshake
 * within {@link Params#handshakeTimeout()} is closed, and one without streams after {@link
 * Params#idleTimeout()}. A stream reads its next frame only when granted one by a receiver-wide
 * gate that allows at most {@link Params#inFlightBytes()} of frames read but not yet handed to the
 * node, and only while the node buffers fewer than {@link Params#maxBufferedEvents()} events; new
 * streams get nothing until there is room, so opening streams does not let a client read past the
 * limit. Frames, replies waiting for a slow client, and the reply cache are bounded in bytes.
 * Keep-alive: the receiver permits client pings every {@link Params#permitKeepAliveTime()} (with or
 * without streams), which must not be longer than the clients' keep-alive time ({@link
 * MirClient.Params#keepAliveTime()}), or gRPC ends their connections with {@code GOAWAY
 * ENHANCE_YOUR_CALM (too_many_pings)}.
 *
 * <p>Threads: one Netty event loop group ({@code mir-rr-<node>-io-*}), ended by {@link #stop()}.
 * Thread-safe.
 */
public final class RequestReceiver implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RequestReceiver.class);

  /**
   * Limits of the request receiver.
   *
   * @param maxRequestData the most data bytes in one request
   * @param maxClientIdLength the most characters in a client ID
   * @param maxBufferedEvents the node's buffered event count above which no further frame is read
   *     until the node catches up
   * @param ioThreads Netty event loop threads
   * @param shutdownTimeout how long {@link #stop()} waits for connections and threads to end
   * @param maxFrameBytes the largest frame (batch of requests) accepted on a stream
   * @param inFlightBytes frames read from clients but parked because the node was busy, at most
   *     (beyond, the stream is ended with {@code RESOURCE_EXHAUSTED})
   * @param maxConnections TCP connections on the client port, at most
   * @param maxConnectionsPerAddress TCP connections from one remote IP address, at most
   * @param handshakeTimeout a connection that has not completed its handshake by then is closed
   * @param idleTimeout a connection without streams for this long is closed
   * @param permitKeepAliveTime clients may ping this often (must not exceed the clients' keep-alive
   *     time)
   * @param keepAliveTime the receiver pings a silent client after this long, and drops it if the
   *     ping is not answered within as long
   * @param clientRequestsPerSecond each client's admission rate (token bucket refill)
   * @param clientBurst each client's token bucket size (requests admitted at once)
   * @param replyCacheBytes bytes of replies kept for resubmitted requests
   * @param replyCachePerClient replies kept per client
   * @param sessionOutboundBytes replies waiting for one slow client stream, at most (beyond, they
   *     are dropped; the client resubmits and is answered from the cache)
   * @param maxTrackedClients clients whose quota state is kept (least recently seen forgotten
   *     first); with a registry, at most the registered ones exist
   */
  public record Params(
      int maxRequestData,
      int maxClientIdLength,
      int maxBufferedEvents,
      int ioThreads,
      Duration shutdownTimeout,
      int maxFrameBytes,
      long inFlightBytes,
      int maxConnections,
      int maxConnectionsPerAddress,
      Duration handshakeTimeout,
      Duration idleTimeout,
      Duration permitKeepAliveTime,
      Duration keepAliveTime,
      double clientRequestsPerSecond,
      int clientBurst,
      long replyCacheBytes,
      int replyCachePerClient,
      long sessionOutboundBytes,
      int maxTrackedClients) {

    /** Validates the limits. */
    public Params {
      if (maxRequestData < 0
          || maxClientIdLength < 1
          || maxBufferedEvents < 1
          || ioThreads < 1
          || maxFrameBytes < 1024
          || inFlightBytes < 1
          || maxConnections < 1
          || maxConnectionsPerAddress < 1
          || !(clientRequestsPerSecond > 0)
          || clientBurst < 1
          || replyCacheBytes < 0
          || replyCachePerClient < 0
          || sessionOutboundBytes < 1
          || maxTrackedClients < 1) {
        throw new IllegalArgumentException(
            "invalid request receiver limits: "
                + List.of(
                    maxRequestData,
                    maxClientIdLength,
                    maxBufferedEvents,
                    ioThreads,
                    maxFrameBytes,
                    inFlightBytes,
                    maxConnections,
                    maxConnectionsPerAddress,
                    clientRequestsPerSecond,
                    clientBurst,
                    replyCacheBytes,
                    replyCachePerClient,
                    sessionOutboundBytes,
                    maxTrackedClients));
      }
      for (Duration d :
          new Duration[] {
            shutdownTimeout, handshakeTimeout, idleTimeout, permitKeepAliveTime, keepAliveTime
          }) {
        Objects.requireNonNull(d, "a duration of the request receiver's Params is null");
        if (d.isNegative() || d.isZero()) {
          throw new IllegalArgumentException("request receiver durations must be positive: " + d);
        }
      }
    }

    /**
     * The limits before the hardening, with defaults for the others.
     *
     * @deprecated use {@link #defaults()} and the {@code with...} methods
     */
    @Deprecated
    public Params(
        int maxRequestData,
        int maxClientIdLength,
        int maxBufferedEvents,
        int ioThreads,
        Duration shutdownTimeout) {
      this(
          maxRequestData,
          maxClientIdLength,
          maxBufferedEvents,
          ioThreads,
          shutdownTimeout,
          Math.max(4 << 20, maxRequestData + 4 * maxClientIdLength + 256),
          16L << 20,
          1024,
          64,
          Duration.ofSeconds(10),
          Duration.ofMinutes(5),
          Duration.ofSeconds(5),
          Duration.ofSeconds(30),
          20_000,
          40_000,
          64L << 20,
          4096,
          4L << 20,
          65_536);
    }

    /**
     * 1 MiB of data per request, 256-character client IDs, 4096 buffered events, 1 thread, 4 MiB
     * frames, 16 MiB in flight, 1024 connections (64 per address), 10 s handshake, 5 min idle,
     * pings permitted every 5 s, pinging silent clients after 30 s, 20,000 requests/s (burst
     * 40,000) per client, 64 MiB reply cache (4096 per client), 4 MiB of replies per slow stream,
     * 65,536 tracked clients.
     */
    @SuppressWarnings("deprecation")
    public static Params defaults() {
      return new Params(1 << 20, 256, 4096, 1, Duration.ofSeconds(5));
    }

    /** A copy with another data limit (frames grow to fit one request of that size). */
    public Params withMaxRequestData(int bytes) {
      return new Params(
          bytes,
          maxClientIdLength,
          maxBufferedEvents,
          ioThreads,
          shutdownTimeout,
          Math.max(maxFrameBytes, bytes + 4 * maxClientIdLength + 256),
          inFlightBytes,
          maxConnections,
          maxConnectionsPerAddress,
          handshakeTimeout,
          idleTimeout,
          permitKeepAliveTime,
          keepAliveTime,
          clientRequestsPerSecond,
          clientBurst,
          replyCacheBytes,
          replyCachePerClient,
          sessionOutboundBytes,
          maxTrackedClients);
    }

    /** A copy with another buffered-events threshold. */
    public Params withMaxBufferedEvents(int events) {
      return new Params(
          maxRequestData,
          maxClientIdLength,
          events,
          ioThreads,
          shutdownTimeout,
          maxFrameBytes,
          inFlightBytes,
          maxConnections,
          maxConnectionsPerAddress,
          handshakeTimeout,
          idleTimeout,
          permitKeepAliveTime,
          keepAliveTime,
          clientRequestsPerSecond,
          clientBurst,
          replyCacheBytes,
          replyCachePerClient,
          sessionOutboundBytes,
          maxTrackedClients);
    }

    /** A copy with other frame and in-flight byte budgets. */
    public Params withFrameBudget(int maxFrameBytes, long inFlightBytes) {
      return new Params(
          maxRequestData,
          maxClientIdLength,
          maxBufferedEvents,
          ioThreads,
          shutdownTimeout,
          maxFrameBytes,
          inFlightBytes,
          maxConnections,
          maxConnectionsPerAddress,
          handshakeTimeout,
          idleTimeout,
          permitKeepAliveTime,
          keepAliveTime,
          clientRequestsPerSecond,
          clientBurst,
          replyCacheBytes,
          replyCachePerClient,
          sessionOutboundBytes,
          maxTrackedClients);
    }

    /** A copy with other connection caps and timeouts. */
    public Params withConnectionLimits(
        int maxConnections,
        int maxConnectionsPerAddress,
        Duration handshakeTimeout,
        Duration idleTimeout) {
      return new Params(
          maxRequestData,
          maxClientIdLength,
          maxBufferedEvents,
          ioThreads,
          shutdownTimeout,
          maxFrameBytes,
          inFlightBytes,
          maxConnections,
          maxConnectionsPerAddress,
          handshakeTimeout,
          idleTimeout,
          permitKeepAliveTime,
          keepAliveTime,
          clientRequestsPerSecond,
          clientBurst,
          replyCacheBytes,
          replyCachePerClient,
          sessionOutboundBytes,
          maxTrackedClients);
    }

    /** A copy with other keep-alive settings. */
    public Params withKeepAlive(Duration permitKeepAliveTime, Duration keepAliveTime) {
      return new Params(
          maxRequestData,
          maxClientIdLength,
          maxBufferedEvents,
          ioThreads,
          shutdownTimeout,
          maxFrameBytes,
          inFlightBytes,
          maxConnections,
          maxConnectionsPerAddress,
          handshakeTimeout,
          idleTimeout,
          permitKeepAliveTime,
          keepAliveTime,
          clientRequestsPerSecond,
          clientBurst,
          replyCacheBytes,
          replyCachePerClient,
          sessionOutboundBytes,
          maxTrackedClients);
    }

    /** A copy with another per-client admission quota. */
    public Params withClientQuota(double requestsPerSecond, int burst) {
      return new Params(
          maxRequestData,
          maxClientIdLength,
          maxBufferedEvents,
          ioThreads,
          shutdownTimeout,
          maxFrameBytes,
          inFlightBytes,
          maxConnections,
          maxConnectionsPerAddress,
          handshakeTimeout,
          idleTimeout,
          permitKeepAliveTime,
          keepAliveTime,
          requestsPerSecond,
          burst,
          replyCacheBytes,
          replyCachePerClient,
          sessionOutboundBytes,
          maxTrackedClients);
    }

    /** A copy with other reply buffers. */
    public Params withReplyLimits(long cacheBytes, int cachePerClient, long sessionOutboundBytes) {
      return new Params(
          maxRequestData,
          maxClientIdLength,
          maxBufferedEvents,
          ioThreads,
          shutdownTimeout,
          maxFrameBytes,
          inFlightBytes,
          maxConnections,
          maxConnectionsPerAddress,
          handshakeTimeout,
          idleTimeout,
          permitKeepAliveTime,
          keepAliveTime,
          clientRequestsPerSecond,
          clientBurst,
          cacheBytes,
          cachePerClient,
          sessionOutboundBytes,
          maxTrackedClients);
    }
  }

  private final Node node;
  private final ModuleId destination;
  private final NodeAddress requestedAddress;
  private final NodeIdentity tlsIdentity;
  private final ClientRegistry registry;
  private final ReplyModule replyModule;
  private final Params params;
  private final int streamsPerConnection;
  private final Threads threads;
  private final ConnectionLimiter limiter;
  private final Gate gate = new Gate();
  private final ReplyCache replyCache;
  private final Map<ClientId, Session> replyRoutes = new ConcurrentHashMap<>();
  private final Map<ClientId, TokenBucket> quotas;

  private final Object lock = new Object();
  private boolean started;
  private boolean stopped;
  private EventLoopGroup eventLoops;
  private Server server;
  private NodeAddress boundAddress;

  private final AtomicLong accepted = new AtomicLong();
  private final AtomicLong rejected = new AtomicLong();
  private final AtomicLong throttled = new AtomicLong();
  private final AtomicLong repliesSent = new AtomicLong();
  private final AtomicLong repliesDropped = new AtomicLong();
  private final AtomicLong framesRead = new AtomicLong();
  private final AtomicLong refusedFrames = new AtomicLong();
  private final AtomicLong streamsOpened = new AtomicLong();
  private final AtomicLong pausedForUnreadAnswers = new AtomicLong();

  /** Streams on one connection at most, unless the builder sets another limit. */
  public static final int DEFAULT_STREAMS_PER_CONNECTION = 8;

  /** Refusals kept for one stream at most (one frame may refuse thousands of requests). */
  private static final long MAX_UNSENT_ANSWER_BYTES = 1 << 20;

  private volatile long parkedPeak;

  private RequestReceiver(Builder b) {
    this.node = b.node;
    this.destination = b.destination;
    this.requestedAddress = b.listenAddress;
    this.tlsIdentity = b.tlsIdentity;
    this.registry = b.registry;
    this.replyModule = b.replyModule;
    this.params = b.params;
    this.streamsPerConnection = b.streamsPerConnection;
    this.threads = new Threads(node.id().value());
    this.limiter =
        new ConnectionLimiter(
            params.maxConnections(), params.maxConnectionsPerAddress(), params.handshakeTimeout());
    this.replyCache = new ReplyCache(params.replyCacheBytes(), params.replyCachePerClient());
    int maxClients = params.maxTrackedClients();
    this.quotas =
        new LinkedHashMap<>(16, 0.75f, true) {
          private static final long serialVersionUID = 1L;

          @Override
          protected boolean removeEldestEntry(Map.Entry<ClientId, TokenBucket> eldest) {
            return size() > maxClients;
          }
        };
  }

  /**
   * Returns a builder of a receiver that injects requests into module {@code destination} of {@code
   * node} and listens on {@code listenAddress} (port 0: any free port).
   */
  public static Builder builder(Node node, ModuleId destination, NodeAddress listenAddress) {
    return new Builder(node, destination, listenAddress);
  }

  /** Builds a {@link RequestReceiver}. */
  public static final class Builder {
    private final Node node;
    private final ModuleId destination;
    private final NodeAddress listenAddress;
    private NodeIdentity tlsIdentity;
    private boolean securityChosen;
    private ClientRegistry registry;
    private boolean clientAuthChosen;
    private ReplyModule replyModule;
    private Params params = Params.defaults();
    private int streamsPerConnection = DEFAULT_STREAMS_PER_CONNECTION;

    private Builder(Node node, ModuleId destination, NodeAddress listenAddress) {
      this.node = Objects.requireNonNull(node, "node");
      this.destination = Objects.requireNonNull(destination, "destination");
      this.listenAddress = Objects.requireNonNull(listenAddress, "listenAddress");
    }

    /** Serve TLS with the node's identity; clients pin the node's key (see {@link MirClient}). */
    public Builder tls(NodeIdentity identity) {
      this.tlsIdentity = Objects.requireNonNull(identity, "identity");
      this.securityChosen = true;
      return this;
    }

    /** Serve plaintext (tests, demos, trusted networks). */
    public Builder plaintext() {
      this.tlsIdentity = null;
      this.securityChosen = true;
      return this;
    }

    /**
     * The most streams (clients) open at once on one connection (default {@value
     * RequestReceiver#DEFAULT_STREAMS_PER_CONNECTION}). Raise it for processes that multiplex many
     * clients on shared connections ({@link ClientChannels}); every stream's buffers are bounded by
     * the receiver's byte budgets either way, and the connection caps still apply.
     *
     * @throws IllegalArgumentException if {@code streams} is not between 1 and 65,536
     */
    public Builder streamsPerConnection(int streams) {
      if (streams < 1 || streams > 65_536) {
        throw new IllegalArgumentException(
            "streams per connection must be between 1 and 65536, got " + streams);
      }
      this.streamsPerConnection = streams;
      return this;
    }

    /**
     * Accept only authentic requests of the clients in {@code registry} (the same registry the
     * replicas use, see {@link ClientRegistry}).
     */
    public Builder clients(ClientRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry");
      this.clientAuthChosen = true;
      return this;
    }

    /**
     * For tests only: accept requests of any client ID without a signature. Anyone who can reach
     * the port can then submit in another client's name and occupy its request numbers.
     */
    public Builder insecureUnauthenticatedClientsForTesting() {
      this.registry = null;
      this.clientAuthChosen = true;
      return this;
    }

    /**
     * Send the replies that {@code replies} (registered in the node) receives from the node's
     * application to the clients.
     */
    public Builder replies(ReplyModule replies) {
      this.replyModule = Objects.requireNonNull(replies, "replies");
      return this;
    }

    /** The limits (default {@link Params#defaults()}). */
    public Builder params(Params params) {
      this.params = Objects.requireNonNull(params, "params");
      return this;
    }

    /**
     * Builds the receiver (not started).
     *
     * @throws IllegalStateException if neither {@link #tls} nor {@link #plaintext()} was chosen, or
     *     neither {@link #clients} nor {@link #insecureUnauthenticatedClientsForTesting()}
     */
    public RequestReceiver build() {
      if (!securityChosen) {
        throw new IllegalStateException("choose tls(identity) or plaintext()");
      }
      if (!clientAuthChosen) {
        throw new IllegalStateException(
            "choose clients(registry) (authenticated clients, see ADR 0005) or, in tests only,"
                + " insecureUnauthenticatedClientsForTesting()");
      }
      RequestReceiver r = new RequestReceiver(this);
      if (replyModule != null) {
        replyModule.bind(r);
      }
      return r;
    }
  }

  /**
   * Starts listening. Idempotent.
   *
   * @throws IOException if the port cannot be bound
   * @throws IllegalStateException if the receiver was stopped
   */
  public void start() throws IOException {
    synchronized (lock) {
      if (stopped) {
        throw new IllegalStateException("request receiver was stopped");
      }
      if (started) {
        return;
      }
      String prefix = "mir-rr-" + node.id();
      eventLoops = threads.eventLoops(params.ioThreads(), prefix + "-io");
      limiter.timers(eventLoops);
      int maxInbound =
          Math.max(
              params.maxFrameBytes(),
              params.maxRequestData() + 4 * params.maxClientIdLength() + 256);
      NettyServerBuilder sb =
          NettyServerBuilder.forAddress(
                  new InetSocketAddress(requestedAddress.host(), requestedAddress.port()))
              .channelFactory(() -> limiter.new CappedServerChannel())
              .bossEventLoopGroup(eventLoops)
              .workerEventLoopGroup(eventLoops)
              .directExecutor()
              .maxInboundMessageSize(maxInbound)
              .maxInboundMetadataSize(8 << 10)
              .maxConcurrentCallsPerConnection(streamsPerConnection)
              .handshakeTimeout(params.handshakeTimeout().toNanos(), TimeUnit.NANOSECONDS)
              .maxConnectionIdle(params.idleTimeout().toNanos(), TimeUnit.NANOSECONDS)
              .permitKeepAliveTime(params.permitKeepAliveTime().toNanos(), TimeUnit.NANOSECONDS)
              .permitKeepAliveWithoutCalls(true)
              .keepAliveTime(params.keepAliveTime().toNanos(), TimeUnit.NANOSECONDS)
              .keepAliveTimeout(params.keepAliveTime().toNanos(), TimeUnit.NANOSECONDS)
              .addTransportFilter(
                  new ServerTransportFilter() {
                    @Override
                    public Attributes transportReady(Attributes attrs) {
                      limiter.transportReady(attrs.get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR));
                      return attrs;
                    }

                    @Override
                    public void transportTerminated(Attributes attrs) {
                      if (attrs != null) {
                        limiter.transportTerminated(attrs.get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR));
                      }
                    }
                  })
              .addService(RequestReceiverGrpc.bindService(new Service()));
      if (tlsIdentity != null) {
        sb.sslContext(Tls.server(tlsIdentity.privateKey(), tlsIdentity.certificate(), null));
      }
      Server s = sb.build();
      try {
        s.start();
      } catch (IOException | RuntimeException e) {
        s.shutdownNow();
        Threads.shutdown(eventLoops, params.shutdownTimeout());
        threads.joinAll(params.shutdownTimeout());
        throw new IOException(
            "request receiver of node "
                + node.id()
                + " cannot listen on "
                + requestedAddress
                + ": "
                + e.getMessage(),
            e);
      }
      server = s;
      int port = requestedAddress.port();
      for (SocketAddress a : s.getListenSockets()) {
        if (a instanceof InetSocketAddress isa) {
          port = isa.getPort();
        }
      }
      boundAddress = requestedAddress.withPort(port);
      started = true;
      LOG.info(
          "{}: request receiver listening on {} ({}, {}), requests go to '{}'",
          node.id(),
          boundAddress,
          tlsIdentity == null ? "plaintext" : "TLS",
          registry == null ? "UNAUTHENTICATED clients (testing only)" : registry,
          destination);
    }
  }

  /**
   * The address the receiver listens on, with the actual port.
   *
   * @throws IllegalStateException if it has not been started
   */
  public NodeAddress listenAddress() {
    synchronized (lock) {
      if (boundAddress == null) {
        throw new IllegalStateException("request receiver is not started");
      }
      return boundAddress;
    }
  }

  /** Stops accepting requests, closes all client streams and ends the threads. Idempotent. */
  public void stop() {
    Server s;
    synchronized (lock) {
      if (stopped) {
        return;
      }
      stopped = true;
      s = server;
    }
    long deadline = System.nanoTime() + params.shutdownTimeout().toNanos();
    if (s != null) {
      s.shutdownNow();
      try {
        s.awaitTermination(params.shutdownTimeout().toNanos(), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    Threads.shutdown(
        eventLoops, Duration.ofNanos(Math.max(1_000_000, deadline - System.nanoTime())));
    threads.joinAll(Duration.ofNanos(Math.max(1_000_000, deadline - System.nanoTime())));
  }

  /** Same as {@link #stop()}. */
  @Override
  public void close() {
    stop();
  }

  /** Requests injected into the node so far. */
  public long acceptedCount() {
    return accepted.get();
  }

  /** Invalid or unauthentic requests rejected so far. */
  public long rejectedCount() {
    return rejected.get();
  }

  /** Requests refused because their client exceeded its quota. */
  public long throttledCount() {
    return throttled.get();
  }

  /** Replies written to client streams (including answers from the reply cache). */
  public long repliesSentCount() {
    return repliesSent.get();
  }

  /** Replies not sent because the client's stream was slow or gone (they stay in the cache). */
  public long repliesDroppedCount() {
    return repliesDropped.get();
  }

  /** Frames (of any method) read from clients so far. */
  public long framesReadCount() {
    return framesRead.get();
  }

  /**
   * Streams ended because their frame did not fit in the in-flight budget while the node was busy.
   */
  public long refusedFramesCount() {
    return refusedFrames.get();
  }

  /** Client streams opened so far (all methods). */
  public long streamsOpenedCount() {
    return streamsOpened.get();
  }

  /** The most bytes of frames parked at once while the node was busy. */
  public long parkedBytesPeak() {
    return parkedPeak;
  }

  /**
   * Times a stream stopped being read because the answers to its earlier requests were not yet
   * written (its client does not read them); it is read again once they are.
   */
  public long streamsPausedForUnreadAnswersCount() {
    return pausedForUnreadAnswers.get();
  }

  /** Open TCP connections on the client port. */
  public int openConnections() {
    return limiter.open();
  }

  /** Connections closed at once because a connection cap was reached. */
  public long refusedConnectionsCount() {
    return limiter.refusedCount();
  }

  /** Connections closed because they did not complete their handshake in time. */
  public long handshakeTimeoutsCount() {
    return limiter.handshakeTimeoutCount();
  }

  /** Called by the {@link ReplyModule} (a node worker thread). */
  void deliverReplies(List<Reply> replies) {
    List<Session> touched = new ArrayList<>();
    for (Reply r : replies) {
      if (r.getClientId().isEmpty()) {
        continue;
      }
      replyCache.put(r);
      Session s = replyRoutes.get(ClientId.of(r.getClientId()));
      if (s != null && s.addReply(r)) {
        if (!touched.contains(s)) {
          touched.add(s);
        }
      }
    }
    for (Session s : touched) {
      s.flush();
    }
  }

  /** Checks a request; returns why it is refused, or null. */
  private String validate(Request r) {
    String id = r.getClientId();
    if (id.length() > params.maxClientIdLength()) {
      return "client ID longer than " + params.maxClientIdLength() + " characters";
    }
    String format = ClientRegistry.checkFormat(r);
    if (format != null) {
      return format;
    }
    if (r.getData().size() > params.maxRequestData()) {
      return "request data of "
          + r.getData().size()
          + " bytes exceeds the limit of "
          + params.maxRequestData();
    }
    return registry == null ? null : registry.check(r);
  }

  private boolean admit(ClientId client) {
    TokenBucket b;
    synchronized (quotas) {
      b = quotas.computeIfAbsent(client, c -> new TokenBucket(params.clientBurst()));
    }
    return b.tryTake(params.clientRequestsPerSecond(), params.clientBurst());
  }

  /** A per-client token bucket. */
  private static final class TokenBucket {
    private double tokens;
    private long lastNanos = System.nanoTime();

    TokenBucket(int burst) {
      tokens = burst;
    }

    synchronized boolean tryTake(double perSecond, int burst) {
      long now = System.nanoTime();
      tokens = Math.min(burst, tokens + (now - lastNanos) * perSecond / 1e9);
      lastNanos = now;
      if (tokens >= 1) {
        tokens -= 1;
        return true;
      }
      return false;
    }
  }

  /** Injects accepted requests; returns an error status or null. */
  private Status inject(List<Request> requests) {
    try {
      node.injectEvents(EventList.of(ClientEvents.newRequests(destination, requests)));
    } catch (UnknownDestinationException e) {
      LOG.error("{}: requests cannot be delivered: {}", node.id(), e.getMessage());
      return Status.INTERNAL.withDescription("the node cannot take requests");
    } catch (MirException | IllegalStateException e) {
      return Status.UNAVAILABLE.withDescription("the node is not running");
    }
    accepted.addAndGet(requests.size());
    return null;
  }

  /**
   * Keeps the node's buffer below {@link Params#maxBufferedEvents()} however many streams clients
   * open. Each stream asks gRPC for one frame at a time, and for the next one only after the
   * current one was handed to the node. A frame that arrives while the node is over its threshold
   * (or while older frames wait) is parked; parked frames are bounded by {@link
   * Params#inFlightBytes()}, and a stream whose frame does not fit is ended with {@code
   * RESOURCE_EXHAUSTED}. While frames are parked, one timer (for the whole receiver, not one per
   * stream) hands them to the node as soon as it has room.
   */
  private final class Gate {
    private final ArrayDeque<Runnable> parked = new ArrayDeque<>();
    private final ArrayDeque<Long> parkedSizes = new ArrayDeque<>();
    private long parkedBytes;
    private boolean pollScheduled;

    /** Whether a frame that just arrived may be handled at once. */
    synchronized boolean admitNow() {
      return parked.isEmpty() && node.bufferedEvents() < params.maxBufferedEvents();
    }

    /** Parks a frame of {@code bytes}; false if it does not fit in the budget. */
    synchronized boolean park(Runnable handle, long bytes) {
      if (!parked.isEmpty() && parkedBytes + bytes > params.inFlightBytes()) {
        return false;
      }
      parked.addLast(handle);
      parkedSizes.addLast(bytes);
      parkedBytes += bytes;
      parkedPeak = Math.max(parkedPeak, parkedBytes);
      schedulePoll();
      return true;
    }

    private void poll() {
      while (true) {
        Runnable next;
        synchronized (this) {
          pollScheduled = false;
          if (parked.isEmpty()) {
            return;
          }
          if (node.bufferedEvents() >= params.maxBufferedEvents()) {
            schedulePoll();
            return;
          }
          next = parked.pollFirst();
          parkedBytes -= parkedSizes.pollFirst();
        }
        next.run();
      }
    }

    private void schedulePoll() {
      if (pollScheduled || eventLoops == null) {
        return;
      }
      pollScheduled = true;
      try {
        eventLoops.schedule(this::poll, 1, TimeUnit.MILLISECONDS);
      } catch (RejectedExecutionException e) {
        pollScheduled = false; // stopping
      }
    }
  }

  /**
   * Runs {@code handle} for a frame of {@code bytes} now or when the node has room; returns false
   * if the frame had to be refused (the caller ends the stream).
   */
  private boolean throughGate(Runnable handle, long bytes) {
    if (gate.admitNow()) {
      handle.run();
      return true;
    }
    if (gate.park(handle, bytes)) {
      return true;
    }
    refusedFrames.incrementAndGet();
    return false;
  }

  private final class Service implements RequestReceiverGrpc.AsyncService {
    @Override
    public StreamObserver<Request> listen(StreamObserver<ByeBye> responseObserver) {
      return new Ingress<>((ServerCallStreamObserver<ByeBye>) responseObserver, false);
    }

    @Override
    public StreamObserver<Request> submit(StreamObserver<RequestAck> responseObserver) {
      return new Ingress<>((ServerCallStreamObserver<RequestAck>) responseObserver, true);
    }

    @Override
    public StreamObserver<RequestBatch> session(StreamObserver<SessionFrame> responseObserver) {
      return new Session((ServerCallStreamObserver<SessionFrame>) responseObserver);
    }
  }

  /**
   * A {@code Session} stream: batches in, cumulative acknowledgements and replies out. gRPC
   * callbacks come from one event loop thread at a time; replies may be added from the node's reply
   * module thread, so the outgoing side is guarded by {@code this}.
   */
  private final class Session implements StreamObserver<RequestBatch> {
    private final ServerCallStreamObserver<SessionFrame> responses;
    private volatile boolean done;
    private final List<ClientId> routedClients = new ArrayList<>();
    // Guarded by this.
    private long handled;
    private boolean handledDirty;
    private final List<RequestAck> notAccepted = new ArrayList<>();
    private long notAcceptedBytes;
    private boolean readPaused;
    private final ArrayDeque<Reply> replies = new ArrayDeque<>();
    private long replyBytes;

    Session(ServerCallStreamObserver<SessionFrame> responses) {
      this.responses = responses;
      streamsOpened.incrementAndGet();
      responses.disableAutoRequest();
      responses.setOnCancelHandler(this::ended);
      responses.setOnReadyHandler(this::flush);
      responses.request(1);
    }

    @Override
    public void onNext(RequestBatch batch) {
      framesRead.incrementAndGet();
      if (done) {
        return;
      }
      Runnable work =
          () -> {
            synchronized (this) {
              if (done) {
                return;
              }
              handle(batch);
              if (!done) {
                requestNextFrameLocked();
              }
            }
          };
      if (!throughGate(work, batch.getSerializedSize())) {
        synchronized (this) {
          done = true;
          responses.onError(
              Status.RESOURCE_EXHAUSTED
                  .withDescription("the node is busy; retry later")
                  .asRuntimeException());
        }
        ended();
      }
    }

    private void handle(RequestBatch batch) {
      if (batch.hasHello()) {
        hello(batch.getHello());
      }
      List<Request> accept = new ArrayList<>(batch.getRequestsCount());
      List<RequestAck> refused = new ArrayList<>();
      List<Reply> cached = new ArrayList<>();
      for (Request r : batch.getRequestsList()) {
        String problem = validate(r);
        if (problem != null) {
          rejected.incrementAndGet();
          LOG.debug("{}: rejecting a request: {}", node.id(), problem);
          refused.add(ack(r, RequestAck.Status.REJECTED, problem));
          continue;
        }
        ClientId client = ClientId.of(r.getClientId());
        route(client);
        Reply reply = replyCache.get(r.getClientId(), r.getReqNo());
        if (reply != null) {
          cached.add(reply);
          continue;
        }
        if (!admit(client)) {
          throttled.incrementAndGet();
          refused.add(
              ack(r, RequestAck.Status.THROTTLED, "admission quota of the client exceeded"));
          continue;
        }
        accept.add(r);
      }
      if (!accept.isEmpty()) {
        Status failure = inject(accept);
        if (failure != null) {
          done = true;
          synchronized (this) {
            responses.onError(failure.asRuntimeException());
          }
          ended();
          return;
        }
      }
      synchronized (this) {
        handled += batch.getRequestsCount();
        handledDirty = true;
        for (RequestAck a : refused) {
          addNotAcceptedLocked(a);
        }
        for (Reply r : cached) {
          addReplyLocked(r);
        }
      }
      flush();
    }

    /**
     * Reads the next frame only once the answers to the earlier ones are written: a client that
     * does not read its answers is not read either, so its answers cannot pile up.
     */
    private void requestNextFrameLocked() {
      if (notAccepted.isEmpty()) {
        responses.request(1);
      } else {
        readPaused = true;
        pausedForUnreadAnswers.incrementAndGet();
      }
    }

    /** Keeps an answer, within the stream's budget (one frame may refuse many requests). */
    private void addNotAcceptedLocked(RequestAck a) {
      int size = a.getSerializedSize();
      if (notAcceptedBytes + size
          > Math.min(params.sessionOutboundBytes(), MAX_UNSENT_ANSWER_BYTES)) {
        return; // the client does not learn that this one was refused; it resubmits it
      }
      notAccepted.add(a);
      notAcceptedBytes += size;
    }

    private RequestAck ack(Request r, RequestAck.Status status, String reason) {
      return RequestAck.newBuilder()
          .setClientId(r.getClientId().length() > params.maxClientIdLength() ? "" : r.getClientId())
          .setReqNo(r.getReqNo())
          .setStatus(status)
          .setReason(reason)
          .build();
    }

    private void hello(ClientHello h) {
      if (h.getClientId().isEmpty() || h.getClientId().length() > params.maxClientIdLength()) {
        return;
      }
      String problem = registry == null ? null : registry.checkHello(h, node.id());
      if (problem != null) {
        LOG.debug("{}: ignoring a client hello: {}", node.id(), problem);
        return;
      }
      route(ClientId.of(h.getClientId()));
    }

    /** Replies for {@code client} go to this stream from now on. */
    private void route(ClientId client) {
      if (routedClients.contains(client)) {
        if (replyRoutes.get(client) == this) {
          return;
        }
      } else if (routedClients.size() >= 16) {
        return; // a stream serves a handful of clients at most
      } else {
        routedClients.add(client);
      }
      replyRoutes.put(client, this);
    }

    synchronized boolean addReply(Reply r) {
      if (done) {
        repliesDropped.incrementAndGet();
        return false;
      }
      addReplyLocked(r);
      return true;
    }

    private void addReplyLocked(Reply r) {
      long size = r.getSerializedSize();
      while (!replies.isEmpty() && replyBytes + size > params.sessionOutboundBytes()) {
        replyBytes -= replies.pollFirst().getSerializedSize();
        repliesDropped.incrementAndGet();
      }
      if (size > params.sessionOutboundBytes()) {
        repliesDropped.incrementAndGet();
        return;
      }
      replies.addLast(r);
      replyBytes += size;
    }

    /** Writes what is waiting, as far as the stream is ready. */
    synchronized void flush() {
      if (done) {
        return;
      }
      while (responses.isReady() && (handledDirty || !replies.isEmpty())) {
        SessionFrame.Builder f =
            SessionFrame.newBuilder().setHandled(handled).addAllNotAccepted(notAccepted);
        handledDirty = false;
        notAccepted.clear();
        notAcceptedBytes = 0;
        long bytes = 0;
        while (!replies.isEmpty() && bytes < 256 << 10) {
          Reply r = replies.pollFirst();
          int size = r.getSerializedSize();
          replyBytes -= size;
          bytes += size;
          f.addReplies(r);
        }
        repliesSent.addAndGet(f.getRepliesCount());
        try {
          responses.onNext(f.build());
        } catch (RuntimeException e) {
          // The call was cancelled meanwhile.
          done = true;
          return;
        }
      }
      if (readPaused && notAccepted.isEmpty()) {
        readPaused = false;
        responses.request(1);
      }
    }

    private void ended() {
      done = true;
      List<ClientId> routed;
      synchronized (this) {
        routed = List.copyOf(routedClients);
      }
      for (ClientId c : routed) {
        replyRoutes.remove(c, this);
      }
    }

    @Override
    public void onError(Throwable t) {
      ended();
    }

    @Override
    public void onCompleted() {
      if (done) {
        return;
      }
      synchronized (this) {
        flush();
        ended();
        responses.onCompleted();
      }
    }
  }

  /** A {@code Listen} or {@code Submit} stream (one request per frame). */
  private final class Ingress<R> implements StreamObserver<Request> {
    private final ServerCallStreamObserver<R> responses;
    private final boolean acks;
    private volatile boolean done;
    private boolean readPaused; // guarded by this

    Ingress(ServerCallStreamObserver<R> responses, boolean acks) {
      this.responses = responses;
      this.acks = acks;
      streamsOpened.incrementAndGet();
      responses.disableAutoRequest();
      responses.setOnCancelHandler(this::ended);
      responses.setOnReadyHandler(this::onReady);
      responses.request(1);
    }

    /**
     * Reads the next request only while the answers can be written: a client that does not read its
     * answers is not read either, so they cannot pile up.
     */
    private void requestNextLocked() {
      if (!acks || responses.isReady()) {
        responses.request(1);
      } else {
        readPaused = true;
        pausedForUnreadAnswers.incrementAndGet();
      }
    }

    private synchronized void onReady() {
      if (readPaused && !done) {
        readPaused = false;
        responses.request(1);
      }
    }

    @Override
    public void onNext(Request r) {
      framesRead.incrementAndGet();
      if (done) {
        return;
      }
      Runnable work =
          () -> {
            synchronized (this) {
              if (done) {
                return;
              }
              handle(r);
              if (!done) {
                requestNextLocked();
              }
            }
          };
      if (!throughGate(work, r.getSerializedSize())) {
        synchronized (this) {
          done = true;
          responses.onError(
              Status.RESOURCE_EXHAUSTED
                  .withDescription("the node is busy; retry later")
                  .asRuntimeException());
        }
      }
    }

    private void handle(Request r) {
      String problem = validate(r);
      if (problem != null) {
        rejected.incrementAndGet();
        LOG.debug("{}: rejecting a request: {}", node.id(), problem);
        answer(r.getReqNo(), RequestAck.Status.REJECTED, problem);
        return;
      }
      if (!admit(ClientId.of(r.getClientId()))) {
        throttled.incrementAndGet();
        answer(r.getReqNo(), RequestAck.Status.THROTTLED, "admission quota of the client exceeded");
        return;
      }
      Status failure = inject(List.of(r));
      if (failure != null) {
        done = true;
        synchronized (this) {
          responses.onError(failure.asRuntimeException());
        }
        ended();
        return;
      }
      answer(r.getReqNo(), RequestAck.Status.ACCEPTED, "");
    }

    @SuppressWarnings("unchecked")
    private synchronized void answer(long reqNo, RequestAck.Status status, String reason) {
      if (acks) {
        ((ServerCallStreamObserver<RequestAck>) responses)
            .onNext(
                RequestAck.newBuilder()
                    .setReqNo(reqNo)
                    .setStatus(status)
                    .setReason(reason)
                    .build());
      }
    }

    private void ended() {
      done = true;
    }

    @Override
    public void onError(Throwable t) {
      ended();
    }

    @Override
    @SuppressWarnings("unchecked")
    public synchronized void onCompleted() {
      if (done) {
        return;
      }
      ended();
      if (!acks) {
        ((ServerCallStreamObserver<ByeBye>) responses).onNext(ByeBye.getDefaultInstance());
      }
      responses.onCompleted();
    }
  }
}
