package io.github.mirframework.mempool;

import com.google.protobuf.ByteString;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.dsl.DslModule;
import io.github.mirframework.event.pb.Origin;
import io.github.mirframework.mempool.pb.BatchIDResponse;
import io.github.mirframework.mempool.pb.NewBatch;
import io.github.mirframework.mempool.pb.RequestBatch;
import io.github.mirframework.mempool.pb.RequestBatchID;
import io.github.mirframework.mempool.pb.RequestTransactionIDs;
import io.github.mirframework.mempool.pb.RequestTransactions;
import io.github.mirframework.mempool.pb.TransactionIDsResponse;
import io.github.mirframework.mempool.pb.TransactionsResponse;
import io.github.mirframework.types.ModuleId;
import java.util.List;
import java.util.Objects;

/**
 * Typed DSL helpers for the mempool's events (Mir's {@code mempool/dsl}).
 *
 * <p>A request method stores a context object in the {@link DslModule} (see {@link
 * DslModule#origin}) and emits the request; the matching {@code upon…Response} method registers a
 * handler that receives the response together with that context, but only for contexts of the class
 * it was registered with. The {@code upon<Request>} methods are for mempool implementations: their
 * handlers get the request's arguments and its origin, to be copied into the response.
 *
 * <p>Stateless; call the methods from the thread that applies the module's events (in practice: in
 * the module's constructor or in its handlers).
 */
public final class MempoolDsl {
  private MempoolDsl() {}

  /**
   * Handles a request to the mempool.
   *
   * @param <A> the request's argument
   */
  @FunctionalInterface
  public interface RequestHandler<A> {
    /**
     * Handles one request.
     *
     * @param argument what the request asks about
     * @param origin the request's origin, to be put into the response
     * @throws Exception to fail the batch (and stop the node)
     */
    void handle(A argument, Origin origin) throws Exception;
  }

  /**
   * Handles a response with two parts.
   *
   * @param <A> the first part
   * @param <B> the second part
   * @param <C> the context type
   */
  @FunctionalInterface
  public interface ResponseHandler2<A, B, C> {
    /**
     * Handles one response.
     *
     * @throws Exception to fail the batch (and stop the node)
     */
    void handle(A first, B second, C context) throws Exception;
  }

  // ---- RequestBatch / NewBatch ----

  /** Asks the mempool {@code mempool} for a new batch; see {@link #uponNewBatch}. */
  public static void requestBatch(DslModule m, ModuleId mempool, Object context) {
    m.emit(MempoolEvents.requestBatch(mempool, m.origin(context)));
  }

  /**
   * Asks the mempool {@code mempool} for a new batch for epoch {@code epoch}; see {@link
   * #uponNewBatch}.
   */
  public static void requestBatch(DslModule m, ModuleId mempool, long epoch, Object context) {
    m.emit(MempoolEvents.requestBatch(mempool, m.origin(context), epoch));
  }

  /** Registers {@code handler} for {@code RequestBatch} events; it gets the request's origin. */
  public static void uponRequestBatch(DslModule m, DslModule.Handler<Origin> handler) {
    Objects.requireNonNull(handler, "handler");
    m.upon(RequestBatch.class, r -> handler.handle(r.getOrigin()));
  }

  /**
   * Registers {@code handler} for batches requested by {@link #requestBatch} with a context of
   * class {@code contextType}; it gets the transaction IDs, the transactions and the context.
   */
  public static <C> void uponNewBatch(
      DslModule m,
      Class<C> contextType,
      ResponseHandler2<? super List<ByteString>, ? super List<Request>, ? super C> handler) {
    Objects.requireNonNull(handler, "handler");
    m.uponResponse(
        NewBatch.class,
        NewBatch::getOrigin,
        contextType,
        (r, c) -> handler.handle(r.getTxIdsList(), r.getTxsList(), c));
  }

  // ---- RequestTransactions / TransactionsResponse ----

  /**
   * Asks the mempool {@code mempool} for transactions by ID; see {@link #uponTransactionsResponse}.
   */
  public static void requestTransactions(
      DslModule m, ModuleId mempool, List<ByteString> txIds, Object context) {
    m.emit(MempoolEvents.requestTransactions(mempool, txIds, m.origin(context)));
  }

  /** Registers {@code handler} for {@code RequestTransactions} events (transaction IDs, origin). */
  public static void uponRequestTransactions(
      DslModule m, RequestHandler<? super List<ByteString>> handler) {
    Objects.requireNonNull(handler, "handler");
    m.upon(RequestTransactions.class, r -> handler.handle(r.getTxIdsList(), r.getOrigin()));
  }

  /**
   * Registers {@code handler} for answers to {@link #requestTransactions} made with a context of
   * class {@code contextType}; it gets the presence flags, the transactions and the context.
   */
  public static <C> void uponTransactionsResponse(
      DslModule m,
      Class<C> contextType,
      ResponseHandler2<? super List<Boolean>, ? super List<Request>, ? super C> handler) {
    Objects.requireNonNull(handler, "handler");
    m.uponResponse(
        TransactionsResponse.class,
        TransactionsResponse::getOrigin,
        contextType,
        (r, c) -> handler.handle(r.getPresentList(), r.getTxsList(), c));
  }

  // ---- RequestTransactionIDs / TransactionIDsResponse ----

  /**
   * Asks the mempool {@code mempool} for the IDs of {@code txs}; see {@link
   * #uponTransactionIdsResponse}.
   */
  public static void requestTransactionIds(
      DslModule m, ModuleId mempool, List<Request> txs, Object context) {
    m.emit(MempoolEvents.requestTransactionIds(mempool, txs, m.origin(context)));
  }

  /** Registers {@code handler} for {@code RequestTransactionIDs} events (transactions, origin). */
  public static void uponRequestTransactionIds(
      DslModule m, RequestHandler<? super List<Request>> handler) {
    Objects.requireNonNull(handler, "handler");
    m.upon(RequestTransactionIDs.class, r -> handler.handle(r.getTxsList(), r.getOrigin()));
  }

  /**
   * Registers {@code handler} for answers to {@link #requestTransactionIds} made with a context of
   * class {@code contextType}; it gets the transaction IDs and the context.
   */
  public static <C> void uponTransactionIdsResponse(
      DslModule m,
      Class<C> contextType,
      DslModule.ResponseHandler<? super List<ByteString>, ? super C> handler) {
    Objects.requireNonNull(handler, "handler");
    m.uponResponse(
        TransactionIDsResponse.class,
        TransactionIDsResponse::getOrigin,
        contextType,
        (r, c) -> handler.handle(r.getTxIdsList(), c));
  }

  // ---- RequestBatchID / BatchIDResponse ----

  /**
   * Asks the mempool {@code mempool} for the ID of the batch of the transactions with IDs {@code
   * txIds}; see {@link #uponBatchIdResponse}.
   */
  public static void requestBatchId(
      DslModule m, ModuleId mempool, List<ByteString> txIds, Object context) {
    m.emit(MempoolEvents.requestBatchId(mempool, txIds, m.origin(context)));
  }

  /** Registers {@code handler} for {@code RequestBatchID} events (transaction IDs, origin). */
  public static void uponRequestBatchId(
      DslModule m, RequestHandler<? super List<ByteString>> handler) {
    Objects.requireNonNull(handler, "handler");
    m.upon(RequestBatchID.class, r -> handler.handle(r.getTxIdsList(), r.getOrigin()));
  }

  /**
   * Registers {@code handler} for answers to {@link #requestBatchId} made with a context of class
   * {@code contextType}; it gets the batch ID and the context.
   */
  public static <C> void uponBatchIdResponse(
      DslModule m,
      Class<C> contextType,
      DslModule.ResponseHandler<? super ByteString, ? super C> handler) {
    Objects.requireNonNull(handler, "handler");
    m.uponResponse(
        BatchIDResponse.class,
        BatchIDResponse::getOrigin,
        contextType,
        (r, c) -> handler.handle(r.getBatchId(), c));
  }
}
