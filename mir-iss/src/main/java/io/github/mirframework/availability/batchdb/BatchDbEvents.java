package io.github.mirframework.availability.batchdb;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.github.mirframework.availability.batchdb.pb.BatchStored;
import io.github.mirframework.availability.batchdb.pb.GarbageCollect;
import io.github.mirframework.availability.batchdb.pb.LookupBatch;
import io.github.mirframework.availability.batchdb.pb.LookupBatchResponse;
import io.github.mirframework.availability.batchdb.pb.StoreBatch;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.crypto.CryptoEvents;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.pb.Origin;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.RetentionIndex;
import java.util.List;

/**
 * Factories for the events of a batch database (Mir's {@code batchdb/events}).
 *
 * <p>A request is addressed to the batch database and carries an {@link Origin} naming the module
 * that receives the response; a response is addressed to the origin's module and carries the origin
 * back unchanged. Stateless.
 */
public final class BatchDbEvents {
  private BatchDbEvents() {}

  /** Asks the batch database {@code batchDb} for the batch with ID {@code batchId}. */
  public static Event lookupBatch(ModuleId batchDb, ByteString batchId, Origin origin) {
    return Event.of(
        batchDb, LookupBatch.newBuilder().setBatchId(batchId).setOrigin(origin).build());
  }

  /**
   * The answer to a {@code LookupBatch}, addressed to the origin's module: whether the batch was
   * found, and if so its transactions and metadata (empty otherwise).
   */
  public static Event lookupBatchResponse(
      Origin origin, boolean found, List<Request> txs, ByteString metadata) {
    return Event.of(
        CryptoEvents.originModule(origin),
        LookupBatchResponse.newBuilder()
            .setFound(found)
            .addAllTxs(txs)
            .setMetadata(metadata)
            .setOrigin(origin)
            .build());
  }

  /**
   * Asks the batch database {@code batchDb} to store the batch {@code batchId} made of {@code txs}
   * whose IDs are {@code txIds} (same order), with {@code metadata}.
   *
   * @throws IllegalArgumentException if {@code txIds} and {@code txs} differ in length
   */
  public static Event storeBatch(
      ModuleId batchDb,
      ByteString batchId,
      List<ByteString> txIds,
      List<Request> txs,
      ByteString metadata,
      Origin origin) {
    if (txIds.size() != txs.size()) {
      throw new IllegalArgumentException(
          txIds.size() + " transaction IDs but " + txs.size() + " transactions");
    }
    return Event.of(
        batchDb,
        StoreBatch.newBuilder()
            .setBatchId(batchId)
            .addAllTxIds(txIds)
            .addAllTxs(txs)
            .setMetadata(metadata)
            .setOrigin(origin)
            .build());
  }

  /**
   * As {@link #storeBatch(ModuleId, ByteString, List, List, ByteString, Origin)}, keeping the batch
   * until a garbage collection above {@code retentionIndex}.
   */
  public static Event storeBatch(
      ModuleId batchDb,
      ByteString batchId,
      List<ByteString> txIds,
      List<Request> txs,
      ByteString metadata,
      RetentionIndex retentionIndex,
      Origin origin) {
    Event e = storeBatch(batchDb, batchId, txIds, txs, metadata, origin);
    return Event.of(
        batchDb,
        e.payload(StoreBatch.class).toBuilder().setRetentionIndex(retentionIndex.value()).build());
  }

  /** Asks the batch database {@code batchDb} to delete the batches kept below {@code ri}. */
  public static Event garbageCollect(ModuleId batchDb, RetentionIndex ri) {
    return Event.of(batchDb, GarbageCollect.newBuilder().setRetentionIndex(ri.value()).build());
  }

  /** The answer to a {@code StoreBatch}, addressed to the origin's module. */
  public static Event batchStored(Origin origin) {
    return Event.of(
        CryptoEvents.originModule(origin), BatchStored.newBuilder().setOrigin(origin).build());
  }

  /**
   * Prototypes of all event payload types of the batch database, for registration with a {@code
   * PayloadRegistry} so that recorded or logged events of these types can be decoded.
   */
  public static List<Message> payloadTypes() {
    return List.of(
        LookupBatch.getDefaultInstance(),
        LookupBatchResponse.getDefaultInstance(),
        StoreBatch.getDefaultInstance(),
        BatchStored.getDefaultInstance(),
        GarbageCollect.getDefaultInstance());
  }
}
