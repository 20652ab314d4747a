package io.github.mirframework.client;

import com.google.protobuf.ByteString;
import io.github.mirframework.client.pb.ClientHello;
import io.github.mirframework.client.pb.Reply;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.client.pb.RequestAck;
import io.github.mirframework.client.pb.RequestBatch;
import io.github.mirframework.client.pb.RequestReceiverGrpc;
import io.github.mirframework.client.pb.SessionFrame;
import io.github.mirframework.crypto.EncodedKeyPair;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.types.ClientId;
import io.github.mirframework.types.NodeId;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.netty.channel.EventLoopGroup;
import java.security.InvalidKeyException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client of a Mir system: it numbers and signs its requests, submits them to the nodes' request
 * receivers, and completes a future per request with the application's result once {@code f+1}
 * nodes sent the same result (so at least one correct node did; {@code f = (n-1)/3} for the {@code
 * n} configured nodes unless set with {@link Builder#faultTolerance}).
 *
 * <p><b>Submission.</b> With {@link Submission#ALL} (the default) a request goes to every node at
 * once; with {@link Submission#ONE} to one connected node, chosen round-robin, which costs the
 * system a quarter of the work on four nodes but lets a faulty node delay the request until the
 * first resubmission (see docs/grpc-transport.md). Until its future completes, a request is
 * resubmitted to every node that has not replied, after {@link Params#resubmitMinDelay()}, doubling
 * up to {@link Params#resubmitMaxDelay()}; after {@link Params#requestTimeout()} its future fails
 * with a {@link RequestTimeoutException}. Requests travel in batches per stream write ({@code
 * Session} streams), and nodes acknowledge them cumulatively. When a stream breaks, the client
 * reconnects with capped exponential backoff and resends what the node had not acknowledged. Nodes
 * de-duplicate by (client ID, request number); an already applied request is answered from the
 * node's reply cache.
 *
 * <p><b>Acknowledgement</b> (kept from the first version, see {@link #awaitAcknowledged}): a node
 * acknowledges a request when its request receiver has accepted it into the node's event buffer; it
 * says nothing about ordering or durability. Only a completed future says the request was applied.
 *
 * <p><b>Authentication</b> (ADR 0005): requests and the hello that opens each stream are signed
 * with the client's key ({@link Builder#signingKey}); {@link
 * Builder#insecureUnsignedRequestsForTesting()} sends them unsigned, for tests against receivers
 * that do not authenticate clients.
 *
 * <p>Memory is bounded: at most {@link Params#maxPending()} requests are kept; beyond that the
 * oldest is given up (its future fails, counted in {@link #givenUpCount()}).
 *
 * <p>Threads: one Netty event loop ({@code mir-client-<id>-io-*}) and a small pool for name
 * resolution, ended by {@link #close()}; none of its own when built on shared {@link
 * ClientChannels} (many clients in one process should share them). Futures are completed on the
 * event loop thread: do not block in their callbacks. Thread-safe.
 */
public final class MirClient implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(MirClient.class);

  /** Where a request goes on its first submission. */
  public enum Submission {
    /** To every node: censorship-resistant from the start, n times the ingress work. */
    ALL,
    /** To one connected node, round-robin; to all on resubmission. */
    ONE
  }

  /**
   * Parameters of the client.
   *
   * @param maxPending the most requests kept until their result is known
   * @param reconnectMinDelay the first delay before reconnecting to a node
   * @param reconnectMaxDelay the longest delay between attempts
   * @param shutdownTimeout how long {@link #close()} waits for connections and threads to end
   * @param resubmitMinDelay the first resubmission of a request without result, after this long
   * @param resubmitMaxDelay the longest delay between resubmissions
   * @param requestTimeout the deadline of a request: its future fails after this long
   * @param keepAliveTime the client pings a silent connection after this long (gRPC allows no less
   *     than 10 s); must be at least the receivers' {@link
   *     RequestReceiver.Params#permitKeepAliveTime()}
   * @param submission where a request goes first
   * @param maxBatchBytes the most request bytes in one stream write
   */
  public record Params(
      int maxPending,
      Duration reconnectMinDelay,
      Duration reconnectMaxDelay,
      Duration shutdownTimeout,
      Duration resubmitMinDelay,
      Duration resubmitMaxDelay,
      Duration requestTimeout,
      Duration keepAliveTime,
      Submission submission,
      int maxBatchBytes) {

    /** Validates the parameters. */
    public Params {
      if (maxPending < 1) {
        throw new IllegalArgumentException("maxPending must be positive, got " + maxPending);
      }
      Objects.requireNonNull(reconnectMinDelay, "reconnectMinDelay");
      Objects.requireNonNull(reconnectMaxDelay, "reconnectMaxDelay");
      Objects.requireNonNull(shutdownTimeout, "shutdownTimeout");
      Objects.requireNonNull(resubmitMinDelay, "resubmitMinDelay");
      Objects.requireNonNull(resubmitMaxDelay, "resubmitMaxDelay");
      Objects.requireNonNull(requestTimeout, "requestTimeout");
      Objects.requireNonNull(keepAliveTime, "keepAliveTime");
      Objects.requireNonNull(submission, "submission");
      if (reconnectMinDelay.isNegative()
          || reconnectMinDelay.isZero()
          || reconnectMaxDelay.compareTo(reconnectMinDelay) < 0) {
        throw new IllegalArgumentException(
            "need 0 < reconnectMinDelay <= reconnectMaxDelay, got "
                + reconnectMinDelay
                + " and "
                + reconnectMaxDelay);
      }
      if (resubmitMinDelay.isNegative()
          || resubmitMinDelay.isZero()
          || resubmitMaxDelay.compareTo(resubmitMinDelay) < 0) {
        throw new IllegalArgumentException(
            "need 0 < resubmitMinDelay <= resubmitMaxDelay, got "
                + resubmitMinDelay
                + " and "
                + resubmitMaxDelay);
      }
      if (requestTimeout.isNegative() || requestTimeout.isZero()) {
        throw new IllegalArgumentException("requestTimeout must be positive: " + requestTimeout);
      }
      if (keepAliveTime.isNegative() || keepAliveTime.isZero()) {
        throw new IllegalArgumentException("keepAliveTime must be positive: " + keepAliveTime);
      }
      if (maxBatchBytes < 1) {
        throw new IllegalArgumentException("maxBatchBytes must be positive: " + maxBatchBytes);
      }
    }

    /**
     * The parameters of the first version, with defaults for the others.
     *
     * @deprecated use {@link #defaults()} and the {@code with...} methods
     */
    @Deprecated
    public Params(
        int maxPending,
        Duration reconnectMinDelay,
        Duration reconnectMaxDelay,
        Duration shutdownTimeout) {
      this(
          maxPending,
          reconnectMinDelay,
          reconnectMaxDelay,
          shutdownTimeout,
          Duration.ofSeconds(1),
          Duration.ofSeconds(8),
          Duration.ofSeconds(60),
          Duration.ofSeconds(10),
          Submission.ALL,
          256 << 10);
    }

    /**
     * 100,000 pending requests, reconnection after 50 ms doubling to 3 s, 5 s to close,
     * resubmission after 1 s doubling to 8 s, 60 s deadline, keep-alive pings after 10 s, {@link
     * Submission#ALL}, 256 KiB per stream write.
     */
    @SuppressWarnings("deprecation")
    public static Params defaults() {
      return new Params(
          100_000, Duration.ofMillis(50), Duration.ofSeconds(3), Duration.ofSeconds(5));
    }

    /** A copy with other reconnection delays. */
    public Params withReconnectDelays(Duration min, Duration max) {
      return new Params(
          maxPending,
          min,
          max,
          shutdownTimeout,
          resubmitMinDelay,
          resubmitMaxDelay,
          requestTimeout,
          keepAliveTime,
          submission,
          maxBatchBytes);
    }

    /** A copy with another pending limit. */
    public Params withMaxPending(int requests) {
      return new Params(
          requests,
          reconnectMinDelay,
          reconnectMaxDelay,
          shutdownTimeout,
          resubmitMinDelay,
          resubmitMaxDelay,
          requestTimeout,
          keepAliveTime,
          submission,
          maxBatchBytes);
    }

    /** A copy with other resubmission delays and deadline. */
    public Params withResubmission(Duration min, Duration max, Duration timeout) {
      return new Params(
          maxPending,
          reconnectMinDelay,
          reconnectMaxDelay,
          shutdownTimeout,
          min,
          max,
          timeout,
          keepAliveTime,
          submission,
          maxBatchBytes);
    }

    /** A copy with another keep-alive time. */
    public Params withKeepAliveTime(Duration time) {
      return new Params(
          maxPending,
          reconnectMinDelay,
          reconnectMaxDelay,
          shutdownTimeout,
          resubmitMinDelay,
          resubmitMaxDelay,
          requestTimeout,
          time,
          submission,
          maxBatchBytes);
    }

    /** A copy with another first submission. */
    public Params withSubmission(Submission s) {
      return new Params(
          maxPending,
          reconnectMinDelay,
          reconnectMaxDelay,
          shutdownTimeout,
          resubmitMinDelay,
          resubmitMaxDelay,
          requestTimeout,
          keepAliveTime,
          s,
          maxBatchBytes);
    }
  }

  /** One request whose result is not known yet. */
  private static final class Pending {
    final Request request;
    final CompletableFuture<ByteString> future = new CompletableFuture<>();
    final Set<NodeId> acked = new HashSet<>();
    final Map<NodeId, ByteString> replies = new HashMap<>();
    final Map<NodeId, String> rejections = new HashMap<>();
    final long deadlineNanos;
    long nextResubmitNanos;
    int resubmissions;

    Pending(Request request, long deadlineNanos, long nextResubmitNanos) {
      this.request = request;
      this.deadlineNanos = deadlineNanos;
      this.nextResubmitNanos = nextResubmitNanos;
    }

    long nextActionNanos() {
      return Math.min(deadlineNanos, nextResubmitNanos);
    }
  }

  private static final int FINISHED_MEMORY = 65_536;

  private final ClientId id;
  // The connections: shared with other clients, or this client's own (built at start, closed by
  // close()).
  private final ClientChannels shared;
  private final ClientChannels.Builder own;
  private ClientChannels channels;
  private final ClientSigner signer;
  private final Params params;
  private final int quorum;

  // Guarded by `this`.
  private long nextReqNo;
  private final TreeMap<Long, Pending> pending = new TreeMap<>();
  private final PriorityQueue<Pending> timers =
      new PriorityQueue<>(Comparator.comparingLong(Pending::nextActionNanos));
  private final LinkedHashMap<Long, Integer> finished = new LinkedHashMap<>();
  private final LinkedHashMap<Long, CompletableFuture<ByteString>> finishedFutures =
      new LinkedHashMap<>();
  private boolean started;
  private boolean closed;
  private long roundRobin;

  private EventLoopGroup eventLoops;
  private ScheduledFuture<?> ticker;
  private final Map<NodeId, NodeConnection> connections = new LinkedHashMap<>();
  private final AtomicLong givenUp = new AtomicLong();
  private final AtomicLong rejected = new AtomicLong();
  private final AtomicLong resubmitted = new AtomicLong();
  private final AtomicLong timedOut = new AtomicLong();
  private final AtomicLong conflictingReplies = new AtomicLong();
  private final AtomicLong streamsEnded = new AtomicLong();

  private MirClient(Builder b) {
    this.id = b.id;
    this.shared = b.shared;
    this.own =
        shared != null
            ? null
            : b.own
                .name("client-" + b.id.value())
                .keepAliveTime(b.params.keepAliveTime())
                .shutdownTimeout(b.params.shutdownTimeout());
    this.signer = b.signer;
    this.params = b.params;
    this.nextReqNo = b.firstReqNo;
    int n = shared != null ? shared.nodes().size() : b.own.nodeCount();
    int f = b.faultTolerance >= 0 ? b.faultTolerance : (n - 1) / 3;
    this.quorum = f + 1;
  }

  /** Returns a builder of the client {@code id}. */
  public static Builder builder(ClientId id) {
    return new Builder(id);
  }

  /** Builds a {@link MirClient}. */
  public static final class Builder {
    private final ClientId id;
    private final ClientChannels.Builder own = ClientChannels.builder();
    private boolean ownConfigured;
    private ClientChannels shared;
    private ClientSigner signer;
    private boolean signingChosen;
    private long firstReqNo;
    private int faultTolerance = -1;
    private Params params = Params.defaults();

    private Builder(ClientId id) {
      this.id = Objects.requireNonNull(id, "id");
    }

    /** The request receivers of the nodes (the whole membership). */
    public Builder nodes(Map<NodeId, NodeAddress> receivers) {
      own.nodes(receivers);
      ownConfigured = true;
      return this;
    }

    /** Connect with TLS, trusting each node exactly by its public key (SubjectPublicKeyInfo). */
    public Builder tls(Map<NodeId, ByteString> keys) {
      own.tls(keys);
      ownConfigured = true;
      return this;
    }

    /** Connect in plaintext (tests, demos, trusted networks). */
    public Builder plaintext() {
      own.plaintext();
      ownConfigured = true;
      return this;
    }

    /**
     * Open this client's streams on connections shared with other clients (instead of {@link
     * #nodes}, {@link #tls} or {@link #plaintext()}): the client then runs no threads of its own,
     * and {@link MirClient#close()} ends its streams but leaves the connections open.
     */
    public Builder channels(ClientChannels channels) {
      this.shared = Objects.requireNonNull(channels, "channels");
      return this;
    }

    /**
     * Sign requests with the client's P-256 key pair (its public key must be in the replicas'
     * {@link ClientRegistry}).
     *
     * @throws IllegalArgumentException if the private key is not a P-256 PKCS#8 key
     */
    public Builder signingKey(EncodedKeyPair keyPair) {
      try {
        return signer(ClientSigner.of(id, keyPair));
      } catch (InvalidKeyException e) {
        throw new IllegalArgumentException(
            "signing key of client " + id + ": " + e.getMessage(), e);
      }
    }

    /** Sign requests with {@code signer}, which must sign for this client. */
    public Builder signer(ClientSigner signer) {
      if (!signer.client().equals(id)) {
        throw new IllegalArgumentException(
            "the signer is for client " + signer.client() + ", not " + id);
      }
      this.signer = signer;
      this.signingChosen = true;
      return this;
    }

    /**
     * For tests only: send unsigned requests (accepted only by receivers and replicas that do not
     * authenticate clients).
     */
    public Builder insecureUnsignedRequestsForTesting() {
      this.signer = null;
      this.signingChosen = true;
      return this;
    }

    /**
     * The number of faulty nodes tolerated (default {@code (n-1)/3} of the configured nodes): a
     * result needs {@code f+1} matching replies.
     */
    public Builder faultTolerance(int f) {
      if (f < 0) {
        throw new IllegalArgumentException("f must not be negative: " + f);
      }
      this.faultTolerance = f;
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
     * @throws IllegalStateException if no node was given, neither {@link #tls} nor {@link
     *     #plaintext()} was chosen, a node has no key for TLS, neither {@link #signingKey} (or
     *     {@link #signer}) nor {@link #insecureUnsignedRequestsForTesting()} was chosen, or {@code
     *     f+1} exceeds the number of nodes
     */
    public MirClient build() {
      if (shared != null && ownConfigured) {
        throw new IllegalStateException(
            "channels(...) already gives the nodes and their security: do not also call nodes(),"
                + " tls() or plaintext()");
      }
      if (shared == null) {
        own.check();
      }
      if (!signingChosen) {
        throw new IllegalStateException(
            "choose signingKey(keyPair) (authenticated requests, see ADR 0005) or, in tests only,"
                + " insecureUnsignedRequestsForTesting()");
      }
      int n = shared != null ? shared.nodes().size() : own.nodeCount();
      if (faultTolerance >= n) {
        throw new IllegalStateException(
            "f = " + faultTolerance + " needs more than " + n + " nodes");
      }
      return new MirClient(this);
    }
  }

  /** The client's ID. */
  public ClientId id() {
    return id;
  }

  /** The number of matching replies that completes a request ({@code f+1}). */
  public int replyQuorum() {
    return quorum;
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
      if (shared != null && shared.isClosed()) {
        throw new IllegalStateException("the shared channels of client " + id + " are closed");
      }
      channels = shared != null ? shared : own.build();
      eventLoops = channels.eventLoops();
      for (NodeId n : channels.nodes()) {
        NodeConnection c = new NodeConnection(n, channels.channel(n));
        connections.put(n, c);
        toOpen.add(c);
      }
      long tick = Math.max(1, Math.min(50, params.resubmitMinDelay().toMillis() / 4));
      ticker = eventLoops.scheduleAtFixedRate(this::tick, tick, tick, TimeUnit.MILLISECONDS);
    }
    toOpen.forEach(NodeConnection::drain);
  }

  /**
   * Submits a request with the next request number. Never blocks on the network.
   *
   * @return the request number; {@link #result(long)} gives its future
   * @throws IllegalStateException if the client is not started or closed
   */
  public long submit(ByteString data) {
    return enqueue(data).request.getReqNo();
  }

  /** Submits a request (see {@link #submit(ByteString)}). */
  public long submit(byte[] data) {
    return submit(ByteString.copyFrom(data));
  }

  /**
   * Submits a request with the next request number and returns the future of its result: the result
   * {@code f+1} nodes agree on; it fails with {@link RequestTimeoutException} after {@link
   * Params#requestTimeout()} (or when given up or the client closes), or with {@link
   * RequestRejectedException} if {@code f+1} nodes rejected it. Never blocks on the network.
   *
   * @throws IllegalStateException if the client is not started or closed
   */
  public CompletableFuture<ByteString> submitAsync(ByteString data) {
    return enqueue(data).future;
  }

  /**
   * The future of request {@code reqNo}'s result, or {@code null} if the client does not know, or
   * no longer remembers, the request.
   */
  public synchronized CompletableFuture<ByteString> result(long reqNo) {
    Pending p = pending.get(reqNo);
    return p != null ? p.future : finishedFutures.get(reqNo);
  }

  private Pending enqueue(ByteString data) {
    Objects.requireNonNull(data, "data");
    Pending p;
    List<Pending> dropped = new ArrayList<>();
    List<NodeConnection> toDrain = new ArrayList<>();
    synchronized (this) {
      if (!started || closed) {
        throw new IllegalStateException("client " + id + " is not running");
      }
      long reqNo = nextReqNo++;
      Request r = signer != null ? signer.sign(reqNo, data) : ClientEvents.request(id, reqNo, data);
      long now = System.nanoTime();
      p =
          new Pending(
              r,
              now + params.requestTimeout().toNanos(),
              now + params.resubmitMinDelay().toNanos());
      pending.put(reqNo, p);
      timers.add(p);
      while (pending.size() > params.maxPending()) {
        Map.Entry<Long, Pending> oldest = pending.pollFirstEntry();
        givenUp.incrementAndGet();
        finish(oldest.getKey(), oldest.getValue());
        dropped.add(oldest.getValue());
      }
      for (NodeConnection c : firstTargets()) {
        c.offer(r);
        toDrain.add(c);
      }
    }
    for (Pending d : dropped) {
      d.future.completeExceptionally(
          new RequestTimeoutException(
              "client "
                  + id
                  + " gave up request "
                  + d.request.getReqNo()
                  + ": more than "
                  + params.maxPending()
                  + " requests were waiting for results"));
    }
    toDrain.forEach(NodeConnection::drain);
    return p;
  }

  /** The connections a new request goes to. Called with the lock held. */
  private List<NodeConnection> firstTargets() {
    List<NodeConnection> all = List.copyOf(connections.values());
    if (params.submission() == Submission.ALL) {
      return all;
    }
    for (int i = 0; i < all.size(); i++) {
      NodeConnection c = all.get((int) ((roundRobin + i) % all.size()));
      if (c.isConnected()) {
        roundRobin += i + 1;
        return List.of(c);
      }
    }
    return all;
  }

  /** Resubmits overdue requests and fails expired ones. Runs on the event loop. */
  private void tick() {
    List<Pending> expired = new ArrayList<>();
    Set<NodeConnection> toDrain = new HashSet<>();
    synchronized (this) {
      if (closed) {
        return;
      }
      long now = System.nanoTime();
      while (!timers.isEmpty() && timers.peek().nextActionNanos() <= now) {
        Pending p = timers.poll();
        if (pending.get(p.request.getReqNo()) != p) {
          continue; // finished
        }
        if (p.deadlineNanos <= now) {
          pending.remove(p.request.getReqNo());
          finish(p.request.getReqNo(), p);
          expired.add(p);
          continue;
        }
        p.resubmissions++;
        resubmitted.incrementAndGet();
        for (NodeConnection c : connections.values()) {
          if (!p.replies.containsKey(c.node) && c.offer(p.request)) {
            toDrain.add(c);
          }
        }
        long delay =
            Math.min(
                params.resubmitMaxDelay().toNanos(),
                params.resubmitMinDelay().toNanos() << Math.min(p.resubmissions, 20));
        p.nextResubmitNanos = now + delay;
        timers.add(p);
      }
    }
    for (Pending p : expired) {
      timedOut.incrementAndGet();
      p.future.completeExceptionally(
          new RequestTimeoutException(
              "request "
                  + p.request.getReqNo()
                  + " of client "
                  + id
                  + " got no "
                  + quorum
                  + " matching replies within "
                  + params.requestTimeout()
                  + " (replies from "
                  + p.replies.keySet()
                  + ", acknowledged by "
                  + p.acked
                  + ")"));
    }
    toDrain.forEach(NodeConnection::drain);
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
      return p.acked.size();
    }
    return finished.getOrDefault(reqNo, -1);
  }

  /**
   * Waits until at least {@code nodes} nodes have acknowledged request {@code reqNo} (accepted it
   * into their event buffers; see the class comment).
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

  /** Requests whose result is not known yet. */
  public synchronized int pendingCount() {
    return pending.size();
  }

  /** Requests given up because more than {@code maxPending} requests were waiting. */
  public long givenUpCount() {
    return givenUp.get();
  }

  /** Rejections received from nodes (one per node and request). */
  public long rejectedCount() {
    return rejected.get();
  }

  /** Resubmissions of requests without result so far. */
  public long resubmittedCount() {
    return resubmitted.get();
  }

  /** Requests whose deadline passed. */
  public long timedOutCount() {
    return timedOut.get();
  }

  /** Replies that disagreed with the result the quorum decided (a faulty node, or a bug). */
  public long conflictingRepliesCount() {
    return conflictingReplies.get();
  }

  /** Streams to nodes that ended (broken, refused or closed by the node) so far. */
  public long streamsEndedCount() {
    return streamsEnded.get();
  }

  /** Whether the stream to {@code node} is established. */
  public boolean isConnected(NodeId node) {
    NodeConnection c;
    synchronized (this) {
      c = connections.get(node);
    }
    return c != null && c.isConnected();
  }

  /** Moves a request out of {@link #pending}. Called with the lock held. */
  private void finish(long reqNo, Pending p) {
    finished.put(reqNo, p.acked.size());
    finishedFutures.put(reqNo, p.future);
    if (finished.size() > FINISHED_MEMORY) {
      finished.remove(finished.keySet().iterator().next());
    }
    if (finishedFutures.size() > FINISHED_MEMORY) {
      finishedFutures.remove(finishedFutures.keySet().iterator().next());
    }
    notifyAll();
  }

  private void onFrame(NodeId node, List<Request> newlyHandled, SessionFrame f) {
    List<Runnable> completions = new ArrayList<>();
    synchronized (this) {
      Map<Long, RequestAck> refused = new HashMap<>();
      for (RequestAck a : f.getNotAcceptedList()) {
        refused.put(a.getReqNo(), a);
      }
      for (Request r : newlyHandled) {
        Pending p = pending.get(r.getReqNo());
        if (p == null) {
          continue;
        }
        RequestAck a = refused.get(r.getReqNo());
        if (a == null) {
          p.acked.add(node);
        } else if (a.getStatus() == RequestAck.Status.REJECTED
            && p.rejections.putIfAbsent(node, a.getReason()) == null) {
          rejected.incrementAndGet();
          LOG.warn(
              "client {}: node {} rejected request {}: {}", id, node, r.getReqNo(), a.getReason());
          if (p.rejections.size() >= quorum) {
            pending.remove(r.getReqNo());
            finish(r.getReqNo(), p);
            String why =
                "request " + r.getReqNo() + " of client " + id + " was rejected by " + p.rejections;
            completions.add(
                () -> p.future.completeExceptionally(new RequestRejectedException(why)));
          }
        }
      }
      for (Reply reply : f.getRepliesList()) {
        if (!reply.getClientId().equals(id.value())) {
          continue;
        }
        Pending p = pending.get(reply.getReqNo());
        if (p == null) {
          CompletableFuture<ByteString> done = finishedFutures.get(reply.getReqNo());
          if (done != null
              && done.isDone()
              && !done.isCompletedExceptionally()
              && !done.join().equals(reply.getResult())) {
            conflictingReplies.incrementAndGet();
          }
          continue;
        }
        if (p.replies.putIfAbsent(node, reply.getResult()) != null) {
          continue; // a node gets one vote per request
        }
        p.acked.add(node);
        int matching = 0;
        for (ByteString other : p.replies.values()) {
          if (other.equals(reply.getResult())) {
            matching++;
          }
        }
        if (matching >= quorum) {
          pending.remove(reply.getReqNo());
          for (ByteString other : p.replies.values()) {
            if (!other.equals(reply.getResult())) {
              conflictingReplies.incrementAndGet();
            }
          }
          finish(reply.getReqNo(), p);
          ByteString result = reply.getResult();
          completions.add(() -> p.future.complete(result));
        }
      }
      notifyAll();
    }
    completions.forEach(Runnable::run);
  }

  /** Closes all connections and ends the threads. Pending futures fail. Idempotent. */
  @Override
  public void close() {
    List<NodeConnection> all;
    List<Pending> left;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      all = List.copyOf(connections.values());
      left = List.copyOf(pending.values());
      pending.clear();
      timers.clear();
      if (ticker != null) {
        ticker.cancel(false);
      }
      notifyAll();
    }
    for (Pending p : left) {
      p.future.completeExceptionally(
          new RequestTimeoutException(
              "client "
                  + id
                  + " was closed before request "
                  + p.request.getReqNo()
                  + " completed"));
    }
    all.forEach(NodeConnection::close);
    if (shared == null && channels != null) {
      channels.close();
    }
  }

  /**
   * The stream to one node. All stream state is owned by a drain loop that runs on one thread at a
   * time; {@link #queue} (requests to send) is guarded by the client's lock.
   */
  private final class NodeConnection {
    private final NodeId node;
    private final ManagedChannel channel;
    private final AtomicInteger wip = new AtomicInteger();
    private final ArrayDeque<Request> queue = new ArrayDeque<>();
    private final Set<Long> queued = new HashSet<>();
    private volatile boolean closing;
    private volatile ClientCall<RequestBatch, SessionFrame> endedCall;
    private volatile Status endedStatus;
    private volatile boolean retryDue;
    private volatile ClientCall<RequestBatch, SessionFrame> call;
    private volatile boolean connected;
    // Owned by the drain loop (and the listener, which runs on the same event loop thread).
    private final ArrayDeque<Request> inFlight = new ArrayDeque<>();
    private long streamHandled;
    private boolean helloSent;
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

    /** Queues {@code r} unless it is queued already. Called with the client's lock held. */
    boolean offer(Request r) {
      if (!queued.add(r.getReqNo())) {
        return false;
      }
      queue.addLast(r);
      return true;
    }

    void close() {
      closing = true;
      drain();
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
          ClientCall<RequestBatch, SessionFrame> c = call;
          call = null;
          connected = false;
          if (c != null) {
            c.cancel("client closed", null);
          }
        }
        return;
      }
      ClientCall<RequestBatch, SessionFrame> current = call;
      if (current != null && endedCall == current) {
        failures = connected ? 0 : failures + 1;
        connected = false;
        call = null;
        current = null;
        streamsEnded.incrementAndGet();
        requeueInFlight();
        Status s = endedStatus;
        LOG.info(
            "client {}: stream to node {} ended ({}{}); resending unacknowledged requests after"
                + " reconnecting",
            id,
            node,
            s == null ? "?" : s.getCode(),
            s == null || s.getDescription() == null ? "" : ": " + s.getDescription());
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
        current = channel.newCall(RequestReceiverGrpc.getSessionMethod(), CallOptions.DEFAULT);
        call = current;
        synchronized (MirClient.this) {
          streamHandled = 0;
          inFlight.clear();
        }
        helloSent = false;
        current.start(new Listener(current), new Metadata());
        current.request(Integer.MAX_VALUE);
      }
      while (current.isReady()) {
        RequestBatch.Builder batch = RequestBatch.newBuilder();
        if (!helloSent) {
          batch.setHello(
              signer != null
                  ? signer.hello(node)
                  : ClientHello.newBuilder()
                      .setClientId(id.value())
                      .setNodeId(node.value())
                      .build());
          helloSent = true;
        }
        synchronized (MirClient.this) {
          long bytes = 0;
          while (!queue.isEmpty() && bytes < params.maxBatchBytes()) {
            Request r = queue.pollFirst();
            queued.remove(r.getReqNo());
            if (!pending.containsKey(r.getReqNo())) {
              continue; // decided meanwhile
            }
            batch.addRequests(r);
            bytes += r.getSerializedSize();
          }
          if (batch.getRequestsCount() == 0 && !batch.hasHello()) {
            break;
          }
          inFlight.addAll(batch.getRequestsList());
        }
        current.sendMessage(batch.build());
      }
    }

    /** Puts what the broken stream had not acknowledged back at the front of the queue. */
    private void requeueInFlight() {
      synchronized (MirClient.this) {
        while (!inFlight.isEmpty()) {
          Request r = inFlight.pollLast();
          if (pending.containsKey(r.getReqNo()) && queued.add(r.getReqNo())) {
            queue.addFirst(r);
          }
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

    private final class Listener extends ClientCall.Listener<SessionFrame> {
      private final ClientCall<RequestBatch, SessionFrame> owner;

      Listener(ClientCall<RequestBatch, SessionFrame> owner) {
        this.owner = owner;
      }

      @Override
      public void onMessage(SessionFrame f) {
        if (owner != call) {
          return;
        }
        connected = true;
        List<Request> newlyHandled = new ArrayList<>();
        synchronized (MirClient.this) {
          // Cumulative: the node handled the first f.handled requests of this stream.
          while (streamHandled < f.getHandled() && !inFlight.isEmpty()) {
            newlyHandled.add(inFlight.pollFirst());
            streamHandled++;
          }
        }
        onFrame(node, newlyHandled, f);
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
