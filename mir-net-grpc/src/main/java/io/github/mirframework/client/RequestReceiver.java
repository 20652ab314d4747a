package io.github.mirframework.client;

import io.github.mirframework.client.pb.ByeBye;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.client.pb.RequestAck;
import io.github.mirframework.client.pb.RequestReceiverGrpc;
import io.github.mirframework.event.EventList;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.net.grpc.NodeIdentity;
import io.github.mirframework.net.grpc.internal.Threads;
import io.github.mirframework.net.grpc.internal.Tls;
import io.github.mirframework.node.MirException;
import io.github.mirframework.node.Node;
import io.github.mirframework.node.UnknownDestinationException;
import io.github.mirframework.types.ModuleId;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gRPC service through which clients submit requests to a node (Mir's {@code requestreceiver}):
 * each valid request becomes a {@code NewRequests} event injected into a configured module of the
 * node (e.g. the mempool) with {@link Node#injectEvents}.
 *
 * <p>Two methods: {@code Listen} (Mir's: a stream of requests, no answers) and {@code Submit} (the
 * same, with one {@link RequestAck} per request, in order). A request is <em>accepted</em> once the
 * node has taken it into its event buffer; that is all an ACCEPTED acknowledgement means (it is
 * neither durable nor ordered yet). Invalid requests (empty or too long client ID, too much data)
 * are rejected (REJECTED on {@code Submit}, dropped on {@code Listen}) and counted; a frame larger
 * than the limit ends its stream.
 *
 * <p>Client input is untrusted: besides validation, the receiver reads the next request of a stream
 * only while the node has fewer than {@link Params#maxBufferedEvents()} events buffered, so a flood
 * of requests slows the clients down (gRPC flow control) instead of filling the node's memory.
 * Client IDs are not authenticated.
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
   * @param maxBufferedEvents the node's buffered event count above which no further request is read
   *     until the node catches up
   * @param ioThreads Netty event loop threads
   * @param shutdownTimeout how long {@link #stop()} waits for connections and threads to end
   */
  public record Params(
      int maxRequestData,
      int maxClientIdLength,
      int maxBufferedEvents,
      int ioThreads,
      Duration shutdownTimeout) {

    /** Validates the limits. */
    public Params {
      if (maxRequestData < 0 || maxClientIdLength < 1 || maxBufferedEvents < 1 || ioThreads < 1) {
        throw new IllegalArgumentException(
            "invalid request receiver limits: "
                + List.of(maxRequestData, maxClientIdLength, maxBufferedEvents, ioThreads));
      }
      Objects.requireNonNull(shutdownTimeout, "shutdownTimeout");
    }

    /** 1 MiB of data per request, 256-character client IDs, 4096 buffered events, 1 thread. */
    public static Params defaults() {
      return new Params(1 << 20, 256, 4096, 1, Duration.ofSeconds(5));
    }

    /** A copy with another data limit. */
    public Params withMaxRequestData(int bytes) {
      return new Params(bytes, maxClientIdLength, maxBufferedEvents, ioThreads, shutdownTimeout);
    }

    /** A copy with another buffered-events threshold. */
    public Params withMaxBufferedEvents(int events) {
      return new Params(maxRequestData, maxClientIdLength, events, ioThreads, shutdownTimeout);
    }
  }

  private final Node node;
  private final ModuleId destination;
  private final NodeAddress requestedAddress;
  private final NodeIdentity tlsIdentity;
  private final Params params;
  private final Threads threads;

  private final Object lock = new Object();
  private boolean started;
  private boolean stopped;
  private EventLoopGroup eventLoops;
  private Server server;
  private NodeAddress boundAddress;

  private final AtomicLong accepted = new AtomicLong();
  private final AtomicLong rejected = new AtomicLong();

  private RequestReceiver(Builder b) {
    this.node = b.node;
    this.destination = b.destination;
    this.requestedAddress = b.listenAddress;
    this.tlsIdentity = b.tlsIdentity;
    this.params = b.params;
    this.threads = new Threads(node.id().value());
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
    private Params params = Params.defaults();

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

    /** The limits (default {@link Params#defaults()}). */
    public Builder params(Params params) {
      this.params = Objects.requireNonNull(params, "params");
      return this;
    }

    /**
     * Builds the receiver (not started).
     *
     * @throws IllegalStateException if neither {@link #tls} nor {@link #plaintext()} was chosen
     */
    public RequestReceiver build() {
      if (!securityChosen) {
        throw new IllegalStateException("choose tls(identity) or plaintext()");
      }
      return new RequestReceiver(this);
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
      NettyServerBuilder sb =
          NettyServerBuilder.forAddress(
                  new InetSocketAddress(requestedAddress.host(), requestedAddress.port()))
              .channelType(NioServerSocketChannel.class)
              .bossEventLoopGroup(eventLoops)
              .workerEventLoopGroup(eventLoops)
              .directExecutor()
              // Room for the client ID and the protobuf framing around the data.
              .maxInboundMessageSize(params.maxRequestData() + 4 * params.maxClientIdLength() + 64)
              .maxInboundMetadataSize(8 << 10)
              .maxConcurrentCallsPerConnection(8)
              .handshakeTimeout(10, TimeUnit.SECONDS)
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
          "{}: request receiver listening on {} ({}), requests go to '{}'",
          node.id(),
          boundAddress,
          tlsIdentity == null ? "plaintext" : "TLS",
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

  /** Invalid requests rejected so far. */
  public long rejectedCount() {
    return rejected.get();
  }

  private String validate(Request r) {
    String id = r.getClientId();
    if (id.isEmpty()) {
      return "empty client ID";
    }
    if (id.length() > params.maxClientIdLength()) {
      return "client ID longer than " + params.maxClientIdLength() + " characters";
    }
    if (r.getData().size() > params.maxRequestData()) {
      return "request data of "
          + r.getData().size()
          + " bytes exceeds the limit of "
          + params.maxRequestData();
    }
    return null;
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
  }

  /** One client stream. Callbacks come from one event loop thread at a time. */
  private final class Ingress<R> implements StreamObserver<Request> {
    private final ServerCallStreamObserver<R> responses;
    private final boolean acks;
    private volatile boolean done;

    Ingress(ServerCallStreamObserver<R> responses, boolean acks) {
      this.responses = responses;
      this.acks = acks;
      responses.disableAutoRequest();
      responses.setOnCancelHandler(() -> done = true);
      responses.request(1);
    }

    @Override
    public void onNext(Request r) {
      if (done) {
        return;
      }
      String problem = validate(r);
      if (problem != null) {
        rejected.incrementAndGet();
        LOG.debug(
            "{}: rejecting request {}-{}: {}", node.id(), r.getClientId(), r.getReqNo(), problem);
        answer(r.getReqNo(), RequestAck.Status.REJECTED, problem);
        requestNext();
        return;
      }
      try {
        node.injectEvents(EventList.of(ClientEvents.newRequests(destination, List.of(r))));
      } catch (UnknownDestinationException e) {
        LOG.error("{}: requests cannot be delivered: {}", node.id(), e.getMessage());
        fail(Status.INTERNAL.withDescription("the node cannot take requests"));
        return;
      } catch (MirException | IllegalStateException e) {
        fail(Status.UNAVAILABLE.withDescription("the node is not running"));
        return;
      }
      accepted.incrementAndGet();
      answer(r.getReqNo(), RequestAck.Status.ACCEPTED, "");
      requestNext();
    }

    @SuppressWarnings("unchecked")
    private void answer(long reqNo, RequestAck.Status status, String reason) {
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

    private void fail(Status status) {
      done = true;
      responses.onError(status.asRuntimeException());
    }

    private void requestNext() {
      if (done) {
        return;
      }
      if (node.bufferedEvents() < params.maxBufferedEvents()) {
        responses.request(1);
        return;
      }
      try {
        eventLoops.schedule(this::requestNext, 2, TimeUnit.MILLISECONDS);
      } catch (RejectedExecutionException e) {
        // Stopping.
      }
    }

    @Override
    public void onError(Throwable t) {
      done = true;
    }

    @Override
    @SuppressWarnings("unchecked")
    public void onCompleted() {
      if (done) {
        return;
      }
      done = true;
      if (!acks) {
        ((ServerCallStreamObserver<ByeBye>) responses).onNext(ByeBye.getDefaultInstance());
      }
      responses.onCompleted();
    }
  }
}
