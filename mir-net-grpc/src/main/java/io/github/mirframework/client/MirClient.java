package io.github.mirframework.client;

import com.google.protobuf.ByteString;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.client.pb.RequestAck;
import io.github.mirframework.client.pb.RequestReceiverGrpc;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.net.grpc.Certificates;
import io.github.mirframework.net.grpc.internal.PinnedKeyTrustManager;
import io.github.mirframework.net.grpc.internal.Threads;
import io.github.mirframework.net.grpc.internal.Tls;
import io.github.mirframework.types.ClientId;
import io.github.mirframework.types.NodeId;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.netty.NegotiationType;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client of a Mir system (Mir's {@code dummyclient}, made robust): it numbers its requests (from
 * 0, or a given first number), submits each to the request receiver of <em>every</em> node, and
 * keeps it until the node has acknowledged it.
 *
 * <p><b>Acknowledgement</b>: a node acknowledges a request when its request receiver has accepted
 * it into the node's event buffer (or rejected it as invalid, which is final). It says nothing
 * about ordering or durability: a node that crashes afterwards may have lost the request, and the
 * protocol may still discard it (e.g. as a duplicate). <b>Resubmission</b>: when the stream to a
 * node breaks, the client reconnects with capped exponential backoff and resends, in order, every
 * request that node has not acknowledged. A node may therefore see a request twice; Mir protocols
 * de-duplicate by (client ID, request number).
 *
 * <p>Memory is bounded: at most {@link Params#maxPending()} requests are kept; beyond that the
 * oldest is given up for the nodes that have not acknowledged it (counted, see {@link
 * #givenUpCount()}).
 *
 * <p>Threads: one Netty event loop ({@code mir-client-<id>-io-*}) and a small pool for name
 * resolution, ended by {@link #close()}. Thread-safe.
 */
public final class MirClient implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(MirClient.class);

  /**
   * Parameters of the client.
   *
   * @param maxPending the most requests kept for (re)submission
   * @param reconnectMinDelay the first delay before reconnecting to a node
   * @param reconnectMaxDelay the longest delay between attempts
   * @param shutdownTimeout how long {@link #close()} waits for connections and threads to end
   */
  public record Params(
      int maxPending,
      Duration reconnectMinDelay,
      Duration reconnectMaxDelay,
      Duration shutdownTimeout) {

    /** Validates the parameters. */
    public Params {
      if (maxPending < 1) {
        throw new IllegalArgumentException("maxPending must be positive, got " + maxPending);
      }
      Objects.requireNonNull(reconnectMinDelay, "reconnectMinDelay");
      Objects.requireNonNull(reconnectMaxDelay, "reconnectMaxDelay");
      Objects.requireNonNull(shutdownTimeout, "shutdownTimeout");
      if (reconnectMinDelay.isNegative()
          || reconnectMinDelay.isZero()
          || reconnectMaxDelay.compareTo(reconnectMinDelay) < 0) {
        throw new IllegalArgumentException(
            "need 0 < reconnectMinDelay <= reconnectMaxDelay, got "
                + reconnectMinDelay
                + " and "
                + reconnectMaxDelay);
      }
    }

    /** 100,000 pending requests, reconnection after 50 ms doubling to 3 s, 5 s to close. */
    public static Params defaults() {
      return new Params(
          100_000, Duration.ofMillis(50), Duration.ofSeconds(3), Duration.ofSeconds(5));
    }

    /** A copy with other reconnection delays. */
    public Params withReconnectDelays(Duration min, Duration max) {
      return new Params(maxPending, min, max, shutdownTimeout);
    }

    /** A copy with another pending limit. */
    public Params withMaxPending(int requests) {
      return new Params(requests, reconnectMinDelay, reconnectMaxDelay, shutdownTimeout);
    }
  }

  /** One request in flight: who still has to acknowledge it. */
  private static final class Pending {
    final Request request;
    final Set<NodeId> waiting;
    int acks;

    Pending(Request request, Set<NodeId> waiting) {
      this.request = request;
      this.waiting = waiting;
    }
  }

  private static final int FINISHED_MEMORY = 65_536;

  private final ClientId id;
  private final Map<NodeId, NodeAddress> nodes;
  private final Map<NodeId, ByteString> nodeKeys;
  private final Params params;
  private final Threads threads;

  // Guarded by `this`.
  private long nextReqNo;
  private final TreeMap<Long, Pending> pending = new TreeMap<>();
  private final LinkedHashMap<Long, Integer> finished = new LinkedHashMap<>();
  private boolean started;
  private boolean closed;

  private EventLoopGroup eventLoops;
  private ExecutorService offload;
  private final Map<NodeId, NodeConnection> connections = new LinkedHashMap<>();
  private final AtomicLong givenUp = new AtomicLong();
  private final AtomicLong rejected = new AtomicLong();

  private MirClient(Builder b) {
    this.id = b.id;
    this.nodes = Map.copyOf(b.nodes);
    this.nodeKeys = b.nodeKeys == null ? null : Map.copyOf(b.nodeKeys);
    this.params = b.params;
    this.nextReqNo = b.firstReqNo;
    this.threads = new Threads("client-" + id.value());
  }

  /** Returns a builder of the client {@code id}. */
  public static Builder builder(ClientId id) {
    return new Builder(id);
  }

  /** Builds a {@link MirClient}. */
  public static final class Builder {
    private final ClientId id;
    private final Map<NodeId, NodeAddress> nodes = new HashMap<>();
    private Map<NodeId, ByteString> nodeKeys;
    private boolean securityChosen;
    private long firstReqNo;
    private Params params = Params.defaults();

    private Builder(ClientId id) {
      this.id = Objects.requireNonNull(id, "id");
    }

    /** The request receivers of the nodes. */
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

    /**
     * The number of the first request (default 0): a client that restarts must continue after the
     * numbers it used.
     */
    public Builder firstRequestNumber(long reqNo) {
      if (reqNo < 0) {
        throw new IllegalArgumentException("request numbers are non-negative, got " + reqNo);
      }
      this.firstReqNo = reqNo;
      return this;
    }

    /** The parameters (default {@link Params#defaults()}). */
    public Builder params(Params params) {
      this.params = Objects.requireNonNull(params, "params");
      return this;
    }

    /**
     * Builds the client (not connected yet).
     *
     * @throws IllegalStateException if no node was given, or neither {@link #tls} nor {@link
     *     #plaintext()} was chosen, or a node has no key for TLS
     */
    public MirClient build() {
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
      return new MirClient(this);
    }
  }

  /** The client's ID. */
  public ClientId id() {
    return id;
  }

  /** Starts connecting to all nodes in the background. Idempotent. */
  public void start() {
    List<NodeConnection> toOpen = new ArrayList<>();
    synchronized (this) {
      if (closed) {
        throw new IllegalStateException("client " + id + " is closed");
      }
      if (started) {
        return;
      }
      started = true;
      String prefix = "mir-client-" + id;
      eventLoops = threads.eventLoops(1, prefix + "-io");
      offload = threads.offload(1, prefix + "-offload");
      nodes.forEach(
          (n, addr) -> {
            NodeConnection c = new NodeConnection(n, newChannel(n, addr));
            connections.put(n, c);
            toOpen.add(c);
          });
    }
    toOpen.forEach(NodeConnection::drain);
  }

  private ManagedChannel newChannel(NodeId node, NodeAddress addr) {
    NettyChannelBuilder b =
        NettyChannelBuilder.forAddress(addr.host(), addr.port())
            .channelType(NioSocketChannel.class)
            .eventLoopGroup(eventLoops)
            .offloadExecutor(offload)
            .directExecutor()
            .disableRetry()
            .keepAliveTime(10, TimeUnit.SECONDS)
            .userAgent("mir-java-client/" + id);
    if (nodeKeys != null) {
      ByteString key = nodeKeys.get(node);
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

  /**
   * Submits a request with the next request number to every node. Never blocks on the network.
   *
   * @return the request number
   * @throws IllegalStateException if the client is not started or closed
   */
  public long submit(ByteString data) {
    Objects.requireNonNull(data, "data");
    long reqNo;
    List<NodeConnection> toDrain;
    synchronized (this) {
      if (!started || closed) {
        throw new IllegalStateException("client " + id + " is not running");
      }
      reqNo = nextReqNo++;
      Request r = ClientEvents.request(id, reqNo, data);
      pending.put(reqNo, new Pending(r, new HashSet<>(connections.keySet())));
      while (pending.size() > params.maxPending()) {
        Map.Entry<Long, Pending> oldest = pending.pollFirstEntry();
        givenUp.addAndGet(oldest.getValue().waiting.size());
        remember(oldest.getKey(), oldest.getValue().acks);
      }
      toDrain = List.copyOf(connections.values());
    }
    toDrain.forEach(NodeConnection::drain);
    return reqNo;
  }

  /** Submits a request (see {@link #submit(ByteString)}). */
  public long submit(byte[] data) {
    return submit(ByteString.copyFrom(data));
  }

  /** The number the next request will get. */
  public synchronized long nextRequestNumber() {
    return nextReqNo;
  }

  /**
   * How many nodes have acknowledged request {@code reqNo} (-1 if the client does not know, or no
   * longer remembers, the request).
   */
  public synchronized int acknowledgements(long reqNo) {
    Pending p = pending.get(reqNo);
    if (p != null) {
      return p.acks;
    }
    return finished.getOrDefault(reqNo, -1);
  }

  /**
   * Waits until at least {@code nodes} nodes have acknowledged request {@code reqNo}.
   *
   * @return whether they did within the timeout
   */
  public boolean awaitAcknowledged(long reqNo, int nodes, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (this) {
      while (acknowledgements(reqNo) < nodes) {
        long left = deadline - System.nanoTime();
        if (left <= 0 || closed) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
      return true;
    }
  }

  /** Requests not yet acknowledged by every node. */
  public synchronized int pendingCount() {
    return pending.size();
  }

  /** (request, node) pairs given up because more than {@code maxPending} requests were kept. */
  public long givenUpCount() {
    return givenUp.get();
  }

  /** Requests that a node rejected as invalid. */
  public long rejectedCount() {
    return rejected.get();
  }

  /** Whether the stream to {@code node} is established. */
  public boolean isConnected(NodeId node) {
    NodeConnection c;
    synchronized (this) {
      c = connections.get(node);
    }
    return c != null && c.isConnected();
  }

  private void remember(long reqNo, int acks) {
    finished.put(reqNo, acks);
    if (finished.size() > FINISHED_MEMORY) {
      finished.remove(finished.keySet().iterator().next());
    }
  }

  private synchronized void acknowledged(NodeId node, RequestAck ack) {
    if (ack.getStatus() == RequestAck.Status.REJECTED) {
      rejected.incrementAndGet();
      LOG.warn(
          "client {}: node {} rejected request {}: {}", id, node, ack.getReqNo(), ack.getReason());
    }
    Pending p = pending.get(ack.getReqNo());
    if (p == null || !p.waiting.remove(node)) {
      return;
    }
    p.acks++;
    if (p.waiting.isEmpty()) {
      pending.remove(ack.getReqNo());
      remember(ack.getReqNo(), p.acks);
    }
    notifyAll();
  }

  /** The requests after {@code afterReqNo} that {@code node} still has to acknowledge, in order. */
  private synchronized List<Request> toSend(NodeId node, long afterReqNo, int max) {
    List<Request> out = new ArrayList<>();
    for (Pending p : pending.tailMap(afterReqNo, false).values()) {
      if (p.waiting.contains(node)) {
        out.add(p.request);
        if (out.size() >= max) {
          break;
        }
      }
    }
    return out;
  }

  /** Closes all connections and ends the threads. Pending requests are dropped. Idempotent. */
  @Override
  public void close() {
    List<NodeConnection> all;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      all = List.copyOf(connections.values());
      notifyAll();
    }
    all.forEach(NodeConnection::close);
    long deadline = System.nanoTime() + params.shutdownTimeout().toNanos();
    for (NodeConnection c : all) {
      c.awaitClosed(deadline);
    }
    Threads.shutdown(eventLoops, remaining(deadline));
    Threads.shutdown(offload, remaining(deadline));
    threads.joinAll(remaining(deadline));
  }

  private static Duration remaining(long deadline) {
    return Duration.ofNanos(Math.max(1_000_000, deadline - System.nanoTime()));
  }

  /**
   * The stream to one node. Like the transport's peer connections, all stream state is owned by a
   * drain loop that runs on one thread at a time.
   */
  private final class NodeConnection {
    private final NodeId node;
    private final ManagedChannel channel;
    private final AtomicInteger wip = new AtomicInteger();
    private volatile boolean closing;
    private volatile ClientCall<Request, RequestAck> endedCall;
    private volatile Status endedStatus;
    private volatile boolean retryDue;
    private volatile ClientCall<Request, RequestAck> call;
    private volatile boolean connected;
    // Owned by the drain loop.
    private long sentUpTo = -1;
    private boolean waitingToRetry;
    private int failures;
    private boolean shutDown;

    NodeConnection(NodeId node, ManagedChannel channel) {
      this.node = node;
      this.channel = channel;
    }

    boolean isConnected() {
      return connected && call != null && !closing;
    }

    void close() {
      closing = true;
      drain();
    }

    void awaitClosed(long deadline) {
      try {
        channel.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    void drain() {
      if (wip.getAndIncrement() != 0) {
        return;
      }
      int missed = 1;
      do {
        try {
          step();
        } catch (RuntimeException e) {
          LOG.warn("client {}: unexpected error on the stream to {}", id, node, e);
        }
        missed = wip.addAndGet(-missed);
      } while (missed != 0);
    }

    private void step() {
      if (closing) {
        if (!shutDown) {
          shutDown = true;
          ClientCall<Request, RequestAck> c = call;
          call = null;
          connected = false;
          if (c != null) {
            c.cancel("client closed", null);
          }
          channel.shutdownNow();
        }
        return;
      }
      ClientCall<Request, RequestAck> current = call;
      if (current != null && endedCall == current) {
        failures = connected ? 0 : failures + 1;
        connected = false;
        call = null;
        current = null;
        Status s = endedStatus;
        LOG.info(
            "client {}: stream to node {} ended ({}); resubmitting unacknowledged requests after"
                + " reconnecting",
            id,
            node,
            s == null ? "?" : s.getCode());
        scheduleRetry();
      }
      if (current == null) {
        if (waitingToRetry && !retryDue) {
          return;
        }
        waitingToRetry = false;
        retryDue = false;
        if (channel.getState(false) == ConnectivityState.TRANSIENT_FAILURE) {
          channel.resetConnectBackoff();
        }
        current = channel.newCall(RequestReceiverGrpc.getSubmitMethod(), CallOptions.DEFAULT);
        call = current;
        sentUpTo = -1;
        current.start(new Listener(current), new Metadata());
        current.request(Integer.MAX_VALUE);
      }
      while (current.isReady()) {
        List<Request> batch = toSend(node, sentUpTo, 64);
        if (batch.isEmpty()) {
          break;
        }
        for (Request r : batch) {
          current.sendMessage(r);
          sentUpTo = r.getReqNo();
        }
      }
    }

    private void scheduleRetry() {
      waitingToRetry = true;
      long min = params.reconnectMinDelay().toNanos();
      long max = params.reconnectMaxDelay().toNanos();
      long delay = Math.min(max, min << Math.min(failures, 30));
      if (delay < 0) {
        delay = max;
      }
      delay = (long) (delay * (0.8 + 0.4 * ThreadLocalRandom.current().nextDouble()));
      try {
        eventLoops.schedule(
            () -> {
              retryDue = true;
              drain();
            },
            delay,
            TimeUnit.NANOSECONDS);
      } catch (RejectedExecutionException e) {
        // Closing.
      }
    }

    private final class Listener extends ClientCall.Listener<RequestAck> {
      private final ClientCall<Request, RequestAck> owner;

      Listener(ClientCall<Request, RequestAck> owner) {
        this.owner = owner;
      }

      @Override
      public void onMessage(RequestAck ack) {
        if (owner == call) {
          connected = true;
        }
        acknowledged(node, ack);
      }

      @Override
      public void onHeaders(Metadata headers) {
        if (owner == call) {
          connected = true;
        }
      }

      @Override
      public void onReady() {
        drain();
      }

      @Override
      public void onClose(Status status, Metadata trailers) {
        endedStatus = status;
        endedCall = owner;
        drain();
      }
    }
  }
}
