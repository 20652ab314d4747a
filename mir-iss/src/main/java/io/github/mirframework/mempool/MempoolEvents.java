package io.github.mirframework.mempool;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.crypto.CryptoEvents;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.pb.Origin;
import io.github.mirframework.mempool.pb.BatchIDResponse;
import io.github.mirframework.mempool.pb.BatchTimeout;
import io.github.mirframework.mempool.pb.NewBatch;
import io.github.mirframework.mempool.pb.NewEpoch;
import io.github.mirframework.mempool.pb.RequestBatch;
import io.github.mirframework.mempool.pb.RequestBatchID;
import io.github.mirframework.mempool.pb.RequestTransactionIDs;
import io.github.mirframework.mempool.pb.RequestTransactions;
import io.github.mirframework.mempool.pb.TransactionIDsResponse;
import io.github.mirframework.mempool.pb.TransactionsResponse;
import io.github.mirframework.types.ModuleId;
import java.util.List;

/**
 * Factories for the events of a mempool (Mir's {@code mempool/events}).
 *
 * <p>A request is addressed to the mempool and carries an {@link Origin} naming the module that
 * receives the response; a response is addressed to the origin's module and carries the origin back
 * unchanged. Stateless.
 */
public final class MempoolEvents {
  private MempoolEvents() {}

  /** Asks the mempool {@code mempool} for a new batch of transactions. */
  public static Event requestBatch(ModuleId mempool, Origin origin) {
    return Event.of(mempool, RequestBatch.newBuilder().setOrigin(origin).build());
  }

  /**
   * Asks the mempool {@code mempool} for a new batch of transactions for epoch {@code epoch}: the
   * mempool serves it once it has entered that epoch.
   */
  public static Event requestBatch(ModuleId mempool, Origin origin, long epoch) {
    return Event.of(mempool, RequestBatch.newBuilder().setOrigin(origin).setEpoch(epoch).build());
  }

  /**
   * Tells the mempool {@code mempool} that epoch {@code epoch} starts, with the requests delivered
   * before it: it drops those and offers every other held request again.
   */
  public static Event newEpoch(
      ModuleId mempool,
      long epoch,
      io.github.mirframework.checkpoint.pb.ClientProgress clientProgress) {
    return Event.of(
        mempool, NewEpoch.newBuilder().setEpochNr(epoch).setClientProgress(clientProgress).build());
  }

  /**
   * The answer to a {@code RequestBatch}: the transactions {@code txs} and their IDs {@code txIds}
   * (same order), addressed to the origin's module.
   *
   * @throws IllegalArgumentException if the lists differ in length or the origin names no module
   */
  public static Event newBatch(Origin origin, List<ByteString> txIds, List<Request> txs) {
    checkSameSize(txIds, txs, "transaction IDs", "transactions");
    return Event.of(
        CryptoEvents.originModule(origin),
        NewBatch.newBuilder().addAllTxIds(txIds).addAllTxs(txs).setOrigin(origin).build());
  }

  /** Asks the mempool {@code mempool} for the transactions with IDs {@code txIds}. */
  public static Event requestTransactions(ModuleId mempool, List<ByteString> txIds, Origin origin) {
    return Event.of(
        mempool, RequestTransactions.newBuilder().addAllTxIds(txIds).setOrigin(origin).build());
  }

  /**
   * The answer to a {@code RequestTransactions}: for each requested ID, whether the mempool knows
   * the transaction and the transaction (an empty {@code Request} where it does not), addressed to
   * the origin's module.
   *
   * @throws IllegalArgumentException if the lists differ in length or the origin names no module
   */
  public static Event transactionsResponse(
      Origin origin, List<Boolean> present, List<Request> txs) {
    checkSameSize(present, txs, "presence flags", "transactions");
    return Event.of(
        CryptoEvents.originModule(origin),
        TransactionsResponse.newBuilder()
            .addAllPresent(present)
            .addAllTxs(txs)
            .setOrigin(origin)
            .build());
  }

  /** Asks the mempool {@code mempool} to compute the IDs of {@code txs}. */
  public static Event requestTransactionIds(ModuleId mempool, List<Request> txs, Origin origin) {
    return Event.of(
        mempool, RequestTransactionIDs.newBuilder().addAllTxs(txs).setOrigin(origin).build());
  }

  /** The answer to a {@code RequestTransactionIDs}, addressed to the origin's module. */
  public static Event transactionIdsResponse(Origin origin, List<ByteString> txIds) {
    return Event.of(
        CryptoEvents.originModule(origin),
        TransactionIDsResponse.newBuilder().addAllTxIds(txIds).setOrigin(origin).build());
  }

  /**
   * Asks the mempool {@code mempool} to compute the ID of the batch of the transactions with IDs
   * {@code txIds}, in this order.
   */
  public static Event requestBatchId(ModuleId mempool, List<ByteString> txIds, Origin origin) {
    return Event.of(
        mempool, RequestBatchID.newBuilder().addAllTxIds(txIds).setOrigin(origin).build());
  }

  /** The answer to a {@code RequestBatchID}, addressed to the origin's module. */
  public static Event batchIdResponse(Origin origin, ByteString batchId) {
    return Event.of(
        CryptoEvents.originModule(origin),
        BatchIDResponse.newBuilder().setBatchId(batchId).setOrigin(origin).build());
  }

  /**
   * Prototypes of all event payload types of the mempool, for registration with a {@code
   * PayloadRegistry} so that recorded or logged events of these types can be decoded.
   */
  public static List<Message> payloadTypes() {
    return List.of(
        RequestBatch.getDefaultInstance(),
        NewBatch.getDefaultInstance(),
        RequestTransactions.getDefaultInstance(),
        TransactionsResponse.getDefaultInstance(),
        RequestTransactionIDs.getDefaultInstance(),
        TransactionIDsResponse.getDefaultInstance(),
        RequestBatchID.getDefaultInstance(),
        BatchIDResponse.getDefaultInstance(),
        NewEpoch.getDefaultInstance(),
        BatchTimeout.getDefaultInstance());
  }

  static void checkSameSize(List<?> a, List<?> b, String aName, String bName) {
    if (a.size() != b.size()) {
      throw new IllegalArgumentException(a.size() + " " + aName + " but " + b.size() + " " + bName);
    }
  }
}
