package io.github.mirframework.availability.batchdb;

import com.google.protobuf.ByteString;
import io.github.mirframework.availability.batchdb.pb.BatchStored;
import io.github.mirframework.availability.batchdb.pb.LookupBatch;
import io.github.mirframework.availability.batchdb.pb.LookupBatchResponse;
import io.github.mirframework.availability.batchdb.pb.StoreBatch;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.dsl.DslModule;
import io.github.mirframework.event.pb.Origin;
import io.github.mirframework.types.ModuleId;
import java.util.List;
import java.util.Objects;

/**
 * Typed DSL helpers for the batch database's events (Mir's {@code batchdb/dsl}).
 *
 * <p>A request method stores a context object in the {@link DslModule} (see {@link
 * DslModule#origin}) and emits the request; the matching response method registers a handler that
 * receives the response together with that context, but only for contexts of the class it was
 * registered with. {@link #uponLookupBatch} and {@link #uponStoreBatch} are for implementations of
 * the database. Stateless; call the methods from the thread that applies the module's events.
 */
public final class BatchDbDsl {
  private BatchDbDsl() {}

  /**
   * Handles the answer to {@link #lookupBatch}.
   *
   * @param <C> the context type
   */
  @FunctionalInterface
  public interface LookupResponseHandler<C> {
    /**
     * Handles one answer.
     *
     * @param found whether the batch is stored
     * @param txs its transactions (empty if not found)
     * @param metadata its metadata (empty if not found)
     * @throws Exception to fail the batch (and stop the node)
     */
    void handle(boolean found, List<Request> txs, ByteString metadata, C context) throws Exception;
  }

  /**
   * Handles a request to the batch database.
   *
   * @param <A> the request's argument
   */
  @FunctionalInterface
  public interface RequestHandler<A> {
    /**
     * Handles one request.
     *
     * @param argument what the request is about
     * @param origin the request's origin, to be put into the response
     * @throws Exception to fail the batch (and stop the node)
     */
    void handle(A argument, Origin origin) throws Exception;
  }

  /**
   * Asks the batch database {@code batchDb} for the batch {@code batchId}; see {@link
   * #uponLookupBatchResponse}.
   */
  public static void lookupBatch(
      DslModule m, ModuleId batchDb, ByteString batchId, Object context) {
    m.emit(BatchDbEvents.lookupBatch(batchDb, batchId, m.origin(context)));
  }

  /** Registers {@code handler} for {@code LookupBatch} events (batch ID, origin). */
  public static void uponLookupBatch(DslModule m, RequestHandler<? super ByteString> handler) {
    Objects.requireNonNull(handler, "handler");
    m.upon(LookupBatch.class, r -> handler.handle(r.getBatchId(), r.getOrigin()));
  }

  /**
   * Registers {@code handler} for answers to {@link #lookupBatch} made with a context of class
   * {@code contextType}.
   */
  public static <C> void uponLookupBatchResponse(
      DslModule m, Class<C> contextType, LookupResponseHandler<? super C> handler) {
    Objects.requireNonNull(handler, "handler");
    m.uponResponse(
        LookupBatchResponse.class,
        LookupBatchResponse::getOrigin,
        contextType,
        (r, c) -> handler.handle(r.getFound(), r.getTxsList(), r.getMetadata(), c));
  }

  /**
   * Asks the batch database {@code batchDb} to store a batch; see {@link #uponBatchStored}.
   *
   * @throws IllegalArgumentException if {@code txIds} and {@code txs} differ in length
   */
  public static void storeBatch(
      DslModule m,
      ModuleId batchDb,
      ByteString batchId,
      List<ByteString> txIds,
      List<Request> txs,
      ByteString metadata,
      Object context) {
    m.emit(BatchDbEvents.storeBatch(batchDb, batchId, txIds, txs, metadata, m.origin(context)));
  }

  /**
   * As {@link #storeBatch(DslModule, ModuleId, ByteString, List, List, ByteString, Object)}, with a
   * retention index (see {@link BatchDbEvents#storeBatch(ModuleId, ByteString, List, List,
   * ByteString, io.github.mirframework.types.RetentionIndex, Origin)}).
   */
  public static void storeBatch(
      DslModule m,
      ModuleId batchDb,
      ByteString batchId,
      List<ByteString> txIds,
      List<Request> txs,
      ByteString metadata,
      io.github.mirframework.types.RetentionIndex retentionIndex,
      Object context) {
    m.emit(
        BatchDbEvents.storeBatch(
            batchDb, batchId, txIds, txs, metadata, retentionIndex, m.origin(context)));
  }

  /**
   * Registers {@code handler} for {@code StoreBatch} events; it gets the whole request (batch ID,
   * transaction IDs, transactions, metadata) and its origin.
   */
  public static void uponStoreBatch(DslModule m, RequestHandler<? super StoreBatch> handler) {
    Objects.requireNonNull(handler, "handler");
    m.upon(StoreBatch.class, r -> handler.handle(r, r.getOrigin()));
  }

  /**
   * Registers {@code handler} for confirmations of {@link #storeBatch} requests made with a context
   * of class {@code contextType}.
   */
  public static <C> void uponBatchStored(
      DslModule m, Class<C> contextType, DslModule.Handler<? super C> handler) {
    Objects.requireNonNull(handler, "handler");
    m.uponResponse(
        BatchStored.class, BatchStored::getOrigin, contextType, (r, c) -> handler.handle(c));
  }
}
