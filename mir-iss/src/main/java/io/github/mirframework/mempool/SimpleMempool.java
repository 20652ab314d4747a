package io.github.mirframework.mempool;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.github.mirframework.client.pb.NewRequests;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.clientprogress.ClientProgress;
import io.github.mirframework.clientprogress.DeliveredReqs;
import io.github.mirframework.crypto.CryptoEvents;
import io.github.mirframework.crypto.HasherModule;
import io.github.mirframework.crypto.pb.HashData;
import io.github.mirframework.crypto.pb.HashResult;
import io.github.mirframework.dsl.DslModule;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.pb.Origin;
import io.github.mirframework.mempool.pb.BatchTimeout;
import io.github.mirframework.mempool.pb.NewEpoch;
import io.github.mirframework.mempool.pb.RequestBatch;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.types.ClientId;
import io.github.mirframework.types.LittleEndian;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.ReqNo;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The simple mempool (Mir's {@code simplemempool}, with the re-offering design of Mir's later
 * versions): keeps the transactions clients submitted until they are delivered, cuts them into
 * batches on request, and computes transaction and batch IDs with the hasher module.
 *
 * <p>Three independent parts share this module, as in Mir:
 *
 * <ul>
 *   <li><b>ID computation.</b> {@code RequestTransactionIDs{txs}} → one {@code HashRequest} to the
 *       hasher → {@code TransactionIDsResponse{tx IDs}}, where a transaction's ID is the hash of
 *       {@link #txIdData}; {@code RequestBatchID{tx IDs}} → {@code BatchIDResponse{batch ID}}, the
 *       hash of the concatenated transaction IDs ({@link #batchIdData}).
 *   <li><b>Batch forming.</b> {@code NewRequests} (from clients) → the mempool has the
 *       transactions' IDs computed as above and keeps the transactions in arrival order; {@code
 *       RequestBatch} → {@code NewBatch} with the oldest transactions not yet offered in the
 *       current epoch, at most {@link Params#maxTransactionsInBatch()} of them and {@link
 *       Params#maxBatchBytes()} bytes. With a {@link Params#batchTimeout()}, a request that finds
 *       no transaction waits for the first one to arrive (and is then answered at once), or for the
 *       timeout, after which it gets an empty batch; without one (the default, Mir's behaviour) it
 *       is answered at once, possibly with an empty batch.
 *   <li><b>Lookup.</b> {@code RequestTransactions{tx IDs}} → {@code TransactionsResponse} telling
 *       for each ID whether the transaction is held, and the transaction.
 * </ul>
 *
 * <p><b>Nothing is lost.</b> A transaction stays in the mempool until it is delivered. At the start
 * of every epoch the batch fetcher sends {@code NewEpoch{epoch, client progress}} (when the epoch
 * reaches the application, so after every batch of the previous epoch): the mempool removes the
 * delivered transactions and offers all others again, from the oldest. A batch of the previous
 * epoch that was aborted in a view change, never proposed or never ordered thus costs its
 * transactions a delay, not their existence. A {@code RequestBatch} names the epoch of the
 * requesting availability instance: one of a later epoch waits until the mempool has entered that
 * epoch (so a transaction is offered at most once per epoch), one of an earlier epoch gets an empty
 * batch. Until the first {@code NewEpoch}, or for a request without an epoch, the mempool serves at
 * once (Mir's original hand-out-once behaviour, for setups without a batch fetcher). De-duplication
 * across nodes and epochs happens after ordering, in the batch fetcher; application stays exactly
 * once.
 *
 * <p><b>Bounded.</b> A transaction is refused (and counted, see {@link #stats()}) if it was
 * delivered already, is beyond its client's request-number window, has the same client and request
 * number as one held, does not fit in a batch, or would take its client beyond {@link
 * Params#maxBytesPerClient()} or the mempool beyond {@link Params#maxTotalBytes()}. A transaction's
 * size is its encoded size plus {@value #TX_OVERHEAD_BYTES} bytes of bookkeeping. Client requests
 * are local input: the request receiver in front of the mempool validates them.
 *
 * <p><b>Cost per request.</b> Every node's mempool receives every request, so its per-request work
 * is multiplied by the number of nodes. The transactions of all {@code NewRequests} events of one
 * batch of events are hashed with a single {@code HashRequest} sent to the hasher at the end of the
 * batch (Mir sends a {@code RequestTransactionIDs} to itself per {@code NewRequests} event, and
 * forwards the answer to itself again; the IDs are the same).
 *
 * <p>Not thread-safe; a passive module, called by one thread at a time.
 */
public final class SimpleMempool implements PassiveModule {
  private static final Logger LOG = LoggerFactory.getLogger(SimpleMempool.class);

  /** The ID of the mempool module in a Trantor node. */
  public static final ModuleId DEFAULT_ID = ModuleId.of("mempool");

  /** Bytes counted for a held transaction beyond its encoded size (ID, map entries). */
  public static final int TX_OVERHEAD_BYTES = 128;

  /** The default ID of the timer module the mempool uses for its batch timeout. */
  public static final ModuleId DEFAULT_TIMER = ModuleId.of("timer");

  /** The most batch requests of future epochs kept waiting; more fail the node (a local bug). */
  static final int MAX_EARLY_BATCH_REQUESTS = 4096;

  /**
   * The IDs of the modules the mempool talks to. All nodes must use the same configuration.
   *
   * @param self this module's ID (default {@code "mempool"}; Mir's default config says {@code
   *     "availability"}, a slip its own Trantor wiring overrides with {@code "mempool"})
   * @param hasher the hasher module (default {@code "hasher"})
   * @param timer the timer module (default {@code "timer"}), for the batch timeout
   */
  public record Config(ModuleId self, ModuleId hasher, ModuleId timer) {
    /** Checks that no ID is missing. */
    public Config {
      Objects.requireNonNull(self, "self");
      Objects.requireNonNull(hasher, "hasher");
      Objects.requireNonNull(timer, "timer");
    }

    /** The given IDs of this module and the hasher, and the timer {@code "timer"}. */
    public Config(ModuleId self, ModuleId hasher) {
      this(self, hasher, DEFAULT_TIMER);
    }

    /** The default IDs: {@code "mempool"}, {@code "hasher"} and {@code "timer"}. */
    public static Config defaults() {
      return new Config(DEFAULT_ID, HasherModule.DEFAULT_ID, DEFAULT_TIMER);
    }

    /** Returns a copy with another ID of this module. */
    public Config withSelf(ModuleId id) {
      return new Config(id, hasher, timer);
    }

    /** Returns a copy with another hasher module. */
    public Config withHasher(ModuleId id) {
      return new Config(self, id, timer);
    }

    /** Returns a copy with another timer module (used only with a batch timeout). */
    public Config withTimer(ModuleId id) {
      return new Config(self, hasher, id);
    }
  }

  /**
   * The mempool's parameters. All nodes must use the same {@code maxTransactionsInBatch} and {@code
   * maxBatchBytes}; the memory limits are local.
   *
   * @param maxTransactionsInBatch the most transactions a batch may hold (Mir's default 10; its
   *     benchmark uses 1024); at least 1
   * @param maxBatchBytes the most bytes (sum of encoded transaction sizes) a batch may hold; a
   *     larger transaction is refused. At least 1; default {@value #DEFAULT_MAX_BATCH_BYTES}, so
   *     that a batch fits in one network message
   * @param maxBytesPerClient the most bytes one client's held transactions may take; at least 1
   * @param maxTotalBytes the most bytes all held transactions may take; at least {@code
   *     maxBytesPerClient}
   * @param clientWindow request numbers accepted above a client's low watermark; must equal the
   *     window of the batch fetcher's client progress ({@link ClientProgress#DEFAULT_WINDOW})
   * @param batchTimeout how long a batch request that finds no transaction waits for one before it
   *     is answered with an empty batch; {@link Duration#ZERO} (the default, as in Mir's version
   *     ported here) answers at once. A timeout keeps an idle leader from ordering empty batches
   *     back to back, and a request arriving at an idle leader is proposed as soon as it arrives.
   *     Not negative. Under load it has no effect (a request always finds transactions). The
   *     protocol's view-change timeouts must leave room for it ({@code Trantor.Params} checks)
   */
  public record Params(
      int maxTransactionsInBatch,
      int maxBatchBytes,
      long maxBytesPerClient,
      long maxTotalBytes,
      long clientWindow,
      Duration batchTimeout) {
    /** Default of {@link #maxTransactionsInBatch()}. */
    public static final int DEFAULT_MAX_TRANSACTIONS_IN_BATCH = 10;

    /** Default of {@link #maxBatchBytes()}: 2 MiB. */
    public static final int DEFAULT_MAX_BATCH_BYTES = 2 << 20;

    /** Default of {@link #maxBytesPerClient()}: 16 MiB. */
    public static final long DEFAULT_MAX_BYTES_PER_CLIENT = 16L << 20;

    /** Default of {@link #maxTotalBytes()}: 256 MiB. */
    public static final long DEFAULT_MAX_TOTAL_BYTES = 256L << 20;

    /** Validates the parameters. */
    public Params {
      if (maxTransactionsInBatch < 1) {
        throw new IllegalArgumentException(
            "maxTransactionsInBatch must be at least 1, given: " + maxTransactionsInBatch);
      }
      if (maxBatchBytes < 1) {
        throw new IllegalArgumentException("maxBatchBytes must be at least 1: " + maxBatchBytes);
      }
      if (maxBytesPerClient < 1) {
        throw new IllegalArgumentException(
            "maxBytesPerClient must be at least 1: " + maxBytesPerClient);
      }
      if (maxTotalBytes < maxBytesPerClient) {
        throw new IllegalArgumentException(
            "maxTotalBytes ("
                + maxTotalBytes
                + ") must be at least maxBytesPerClient ("
                + maxBytesPerClient
                + ")");
      }
      if (clientWindow < 1 || clientWindow > ClientProgress.MAX_WINDOW) {
        throw new IllegalArgumentException(
            "clientWindow must be in 1.." + ClientProgress.MAX_WINDOW + ": " + clientWindow);
      }
      Objects.requireNonNull(batchTimeout, "batchTimeout");
      if (batchTimeout.isNegative()) {
        throw new IllegalArgumentException("batchTimeout must not be negative: " + batchTimeout);
      }
    }

    /** The given limits, without a batch timeout. */
    public Params(
        int maxTransactionsInBatch,
        int maxBatchBytes,
        long maxBytesPerClient,
        long maxTotalBytes,
        long clientWindow) {
      this(
          maxTransactionsInBatch,
          maxBatchBytes,
          maxBytesPerClient,
          maxTotalBytes,
          clientWindow,
          Duration.ZERO);
    }

    /** A batch size limit with the other defaults. */
    public Params(int maxTransactionsInBatch) {
      this(
          maxTransactionsInBatch,
          DEFAULT_MAX_BATCH_BYTES,
          DEFAULT_MAX_BYTES_PER_CLIENT,
          DEFAULT_MAX_TOTAL_BYTES,
          ClientProgress.DEFAULT_WINDOW,
          Duration.ZERO);
    }

    /** Mir's defaults, and the memory limits above. */
    public static Params defaults() {
      return new Params(DEFAULT_MAX_TRANSACTIONS_IN_BATCH);
    }

    /** Returns a copy with another limit of transactions per batch. */
    public Params withMaxTransactionsInBatch(int max) {
      return new Params(
          max, maxBatchBytes, maxBytesPerClient, maxTotalBytes, clientWindow, batchTimeout);
    }

    /** Returns a copy with another limit of bytes per batch. */
    public Params withMaxBatchBytes(int max) {
      return new Params(
          maxTransactionsInBatch,
          max,
          maxBytesPerClient,
          maxTotalBytes,
          clientWindow,
          batchTimeout);
    }

    /** Returns a copy with another limit of held bytes per client. */
    public Params withMaxBytesPerClient(long max) {
      return new Params(
          maxTransactionsInBatch, maxBatchBytes, max, maxTotalBytes, clientWindow, batchTimeout);
    }

    /** Returns a copy with another limit of held bytes in total. */
    public Params withMaxTotalBytes(long max) {
      return new Params(
          maxTransactionsInBatch,
          maxBatchBytes,
          maxBytesPerClient,
          max,
          clientWindow,
          batchTimeout);
    }

    /** Returns a copy with another client request-number window. */
    public Params withClientWindow(long window) {
      return new Params(
          maxTransactionsInBatch,
          maxBatchBytes,
          maxBytesPerClient,
          maxTotalBytes,
          window,
          batchTimeout);
    }

    /** Returns a copy with another batch timeout (see {@link #batchTimeout()}). */
    public Params withBatchTimeout(Duration timeout) {
      return new Params(
          maxTransactionsInBatch,
          maxBatchBytes,
          maxBytesPerClient,
          maxTotalBytes,
          clientWindow,
          timeout);
    }
  }

  /**
   * Counters of the mempool, for monitoring and tests.
   *
   * @param held transactions held (not yet known to be delivered)
   * @param heldBytes their bytes, as counted against the limits
   * @param removedDelivered transactions removed because they were delivered
   * @param reoffered times a transaction offered in an epoch was offered again in a later one (its
   *     batch was not delivered)
   * @param droppedDelivered submitted transactions refused because they were delivered already
   * @param droppedDuplicate submitted transactions refused because one with the same client and
   *     request number is held
   * @param droppedOutOfWindow refused because the request number is beyond the client's window
   * @param droppedTooLarge refused because the transaction does not fit in a batch
   * @param droppedClientFull refused because the client's bytes would exceed their limit
   * @param droppedMempoolFull refused because the mempool's bytes would exceed their limit
   * @param droppedInvalid refused because the client ID or request number is not valid
   */
  public record Stats(
      int held,
      long heldBytes,
      long removedDelivered,
      long reoffered,
      long droppedDelivered,
      long droppedDuplicate,
      long droppedOutOfWindow,
      long droppedTooLarge,
      long droppedClientFull,
      long droppedMempoolFull,
      long droppedInvalid) {
    /** The number of refused transactions, for every reason. */
    public long dropped() {
      return droppedDelivered
          + droppedDuplicate
          + droppedOutOfWindow
          + droppedTooLarge
          + droppedClientFull
          + droppedMempoolFull
          + droppedInvalid;
    }
  }

  /** Context of the hash request for the IDs of transactions. */
  private record TxIdsHashContext(Origin origin, int count) {}

  /** Context of the hash request for the ID of a batch. */
  private record BatchIdHashContext(Origin origin) {}

  /** Context of the hash request for the IDs of newly submitted transactions. */
  private record NewTxIdsContext(List<Request> txs) {}

  /** A batch request waiting for a first transaction; {@code epoch} is -1 without an epoch. */
  private record WaitingRequest(Origin origin, long epoch) {}

  /** A held transaction. */
  private static final class Tx {
    final ByteString id;
    final Request request;
    final ClientId client;
    final long reqNo;
    final long bytes;
    boolean removed;
    boolean offered;

    Tx(ByteString id, Request request, ClientId client, long reqNo, long bytes) {
      this.id = id;
      this.request = request;
      this.client = client;
      this.reqNo = reqNo;
      this.bytes = bytes;
    }
  }

  /** The held transactions of one client, by request number (unordered: hashing is cheaper). */
  private static final class ClientTxs {
    final HashMap<Long, Tx> byReqNo = new HashMap<>();
    long bytes;
  }

  private final Config config;
  private final Params params;
  private final DslModule dsl;
  // Insertion order is arrival order: the order in which transactions are offered.
  private final LinkedHashMap<ByteString, Tx> txById = new LinkedHashMap<>();
  private final Map<ClientId, ClientTxs> byClient = new HashMap<>();
  // The transactions not yet offered in the current epoch, oldest first (may hold removed ones).
  private final ArrayDeque<Tx> toOffer = new ArrayDeque<>();
  // Batch requests of epochs the mempool has not entered yet.
  private final TreeMap<Long, List<Origin>> earlyBatchRequests = new TreeMap<>();
  // Submitted transactions of the current batch of events, hashed together at its end.
  private List<Request> arriving = new ArrayList<>();
  private int earlyBatchRequestCount;
  // Batch requests waiting for a first transaction (only with a batch timeout), by the ID of their
  // BatchTimeout, oldest first.
  private final LinkedHashMap<Long, WaitingRequest> waiting = new LinkedHashMap<>();
  private long nextWaitId;
  private ClientProgress progress;
  private long epoch = -1; // -1: no NewEpoch yet, serve every request at once
  private long heldBytes;
  private long removedDelivered;
  private long reoffered;
  private long droppedDelivered;
  private long droppedDuplicate;
  private long droppedOutOfWindow;
  private long droppedTooLarge;
  private long droppedClientFull;
  private long droppedMempoolFull;
  private long droppedInvalid;

  /** Returns a mempool with the given configuration and parameters. */
  public SimpleMempool(Config config, Params params) {
    this.config = Objects.requireNonNull(config, "config");
    this.params = Objects.requireNonNull(params, "params");
    progress = new ClientProgress(params.clientWindow());
    dsl = new DslModule(config.self());

    // ---- ID computation ----

    // upon event <mempool, RequestTransactionIDs | txs> do hash each tx
    MempoolDsl.uponRequestTransactionIds(dsl, this::onRequestTransactionIds);
    //     ... and answer with the digests as tx IDs
    dsl.uponResponse(
        HashResult.class, HashResult::getOrigin, TxIdsHashContext.class, this::onTxIdsHashed);

    // upon event <mempool, RequestBatchID | txIDs> do hash the concatenated tx IDs
    MempoolDsl.uponRequestBatchId(dsl, this::onRequestBatchId);
    //     ... and answer with the digest as the batch ID
    dsl.uponResponse(
        HashResult.class, HashResult::getOrigin, BatchIdHashContext.class, this::onBatchIdHashed);

    // ---- batch forming ----

    // upon event <client, NewRequests | txs> do compute their IDs (one hash request per batch of
    // events)
    dsl.upon(NewRequests.class, r -> onNewRequests(r.getRequestsList()));
    dsl.uponCondition(this::hashArriving);
    //     ... then keep those not delivered, within their limits
    dsl.uponResponse(
        HashResult.class, HashResult::getOrigin, NewTxIdsContext.class, this::onNewTxIdsHashed);

    // upon event <batchfetcher, NewEpoch | e, progress> do drop delivered txs; offer all others
    // again
    dsl.upon(NewEpoch.class, this::onNewEpoch);

    // upon event <mempool, RequestBatch | e> do cut a batch of the oldest txs not offered in e
    dsl.upon(RequestBatch.class, this::onRequestBatch);
    //     ... or, if none is there, when the first arrives or the batch timeout expires
    dsl.upon(BatchTimeout.class, this::onBatchTimeout);

    // ---- lookup ----

    // upon event <mempool, RequestTransactions | txIDs> do answer with the held txs
    MempoolDsl.uponRequestTransactions(dsl, this::onRequestTransactions);
  }

  @Override
  public EventList applyEvents(EventList events) throws Exception {
    return dsl.applyEvents(events);
  }

  /** Takes no network input: its events come from local modules and the request receiver. */
  @Override
  public boolean receivesMessages() {
    return false;
  }

  /** This module's configuration. */
  public Config config() {
    return config;
  }

  /** This module's parameters. */
  public Params params() {
    return params;
  }

  /** The number of held transactions not yet offered in the current epoch. */
  public int pendingTransactions() {
    int n = 0;
    for (Tx tx : toOffer) {
      if (!tx.removed) {
        n++;
      }
    }
    return n;
  }

  /** The number of transactions held (and so can be looked up by ID). */
  public int knownTransactions() {
    return txById.size();
  }

  /** The epoch the mempool is in; -1 before the first {@code NewEpoch}. */
  public long epoch() {
    return epoch;
  }

  /** The mempool's counters. */
  public Stats stats() {
    return new Stats(
        txById.size(),
        heldBytes,
        removedDelivered,
        reoffered,
        droppedDelivered,
        droppedDuplicate,
        droppedOutOfWindow,
        droppedTooLarge,
        droppedClientFull,
        droppedMempoolFull,
        droppedInvalid);
  }

  /**
   * What is hashed to get a transaction's ID: the chunks {@code [client ID as UTF-8, request number
   * as 8 bytes little-endian, data]}, concatenated (PORT-MAP Appendix C; Mir's {@code
   * serializing.RequestForHash}).
   */
  public static List<ByteString> txIdData(Request tx) {
    return List.of(
        ByteString.copyFromUtf8(tx.getClientId()),
        ByteString.copyFrom(LittleEndian.u64(tx.getReqNo())),
        tx.getData());
  }

  /**
   * The same bytes as {@link #txIdData} in two chunks, {@code [client ID as UTF-8 followed by the
   * request number as 8 bytes little-endian, data]}: one allocation fewer per transaction.
   */
  static HashData txIdHashData(Request tx) {
    // getClientId, not getClientIdBytes: the latter would replace the String the request caches
    // (and every other reader uses) with its bytes.
    byte[] client = tx.getClientId().getBytes(StandardCharsets.UTF_8);
    byte[] head = Arrays.copyOf(client, client.length + Long.BYTES);
    long reqNo = tx.getReqNo();
    for (int i = 0; i < Long.BYTES; i++) {
      head[client.length + i] = (byte) (reqNo >>> (8 * i));
    }
    // head is not shared: no need to copy it once more.
    return HashData.newBuilder()
        .addData(UnsafeByteOperations.unsafeWrap(head))
        .addData(tx.getData())
        .build();
  }

  /**
   * What is hashed to get a batch's ID: the IDs of its transactions in batch order, concatenated
   * (an empty batch hashes the empty string).
   */
  public static List<ByteString> batchIdData(List<ByteString> txIds) {
    return List.copyOf(txIds);
  }

  // ---------------------------------------------------------------------------------------------
  // Handlers

  private void onRequestTransactionIds(List<Request> txs, Origin origin) {
    dsl.emit(
        CryptoEvents.hashRequest(
            config.hasher(),
            txIdHashes(txs),
            dsl.origin(new TxIdsHashContext(origin, txs.size()))));
  }

  private static List<HashData> txIdHashes(List<Request> txs) {
    List<HashData> data = new ArrayList<>(txs.size());
    for (Request tx : txs) {
      data.add(txIdHashData(tx));
    }
    return data;
  }

  private void onTxIdsHashed(HashResult result, TxIdsHashContext ctx) {
    checkDigestCount(result, ctx.count());
    dsl.emit(MempoolEvents.transactionIdsResponse(ctx.origin(), result.getDigestsList()));
  }

  private void onRequestBatchId(List<ByteString> txIds, Origin origin) {
    dsl.emit(
        CryptoEvents.hashRequest(
            config.hasher(),
            List.of(CryptoEvents.hashData(batchIdData(txIds))),
            dsl.origin(new BatchIdHashContext(origin))));
  }

  private void onBatchIdHashed(HashResult result, BatchIdHashContext ctx) {
    checkDigestCount(result, 1);
    dsl.emit(MempoolEvents.batchIdResponse(ctx.origin(), result.getDigests(0)));
  }

  private void onNewRequests(List<Request> txs) {
    // Refuse what is bound to be refused before spending hashing work on it.
    for (Request r : txs) {
      if (heldBytes >= params.maxTotalBytes()) {
        droppedMempoolFull++;
      } else if (r.getSerializedSize() > params.maxBatchBytes()) {
        droppedTooLarge++;
      } else {
        arriving.add(r);
      }
    }
  }

  /** At the end of a batch of events: one hash request for the IDs of all arrived transactions. */
  private void hashArriving() {
    if (arriving.isEmpty()) {
      return;
    }
    List<Request> txs = arriving;
    arriving = new ArrayList<>();
    dsl.emit(
        CryptoEvents.hashRequest(
            config.hasher(), txIdHashes(txs), dsl.origin(new NewTxIdsContext(txs))));
  }

  private void onNewTxIdsHashed(HashResult result, NewTxIdsContext ctx) {
    checkDigestCount(result, ctx.txs().size());
    for (int i = 0; i < ctx.txs().size(); i++) {
      add(result.getDigests(i), ctx.txs().get(i));
    }
    serveWaiting();
  }

  private void add(ByteString id, Request r) {
    ClientId client;
    try {
      client = ClientId.of(r.getClientId());
      ReqNo.of(r.getReqNo());
    } catch (IllegalArgumentException e) {
      droppedInvalid++;
      LOG.debug("{}: refusing a transaction: {}", config.self(), e.getMessage());
      return;
    }
    long reqNo = r.getReqNo();
    DeliveredReqs delivered = progress.client(client).orElse(null);
    long lowWatermark = delivered == null ? 0 : delivered.lowWatermark().value();
    if (delivered != null && delivered.contains(ReqNo.of(reqNo))) {
      droppedDelivered++;
      return;
    }
    if (reqNo - lowWatermark >= params.clientWindow()) {
      droppedOutOfWindow++;
      return;
    }
    ClientTxs ct = byClient.get(client);
    if (txById.containsKey(id) || (ct != null && ct.byReqNo.containsKey(reqNo))) {
      droppedDuplicate++;
      return;
    }
    long bytes = (long) r.getSerializedSize() + TX_OVERHEAD_BYTES;
    if (r.getSerializedSize() > params.maxBatchBytes()) {
      droppedTooLarge++;
      return;
    }
    if ((ct == null ? 0 : ct.bytes) + bytes > params.maxBytesPerClient()) {
      droppedClientFull++;
      return;
    }
    if (heldBytes + bytes > params.maxTotalBytes()) {
      droppedMempoolFull++;
      return;
    }
    if (ct == null) {
      ct = new ClientTxs();
      byClient.put(client, ct);
    }
    Tx tx = new Tx(id, r, client, reqNo, bytes);
    ct.byReqNo.put(reqNo, tx);
    ct.bytes += bytes;
    txById.put(id, tx);
    heldBytes += bytes;
    toOffer.addLast(tx);
  }

  private void onNewEpoch(NewEpoch ne) {
    if (epoch >= 0 && ne.getEpochNr() < epoch) {
      throw new IllegalStateException(
          "NewEpoch " + ne.getEpochNr() + " after NewEpoch " + epoch + " (local modules disagree)");
    }
    try {
      progress = ClientProgress.fromProto(ne.getClientProgress(), params.clientWindow());
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException(
          "malformed client progress from the batch fetcher: " + e.getMessage(), e);
    }
    epoch = ne.getEpochNr();
    pruneDelivered();
    toOffer.clear();
    for (Tx tx : txById.values()) {
      if (tx.offered) {
        reoffered++;
        tx.offered = false;
      }
      toOffer.addLast(tx);
    }
    // Requests that waited for a transaction in an earlier epoch get an empty batch now (their
    // epoch is over); the others may find re-offered transactions.
    Iterator<WaitingRequest> w = waiting.values().iterator();
    while (w.hasNext()) {
      WaitingRequest r = w.next();
      if (r.epoch() >= 0 && r.epoch() < epoch) {
        w.remove();
        dsl.emit(MempoolEvents.newBatch(r.origin(), List.of(), List.of()));
      }
    }
    serveWaiting();
    // Serve the early requests of this epoch; answer those of earlier epochs with empty batches.
    while (!earlyBatchRequests.isEmpty() && earlyBatchRequests.firstKey() <= epoch) {
      Map.Entry<Long, List<Origin>> first = earlyBatchRequests.pollFirstEntry();
      earlyBatchRequestCount -= first.getValue().size();
      for (Origin o : first.getValue()) {
        if (first.getKey() == epoch) {
          serve(o, epoch);
        } else {
          dsl.emit(MempoolEvents.newBatch(o, List.of(), List.of()));
        }
      }
    }
  }

  /** Removes every held transaction the client progress counts as delivered. */
  private void pruneDelivered() {
    Iterator<Map.Entry<ClientId, ClientTxs>> clients = byClient.entrySet().iterator();
    while (clients.hasNext()) {
      Map.Entry<ClientId, ClientTxs> c = clients.next();
      Optional<DeliveredReqs> delivered = progress.client(c.getKey());
      if (delivered.isEmpty()) {
        continue;
      }
      DeliveredReqs d = delivered.get();
      ClientTxs ct = c.getValue();
      long lowWatermark = d.lowWatermark().value();
      boolean anyAboveWatermark = d.deliveredAboveWatermark() > 0;
      Iterator<Tx> it = ct.byReqNo.values().iterator();
      while (it.hasNext()) {
        Tx tx = it.next();
        if (tx.reqNo < lowWatermark || (anyAboveWatermark && d.contains(ReqNo.of(tx.reqNo)))) {
          it.remove();
          remove(ct, tx);
        }
      }
      if (ct.byReqNo.isEmpty()) {
        clients.remove();
      }
    }
  }

  private void remove(ClientTxs ct, Tx tx) {
    tx.removed = true;
    ct.bytes -= tx.bytes;
    heldBytes -= tx.bytes;
    txById.remove(tx.id);
    removedDelivered++;
  }

  private void onRequestBatch(RequestBatch r) {
    Origin origin = r.getOrigin();
    if (!r.hasEpoch() || epoch < 0 || r.getEpoch() == epoch) {
      serve(origin, r.hasEpoch() ? r.getEpoch() : -1);
    } else if (r.getEpoch() < epoch) {
      // The requester's epoch is over: its batch could not be ordered anyway.
      dsl.emit(MempoolEvents.newBatch(origin, List.of(), List.of()));
    } else {
      if (earlyBatchRequestCount >= MAX_EARLY_BATCH_REQUESTS) {
        throw new IllegalStateException(
            "more than "
                + MAX_EARLY_BATCH_REQUESTS
                + " batch requests wait for epochs after "
                + epoch);
      }
      earlyBatchRequests.computeIfAbsent(r.getEpoch(), e -> new ArrayList<>()).add(origin);
      earlyBatchRequestCount++;
    }
  }

  /**
   * Answers a batch request of the current epoch ({@code requestEpoch}, -1 for none): at once if a
   * transaction is there or there is no batch timeout, else when one arrives or the timeout
   * expires.
   */
  private void serve(Origin origin, long requestEpoch) {
    if (params.batchTimeout().isZero() || hasOfferable()) {
      cutBatch(origin);
      return;
    }
    if (waiting.size() >= MAX_EARLY_BATCH_REQUESTS) {
      throw new IllegalStateException(
          "more than " + MAX_EARLY_BATCH_REQUESTS + " batch requests wait for transactions");
    }
    long id = nextWaitId++;
    waiting.put(id, new WaitingRequest(origin, requestEpoch));
    dsl.emit(
        Events.timerDelay(
            config.timer(),
            List.of(Event.of(config.self(), BatchTimeout.newBuilder().setId(id).build())),
            params.batchTimeout()));
  }

  /** Serves waiting batch requests, oldest first, while there are transactions to offer. */
  private void serveWaiting() {
    Iterator<WaitingRequest> it = waiting.values().iterator();
    while (it.hasNext() && hasOfferable()) {
      WaitingRequest r = it.next();
      it.remove();
      cutBatch(r.origin());
    }
  }

  private void onBatchTimeout(BatchTimeout t) {
    WaitingRequest r = waiting.remove(t.getId());
    if (r != null) {
      cutBatch(r.origin()); // nothing arrived in time: an empty batch
    }
  }

  /** Whether a transaction not yet offered in this epoch is held (drops removed ones in front). */
  private boolean hasOfferable() {
    while (!toOffer.isEmpty() && toOffer.peekFirst().removed) {
      toOffer.removeFirst();
    }
    return !toOffer.isEmpty();
  }

  /** The number of batch requests waiting for a first transaction. */
  public int waitingBatchRequests() {
    return waiting.size();
  }

  private void cutBatch(Origin origin) {
    int max = params.maxTransactionsInBatch();
    List<ByteString> ids = new ArrayList<>(Math.min(max, toOffer.size()));
    List<Request> txs = new ArrayList<>(Math.min(max, toOffer.size()));
    long bytes = 0;
    while (ids.size() < max && !toOffer.isEmpty()) {
      Tx tx = toOffer.peekFirst();
      if (tx.removed) {
        toOffer.removeFirst();
        continue;
      }
      int size = tx.request.getSerializedSize();
      if (bytes + size > params.maxBatchBytes()) {
        break;
      }
      toOffer.removeFirst();
      tx.offered = true;
      bytes += size;
      ids.add(tx.id);
      txs.add(tx.request);
    }
    dsl.emit(MempoolEvents.newBatch(origin, ids, txs));
  }

  private void onRequestTransactions(List<ByteString> txIds, Origin origin) {
    List<Boolean> present = new ArrayList<>(txIds.size());
    List<Request> txs = new ArrayList<>(txIds.size());
    for (ByteString id : txIds) {
      Tx tx = txById.get(id);
      present.add(tx != null);
      txs.add(tx != null ? tx.request : Request.getDefaultInstance());
    }
    dsl.emit(MempoolEvents.transactionsResponse(origin, present, txs));
  }

  private static void checkDigestCount(HashResult result, int expected) {
    if (result.getDigestsCount() != expected) {
      throw new IllegalStateException(
          "hasher returned " + result.getDigestsCount() + " digests, expected " + expected);
    }
  }

  /** A summary of the module's state, for logs and debugging. */
  @Override
  public String toString() {
    return "SimpleMempool["
        + config.self()
        + ", epoch="
        + epoch
        + ", held="
        + txById.size()
        + ", heldBytes="
        + heldBytes
        + ", dropped="
        + stats().dropped()
        + "]";
  }
}
