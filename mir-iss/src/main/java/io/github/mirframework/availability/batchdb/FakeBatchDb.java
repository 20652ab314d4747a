package io.github.mirframework.availability.batchdb;

import com.google.protobuf.ByteString;
import io.github.mirframework.availability.batchdb.pb.StoreBatch;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.dsl.DslModule;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.pb.Origin;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.types.ModuleId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An in-memory batch database (Mir's {@code fakebatchdb}): a map from batch ID to the IDs of its
 * transactions and its metadata, and a map from transaction ID to transaction.
 *
 * <ul>
 *   <li>{@code StoreBatch{batch ID, tx IDs, txs, metadata}} → stores them (a batch stored again
 *       replaces the earlier entry) → {@code BatchStored} to the origin's module;
 *   <li>{@code LookupBatch{batch ID}} → {@code LookupBatchResponse{found, txs, metadata}} to the
 *       origin's module.
 * </ul>
 *
 * <p>Nothing is ever deleted and nothing survives a restart, as in Mir. The database trusts its
 * callers (the local availability layer): it does not check that IDs match the transactions; a
 * {@code StoreBatch} with as many transaction IDs as transactions is required, anything else is a
 * bug of the caller and stops the node.
 *
 * <p>Not thread-safe; a passive module, called by one thread at a time.
 */
public final class FakeBatchDb implements PassiveModule {
  /** Mir's default ID of the batch database. */
  public static final ModuleId DEFAULT_ID = ModuleId.of("batchdb");

  /**
   * The IDs of the modules the batch database talks to (only itself; responses go to the requests'
   * origins).
   *
   * @param self this module's ID (Mir's default {@code "batchdb"})
   */
  public record Config(ModuleId self) {
    /** Checks that no ID is missing. */
    public Config {
      Objects.requireNonNull(self, "self");
    }

    /** Mir's default: {@code "batchdb"}. */
    public static Config defaults() {
      return new Config(DEFAULT_ID);
    }

    /** Returns a copy with another ID of this module. */
    public Config withSelf(ModuleId id) {
      return new Config(id);
    }
  }

  private record BatchInfo(List<ByteString> txIds, ByteString metadata) {}

  private final Config config;
  private final DslModule dsl;
  private final Map<ByteString, BatchInfo> batches = new HashMap<>();
  private final Map<ByteString, Request> transactions = new HashMap<>();

  /** Returns an empty batch database. */
  public FakeBatchDb(Config config) {
    this.config = Objects.requireNonNull(config, "config");
    dsl = new DslModule(config.self());

    // upon event <batchdb, StoreBatch | id, txIDs, txs, metadata> do store; answer BatchStored
    BatchDbDsl.uponStoreBatch(dsl, this::onStoreBatch);

    // upon event <batchdb, LookupBatch | id> do answer with the stored batch, if any
    BatchDbDsl.uponLookupBatch(dsl, this::onLookupBatch);
  }

  /** Returns an empty batch database with Mir's default ID. */
  public FakeBatchDb() {
    this(Config.defaults());
  }

  @Override
  public EventList applyEvents(EventList events) throws Exception {
    return dsl.applyEvents(events);
  }

  /** This module's configuration. */
  public Config config() {
    return config;
  }

  /** Whether the batch with ID {@code batchId} is stored. */
  public boolean contains(ByteString batchId) {
    return batches.containsKey(batchId);
  }

  /** The number of stored batches. */
  public int batchCount() {
    return batches.size();
  }

  /** The number of stored transactions (distinct IDs). */
  public int transactionCount() {
    return transactions.size();
  }

  private void onStoreBatch(StoreBatch r, Origin origin) {
    if (r.getTxIdsCount() != r.getTxsCount()) {
      throw new IllegalArgumentException(
          "StoreBatch with "
              + r.getTxIdsCount()
              + " transaction IDs but "
              + r.getTxsCount()
              + " transactions");
    }
    batches.put(r.getBatchId(), new BatchInfo(List.copyOf(r.getTxIdsList()), r.getMetadata()));
    for (int i = 0; i < r.getTxIdsCount(); i++) {
      transactions.put(r.getTxIds(i), r.getTxs(i));
    }
    dsl.emit(BatchDbEvents.batchStored(origin));
  }

  private void onLookupBatch(ByteString batchId, Origin origin) {
    BatchInfo info = batches.get(batchId);
    if (info == null) {
      dsl.emit(BatchDbEvents.lookupBatchResponse(origin, false, List.of(), ByteString.EMPTY));
      return;
    }
    List<Request> txs = new ArrayList<>(info.txIds().size());
    for (ByteString id : info.txIds()) {
      txs.add(transactions.get(id));
    }
    dsl.emit(BatchDbEvents.lookupBatchResponse(origin, true, txs, info.metadata()));
  }

  /** A summary of the module's state, for logs and debugging. */
  @Override
  public String toString() {
    return "FakeBatchDb[" + config.self() + ", batches=" + batches.size() + "]";
  }
}
