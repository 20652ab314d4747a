package io.github.mirframework.availability.batchdb;

import com.google.protobuf.ByteString;
import io.github.mirframework.availability.batchdb.pb.GarbageCollect;
import io.github.mirframework.availability.batchdb.pb.StoreBatch;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.dsl.DslModule;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.pb.Origin;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.types.ModuleId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

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
 * <p><b>Garbage collection</b> (Mir's later versions): a batch stored with a retention index (the
 * multisig collector uses its epoch) is kept until {@code GarbageCollect{r}} with r above that
 * index; a batch stored under several indexes is kept for the highest; a batch stored with an index
 * already collected is not kept (but still confirmed). A batch stored without an index is kept for
 * the database's lifetime. Nothing survives a restart, as in Mir. The database trusts its callers
 * (the local availability layer): it does not check that IDs match the transactions; a {@code
 * StoreBatch} with as many transaction IDs as transactions is required, anything else is a bug of
 * the caller and stops the node.
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

  private static final long NO_RETENTION = Long.MAX_VALUE;

  private static final class BatchInfo {
    final List<ByteString> txIds;
    final ByteString metadata;
    long retentionIndex;

    BatchInfo(List<ByteString> txIds, ByteString metadata, long retentionIndex) {
      this.txIds = txIds;
      this.metadata = metadata;
      this.retentionIndex = retentionIndex;
    }
  }

  private static final class StoredTx {
    final Request tx;
    int refs;

    StoredTx(Request tx) {
      this.tx = tx;
    }
  }

  private final Config config;
  private final DslModule dsl;
  private final Map<ByteString, BatchInfo> batches = new HashMap<>();
  private final Map<ByteString, StoredTx> transactions = new HashMap<>();
  // Batch IDs by the retention index they were (last) stored under.
  private final TreeMap<Long, Set<ByteString>> byRetentionIndex = new TreeMap<>();
  private long collectedBelow;
  private long storedBytes;

  /** Returns an empty batch database. */
  public FakeBatchDb(Config config) {
    this.config = Objects.requireNonNull(config, "config");
    dsl = new DslModule(config.self());

    // upon event <batchdb, StoreBatch | id, txIDs, txs, metadata> do store; answer BatchStored
    BatchDbDsl.uponStoreBatch(dsl, this::onStoreBatch);

    // upon event <batchdb, LookupBatch | id> do answer with the stored batch, if any
    BatchDbDsl.uponLookupBatch(dsl, this::onLookupBatch);

    // upon event <batchdb, GarbageCollect | r> do delete the batches kept below r
    dsl.upon(GarbageCollect.class, gc -> onGarbageCollect(gc.getRetentionIndex()));
  }

  /** Returns an empty batch database with Mir's default ID. */
  public FakeBatchDb() {
    this(Config.defaults());
  }

  @Override
  public EventList applyEvents(EventList events) throws Exception {
    return dsl.applyEvents(events);
  }

  /** Takes no network input: only the local availability layer uses it. */
  @Override
  public boolean receivesMessages() {
    return false;
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

  /** The encoded bytes of the stored transactions (distinct IDs). */
  public long storedBytes() {
    return storedBytes;
  }

  /** Batches stored below this retention index have been deleted. */
  public long collectedBelow() {
    return collectedBelow;
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
    long ri = r.hasRetentionIndex() ? r.getRetentionIndex() : NO_RETENTION;
    if (ri >= collectedBelow) {
      BatchInfo existing = batches.get(r.getBatchId());
      if (existing == null) {
        List<ByteString> ids = List.copyOf(r.getTxIdsList());
        batches.put(r.getBatchId(), new BatchInfo(ids, r.getMetadata(), ri));
        for (int i = 0; i < ids.size(); i++) {
          StoredTx st = transactions.get(ids.get(i));
          if (st == null) {
            st = new StoredTx(r.getTxs(i));
            transactions.put(ids.get(i), st);
            storedBytes += st.tx.getSerializedSize();
          }
          st.refs++;
        }
        index(r.getBatchId(), ri);
      } else if (existing.retentionIndex < ri) {
        unindex(r.getBatchId(), existing.retentionIndex);
        existing.retentionIndex = ri;
        index(r.getBatchId(), ri);
      }
    }
    dsl.emit(BatchDbEvents.batchStored(origin));
  }

  private void index(ByteString batchId, long ri) {
    if (ri != NO_RETENTION) {
      byRetentionIndex.computeIfAbsent(ri, k -> new HashSet<>()).add(batchId);
    }
  }

  private void unindex(ByteString batchId, long ri) {
    Set<ByteString> ids = byRetentionIndex.get(ri);
    if (ids != null) {
      ids.remove(batchId);
      if (ids.isEmpty()) {
        byRetentionIndex.remove(ri);
      }
    }
  }

  private void onGarbageCollect(long retentionIndex) {
    if (retentionIndex <= collectedBelow) {
      return;
    }
    collectedBelow = retentionIndex;
    while (!byRetentionIndex.isEmpty() && byRetentionIndex.firstKey() < retentionIndex) {
      for (ByteString batchId : byRetentionIndex.pollFirstEntry().getValue()) {
        BatchInfo info = batches.remove(batchId);
        for (ByteString txId : info.txIds) {
          StoredTx st = transactions.get(txId);
          if (--st.refs == 0) {
            transactions.remove(txId);
            storedBytes -= st.tx.getSerializedSize();
          }
        }
      }
    }
  }

  private void onLookupBatch(ByteString batchId, Origin origin) {
    BatchInfo info = batches.get(batchId);
    if (info == null) {
      dsl.emit(BatchDbEvents.lookupBatchResponse(origin, false, List.of(), ByteString.EMPTY));
      return;
    }
    List<Request> txs = new ArrayList<>(info.txIds.size());
    for (ByteString id : info.txIds) {
      txs.add(transactions.get(id).tx);
    }
    dsl.emit(BatchDbEvents.lookupBatchResponse(origin, true, txs, info.metadata));
  }

  /** A summary of the module's state, for logs and debugging. */
  @Override
  public String toString() {
    return "FakeBatchDb["
        + config.self()
        + ", batches="
        + batches.size()
        + ", bytes="
        + storedBytes
        + ", collectedBelow="
        + collectedBelow
        + "]";
  }
}
