package io.github.mirframework.mempool;

import com.google.protobuf.ByteString;
import io.github.mirframework.client.pb.NewRequests;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.crypto.CryptoEvents;
import io.github.mirframework.crypto.HasherModule;
import io.github.mirframework.crypto.pb.HashData;
import io.github.mirframework.crypto.pb.HashResult;
import io.github.mirframework.dsl.DslModule;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.pb.Origin;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.types.LittleEndian;
import io.github.mirframework.types.ModuleId;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The simple mempool (Mir's {@code simplemempool}): keeps the transactions clients submitted, cuts
 * them into batches on request, and computes transaction and batch IDs with the hasher module.
 *
 * <p>Three independent parts share this module, as in Mir:
 *
 * <ul>
 *   <li><b>ID computation.</b> {@code RequestTransactionIDs{txs}} → one {@code HashRequest} to the
 *       hasher → {@code TransactionIDsResponse{tx IDs}}, where a transaction's ID is the hash of
 *       {@link #txIdData}; {@code RequestBatchID{tx IDs}} → {@code BatchIDResponse{batch ID}}, the
 *       hash of the concatenated transaction IDs ({@link #batchIdData}).
 *   <li><b>Batch forming.</b> {@code NewRequests} (from clients) → the mempool asks itself for the
 *       transactions' IDs and appends them to a FIFO of new transactions; {@code RequestBatch} →
 *       {@code NewBatch} with the oldest new transactions, at most {@link
 *       Params#maxTransactionsInBatch()} of them (possibly none: an empty batch).
 *   <li><b>Lookup.</b> {@code RequestTransactions{tx IDs}} → {@code TransactionsResponse} telling
 *       for each ID whether the transaction is known, and the transaction.
 * </ul>
 *
 * <p>As in Mir, transactions are never removed from the lookup table, and a transaction submitted
 * twice is batched twice (deduplication happens after ordering, in the batch fetcher). Client
 * requests are local input: the request receiver in front of the mempool validates them.
 *
 * <p>Not thread-safe; a passive module, called by one thread at a time.
 */
public final class SimpleMempool implements PassiveModule {
  /** The ID of the mempool module in a Trantor node. */
  public static final ModuleId DEFAULT_ID = ModuleId.of("mempool");

  /**
   * The IDs of the modules the mempool talks to. All nodes must use the same configuration.
   *
   * @param self this module's ID (default {@code "mempool"}; Mir's default config says {@code
   *     "availability"}, a slip its own Trantor wiring overrides with {@code "mempool"})
   * @param hasher the hasher module (default {@code "hasher"})
   */
  public record Config(ModuleId self, ModuleId hasher) {
    /** Checks that no ID is missing. */
    public Config {
      Objects.requireNonNull(self, "self");
      Objects.requireNonNull(hasher, "hasher");
    }

    /** The default IDs: {@code "mempool"} and {@code "hasher"}. */
    public static Config defaults() {
      return new Config(DEFAULT_ID, HasherModule.DEFAULT_ID);
    }

    /** Returns a copy with another ID of this module. */
    public Config withSelf(ModuleId id) {
      return new Config(id, hasher);
    }

    /** Returns a copy with another hasher module. */
    public Config withHasher(ModuleId id) {
      return new Config(self, id);
    }
  }

  /**
   * The mempool's parameters. All nodes must use the same parameters.
   *
   * @param maxTransactionsInBatch the most transactions a batch may hold (Mir's default 10; its
   *     benchmark uses 1024); at least 1
   */
  public record Params(int maxTransactionsInBatch) {
    /** Default of {@link #maxTransactionsInBatch()}. */
    public static final int DEFAULT_MAX_TRANSACTIONS_IN_BATCH = 10;

    /** Validates the parameters. */
    public Params {
      if (maxTransactionsInBatch < 1) {
        throw new IllegalArgumentException(
            "maxTransactionsInBatch must be at least 1, given: " + maxTransactionsInBatch);
      }
    }

    /** Mir's defaults. */
    public static Params defaults() {
      return new Params(DEFAULT_MAX_TRANSACTIONS_IN_BATCH);
    }

    /** Returns a copy with another batch size limit. */
    public Params withMaxTransactionsInBatch(int max) {
      return new Params(max);
    }
  }

  /** Context of the hash request for the IDs of transactions. */
  private record TxIdsHashContext(Origin origin, int count) {}

  /** Context of the hash request for the ID of a batch. */
  private record BatchIdHashContext(Origin origin) {}

  /** Context of the mempool's request to itself for the IDs of newly submitted transactions. */
  private record NewTxIdsContext(List<Request> txs) {}

  private final Config config;
  private final Params params;
  private final DslModule dsl;
  private final Map<ByteString, Request> txById = new HashMap<>();
  private final ArrayDeque<ByteString> newTxIds = new ArrayDeque<>();

  /** Returns a mempool with the given configuration and parameters. */
  public SimpleMempool(Config config, Params params) {
    this.config = Objects.requireNonNull(config, "config");
    this.params = Objects.requireNonNull(params, "params");
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

    // upon event <client, NewRequests | txs> do compute their IDs (asking ourselves)
    dsl.upon(NewRequests.class, r -> onNewRequests(r.getRequestsList()));
    //     ... then remember them and queue them for batching
    MempoolDsl.uponTransactionIdsResponse(dsl, NewTxIdsContext.class, this::onNewTxIds);

    // upon event <mempool, RequestBatch> do cut a batch of the oldest new txs (maybe empty)
    MempoolDsl.uponRequestBatch(dsl, this::onRequestBatch);

    // ---- lookup ----

    // upon event <mempool, RequestTransactions | txIDs> do answer with the known txs
    MempoolDsl.uponRequestTransactions(dsl, this::onRequestTransactions);
  }

  @Override
  public EventList applyEvents(EventList events) throws Exception {
    return dsl.applyEvents(events);
  }

  /** This module's configuration. */
  public Config config() {
    return config;
  }

  /** This module's parameters. */
  public Params params() {
    return params;
  }

  /** The number of transactions waiting to be put into a batch. */
  public int pendingTransactions() {
    return newTxIds.size();
  }

  /** The number of distinct transactions the mempool can look up by ID. */
  public int knownTransactions() {
    return txById.size();
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
   * What is hashed to get a batch's ID: the IDs of its transactions in batch order, concatenated
   * (an empty batch hashes the empty string).
   */
  public static List<ByteString> batchIdData(List<ByteString> txIds) {
    return List.copyOf(txIds);
  }

  // ---------------------------------------------------------------------------------------------
  // Handlers

  private void onRequestTransactionIds(List<Request> txs, Origin origin) {
    List<HashData> data = new ArrayList<>(txs.size());
    for (Request tx : txs) {
      data.add(CryptoEvents.hashData(txIdData(tx)));
    }
    dsl.emit(
        CryptoEvents.hashRequest(
            config.hasher(), data, dsl.origin(new TxIdsHashContext(origin, txs.size()))));
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
    if (!txs.isEmpty()) {
      MempoolDsl.requestTransactionIds(dsl, config.self(), txs, new NewTxIdsContext(txs));
    }
  }

  private void onNewTxIds(List<ByteString> txIds, NewTxIdsContext ctx) {
    if (txIds.size() != ctx.txs().size()) {
      throw new IllegalStateException(
          "got " + txIds.size() + " transaction IDs for " + ctx.txs().size() + " transactions");
    }
    for (int i = 0; i < txIds.size(); i++) {
      txById.put(txIds.get(i), ctx.txs().get(i));
      newTxIds.addLast(txIds.get(i));
    }
  }

  private void onRequestBatch(Origin origin) {
    int n = Math.min(params.maxTransactionsInBatch(), newTxIds.size());
    List<ByteString> ids = new ArrayList<>(n);
    List<Request> txs = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      ByteString id = newTxIds.removeFirst();
      ids.add(id);
      txs.add(txById.get(id));
    }
    dsl.emit(MempoolEvents.newBatch(origin, ids, txs));
  }

  private void onRequestTransactions(List<ByteString> txIds, Origin origin) {
    List<Boolean> present = new ArrayList<>(txIds.size());
    List<Request> txs = new ArrayList<>(txIds.size());
    for (ByteString id : txIds) {
      Request tx = txById.get(id);
      present.add(tx != null);
      txs.add(tx != null ? tx : Request.getDefaultInstance());
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
        + ", pending="
        + newTxIds.size()
        + ", known="
        + txById.size()
        + "]";
  }
}
