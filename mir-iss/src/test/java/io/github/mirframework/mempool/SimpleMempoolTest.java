package io.github.mirframework.mempool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.github.mirframework.client.ClientEvents;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.clientprogress.ClientProgress;
import io.github.mirframework.crypto.CryptoEvents;
import io.github.mirframework.crypto.HasherModule;
import io.github.mirframework.crypto.pb.HashRequest;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventCodec;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.pb.Origin;
import io.github.mirframework.event.pb.TimerDelay;
import io.github.mirframework.mempool.pb.BatchIDResponse;
import io.github.mirframework.mempool.pb.NewBatch;
import io.github.mirframework.mempool.pb.TransactionsResponse;
import io.github.mirframework.types.ClientId;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.ReqNo;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The simple mempool with a real hasher behind it: events in, events out; no threads. */
class SimpleMempoolTest {
  static final ModuleId MEMPOOL = SimpleMempool.DEFAULT_ID;
  static final ModuleId HASHER = HasherModule.DEFAULT_ID;
  static final ModuleId AVAILABILITY = ModuleId.of("availability/0");
  static final Origin ORIGIN = CryptoEvents.contextStoreOrigin(AVAILABILITY, 42);

  /** The mempool and a hasher; hash requests and the mempool's requests to itself are answered. */
  static final class Harness {
    final SimpleMempool mempool;
    final HasherModule hasher = new HasherModule();

    Harness(SimpleMempool.Params params) {
      mempool = new SimpleMempool(SimpleMempool.Config.defaults(), params);
    }

    Harness() {
      this(SimpleMempool.Params.defaults());
    }

    /**
     * Applies {@code in} to the mempool, then every event it addresses to itself or the hasher, one
     * batch each, in order; returns the events for other modules.
     */
    EventList apply(Event... in) throws Exception {
      EventList out = EventList.empty();
      Deque<Event> queue = new ArrayDeque<>(List.of(in));
      while (!queue.isEmpty()) {
        Event e = queue.removeFirst();
        EventList produced;
        if (e.destination().equals(MEMPOOL)) {
          produced = mempool.applyEvents(EventList.of(e));
        } else if (e.destination().equals(HASHER)) {
          produced = hasher.applyEvents(EventList.of(e));
        } else {
          out.add(e);
          continue;
        }
        produced.forEach(queue::addLast);
      }
      return out;
    }
  }

  static Request tx(String client, long reqNo, String data) {
    return ClientEvents.request(ClientId.of(client), reqNo, ByteString.copyFromUtf8(data));
  }

  static List<Request> txs(int n) {
    List<Request> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(tx("client", i, "Request " + i));
    }
    return out;
  }

  static ByteString sha256(byte[]... parts) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    for (byte[] p : parts) {
      md.update(p);
    }
    return ByteString.copyFrom(md.digest());
  }

  /** A transaction ID computed independently of the code under test (PORT-MAP Appendix C). */
  static ByteString txId(Request tx) throws Exception {
    byte[] reqNo = new byte[8];
    long v = tx.getReqNo();
    for (int i = 0; i < 8; i++) {
      reqNo[i] = (byte) (v >>> (8 * i));
    }
    return sha256(
        tx.getClientId().getBytes(StandardCharsets.UTF_8), reqNo, tx.getData().toByteArray());
  }

  static List<ByteString> txIds(List<Request> txs) throws Exception {
    List<ByteString> ids = new ArrayList<>();
    for (Request tx : txs) {
      ids.add(txId(tx));
    }
    return ids;
  }

  static Event newRequests(List<Request> txs) {
    return ClientEvents.newRequests(MEMPOOL, txs);
  }

  static NewBatch batch(Harness h) throws Exception {
    EventList out = h.apply(MempoolEvents.requestBatch(MEMPOOL, ORIGIN));
    assertThat(out.size()).isEqualTo(1);
    assertThat(out.get(0).destination()).isEqualTo(AVAILABILITY);
    NewBatch b = out.get(0).payload(NewBatch.class);
    assertThat(b.getOrigin()).isEqualTo(ORIGIN);
    return b;
  }

  // ---------------------------------------------------------------------------------------------
  // IDs

  @Test
  void transactionIdIsSha256OfClientIdLittleEndianReqNoAndData() throws Exception {
    Request tx = tx("c1", 0x0102030405060708L, "payload");
    assertThat(SimpleMempool.txIdData(tx))
        .containsExactly(
            ByteString.copyFromUtf8("c1"),
            ByteString.copyFrom(HexFormat.of().parseHex("0807060504030201")),
            ByteString.copyFromUtf8("payload"));
    EventList out =
        new Harness().apply(MempoolEvents.requestTransactionIds(MEMPOOL, List.of(tx), ORIGIN));
    assertThat(out)
        .isEqualTo(EventList.of(MempoolEvents.transactionIdsResponse(ORIGIN, List.of(txId(tx)))));
    // A fixed vector, so that a change of the layout cannot go unnoticed.
    assertThat(HexFormat.of().formatHex(txId(tx).toByteArray()))
        .isEqualTo(
            HexFormat.of()
                .formatHex(
                    sha256(HexFormat.of().parseHex("6331" + "0807060504030201" + "7061796c6f6164"))
                        .toByteArray()));
  }

  @Test
  void requestTransactionIdsHashesEveryTransactionInOneHashRequest() throws Exception {
    SimpleMempool mempool =
        new SimpleMempool(SimpleMempool.Config.defaults(), SimpleMempool.Params.defaults());
    List<Request> txs = txs(3);
    EventList out =
        mempool.applyEvents(
            EventList.of(MempoolEvents.requestTransactionIds(MEMPOOL, txs, ORIGIN)));
    assertThat(out.size()).isEqualTo(1);
    assertThat(out.get(0).destination()).isEqualTo(HASHER);
    HashRequest hr = out.get(0).payload(HashRequest.class);
    assertThat(hr.getDataCount()).isEqualTo(3);
    for (int i = 0; i < 3; i++) {
      // The chunks may be cut differently; their concatenation is what is hashed.
      assertThat(ByteString.copyFrom(hr.getData(i).getDataList()))
          .isEqualTo(ByteString.copyFrom(SimpleMempool.txIdData(txs.get(i))));
    }
    assertThat(hr.getOrigin().getModule()).isEqualTo(MEMPOOL.value());

    List<ByteString> ids = txIds(txs);
    EventList response =
        mempool.applyEvents(EventList.of(CryptoEvents.hashResult(hr.getOrigin(), ids)));
    assertThat(response).isEqualTo(EventList.of(MempoolEvents.transactionIdsResponse(ORIGIN, ids)));
  }

  @Test
  void batchIdIsSha256OfTheConcatenatedTransactionIds() throws Exception {
    List<ByteString> ids = txIds(txs(3));
    EventList out = new Harness().apply(MempoolEvents.requestBatchId(MEMPOOL, ids, ORIGIN));
    ByteString expected =
        sha256(ids.get(0).toByteArray(), ids.get(1).toByteArray(), ids.get(2).toByteArray());
    assertThat(out).isEqualTo(EventList.of(MempoolEvents.batchIdResponse(ORIGIN, expected)));
    assertThat(out.get(0).payload(BatchIDResponse.class).getBatchId().size()).isEqualTo(32);
  }

  @Test
  void theEmptyBatchHasTheHashOfTheEmptyString() throws Exception {
    EventList out = new Harness().apply(MempoolEvents.requestBatchId(MEMPOOL, List.of(), ORIGIN));
    assertThat(out.get(0).payload(BatchIDResponse.class).getBatchId())
        .isEqualTo(sha256(new byte[0]));
  }

  @Test
  void batchIdDependsOnTheOrderOfTransactions() throws Exception {
    List<ByteString> ids = txIds(txs(2));
    Harness h = new Harness();
    ByteString ab =
        h.apply(MempoolEvents.requestBatchId(MEMPOOL, ids, ORIGIN))
            .get(0)
            .payload(BatchIDResponse.class)
            .getBatchId();
    ByteString ba =
        h.apply(MempoolEvents.requestBatchId(MEMPOOL, List.of(ids.get(1), ids.get(0)), ORIGIN))
            .get(0)
            .payload(BatchIDResponse.class)
            .getBatchId();
    assertThat(ab).isNotEqualTo(ba);
  }

  @Test
  void responsesGoToTheOriginsModuleWithTheOriginUnchanged() throws Exception {
    Origin dsl = CryptoEvents.dslOrigin(ModuleId.of("iss"), 7);
    EventList out = new Harness().apply(MempoolEvents.requestBatchId(MEMPOOL, List.of(), dsl));
    assertThat(out.get(0).destination()).isEqualTo(ModuleId.of("iss"));
    assertThat(out.get(0).payload(BatchIDResponse.class).getOrigin()).isEqualTo(dsl);
  }

  // ---------------------------------------------------------------------------------------------
  // Batches

  @Test
  void theNewRequestsOfOneBatchOfEventsAreHashedWithOneHashRequest() throws Exception {
    SimpleMempool mempool =
        new SimpleMempool(SimpleMempool.Config.defaults(), SimpleMempool.Params.defaults());
    List<Request> txs = txs(3);
    EventList out =
        mempool.applyEvents(
            EventList.of(newRequests(txs.subList(0, 2)), newRequests(txs.subList(2, 3))));
    assertThat(out.size()).isEqualTo(1);
    assertThat(out.get(0).destination()).isEqualTo(HASHER);
    HashRequest hr = out.get(0).payload(HashRequest.class);
    assertThat(hr.getDataCount()).isEqualTo(3);
    for (int i = 0; i < 3; i++) {
      assertThat(ByteString.copyFrom(hr.getData(i).getDataList()))
          .isEqualTo(ByteString.copyFrom(SimpleMempool.txIdData(txs.get(i))));
    }
    assertThat(hr.getOrigin().getModule()).isEqualTo(MEMPOOL.value());
    assertThat(mempool.pendingTransactions()).isZero();
    // A batch of events without new requests hashes nothing.
    assertThat(mempool.applyEvents(EventList.empty()).isEmpty()).isTrue();
    // Only once the IDs are known are the transactions queued, with those IDs, in arrival order.
    EventList results = new HasherModule().applyEvents(out);
    assertThat(mempool.applyEvents(results).isEmpty()).isTrue();
    assertThat(mempool.pendingTransactions()).isEqualTo(3);
    assertThat(mempool.knownTransactions()).isEqualTo(3);
    NewBatch b =
        mempool
            .applyEvents(EventList.of(MempoolEvents.requestBatch(MEMPOOL, ORIGIN)))
            .get(0)
            .payload(NewBatch.class);
    assertThat(b.getTxsList()).isEqualTo(txs);
    assertThat(b.getTxIdsList()).isEqualTo(txIds(txs));
  }

  @Test
  void aHashResultWithTheWrongNumberOfDigestsFailsTheMempool() throws Exception {
    SimpleMempool mempool =
        new SimpleMempool(SimpleMempool.Config.defaults(), SimpleMempool.Params.defaults());
    EventList out = mempool.applyEvents(EventList.of(newRequests(txs(2))));
    Origin origin = out.get(0).payload(HashRequest.class).getOrigin();
    assertThatThrownBy(
            () -> mempool.applyEvents(EventList.of(CryptoEvents.hashResult(origin, txIds(txs(1))))))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("1 digests, expected 2");
  }

  @Test
  void batchesTakeTheOldestTransactionsUpToTheLimitThenAreEmpty() throws Exception {
    Harness h = new Harness(new SimpleMempool.Params(3));
    List<Request> txs = txs(7);
    assertThat(h.apply(newRequests(txs.subList(0, 4)), newRequests(txs.subList(4, 7))).isEmpty())
        .isTrue();
    assertThat(h.mempool.pendingTransactions()).isEqualTo(7);

    NewBatch b1 = batch(h);
    assertThat(b1.getTxsList()).isEqualTo(txs.subList(0, 3));
    assertThat(b1.getTxIdsList()).isEqualTo(txIds(txs.subList(0, 3)));
    assertThat(batch(h).getTxsList()).isEqualTo(txs.subList(3, 6));
    assertThat(batch(h).getTxsList()).isEqualTo(txs.subList(6, 7));
    NewBatch empty = batch(h);
    assertThat(empty.getTxsCount()).isZero();
    assertThat(empty.getTxIdsCount()).isZero();
    assertThat(h.mempool.pendingTransactions()).isZero();
  }

  @Test
  void defaultBatchHoldsTenTransactions() throws Exception {
    Harness h = new Harness();
    h.apply(newRequests(txs(25)));
    assertThat(batch(h).getTxsCount()).isEqualTo(10);
    assertThat(batch(h).getTxsCount()).isEqualTo(10);
    assertThat(batch(h).getTxsCount()).isEqualTo(5);
  }

  @Test
  void anEmptyMempoolCutsAnEmptyBatch() throws Exception {
    assertThat(batch(new Harness()).getTxsCount()).isZero();
  }

  @Test
  void anEmptyNewRequestsDoesNothing() throws Exception {
    SimpleMempool mempool =
        new SimpleMempool(SimpleMempool.Config.defaults(), SimpleMempool.Params.defaults());
    assertThat(mempool.applyEvents(EventList.of(newRequests(List.of()))).isEmpty()).isTrue();
  }

  @Test
  void aTransactionSubmittedTwiceIsHeldAndBatchedOnce() throws Exception {
    // Mir batched it twice; a resubmission now only costs its hashing.
    Harness h = new Harness();
    Request tx = tx("c", 0, "same");
    Request sameNumber = tx("c", 0, "other data");
    h.apply(newRequests(List.of(tx)), newRequests(List.of(tx, sameNumber)));
    assertThat(h.mempool.knownTransactions()).isEqualTo(1);
    assertThat(h.mempool.stats().droppedDuplicate()).isEqualTo(2);
    assertThat(batch(h).getTxsList()).containsExactly(tx);
  }

  // ---------------------------------------------------------------------------------------------
  // Lookup

  @Test
  void requestTransactionsReportsWhichAreKnown() throws Exception {
    Harness h = new Harness();
    List<Request> txs = txs(2);
    h.apply(newRequests(txs));
    batch(h); // batched transactions stay available for lookup
    ByteString unknown = txId(tx("other", 0, "x"));
    EventList out =
        h.apply(
            MempoolEvents.requestTransactions(
                MEMPOOL, List.of(txId(txs.get(1)), unknown, txId(txs.get(0))), ORIGIN));
    TransactionsResponse r = out.get(0).payload(TransactionsResponse.class);
    assertThat(out.get(0).destination()).isEqualTo(AVAILABILITY);
    assertThat(r.getPresentList()).containsExactly(true, false, true);
    assertThat(r.getTxsList())
        .containsExactly(txs.get(1), Request.getDefaultInstance(), txs.get(0));
    assertThat(r.getOrigin()).isEqualTo(ORIGIN);
  }

  // ---------------------------------------------------------------------------------------------
  // Configuration and errors

  @Test
  void paramsAreValidatedAndDefaultToMirs() {
    assertThat(SimpleMempool.Params.defaults().maxTransactionsInBatch()).isEqualTo(10);
    assertThat(SimpleMempool.Params.defaults().withMaxTransactionsInBatch(1024))
        .isEqualTo(new SimpleMempool.Params(1024));
    assertThatThrownBy(() -> new SimpleMempool.Params(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("0");
    assertThatThrownBy(() -> new SimpleMempool.Params(-1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(SimpleMempool.Config.defaults())
        .isEqualTo(new SimpleMempool.Config(ModuleId.of("mempool"), ModuleId.of("hasher")));
  }

  @Test
  void aRequestWithoutAnOriginModuleIsAnError() {
    Harness h = new Harness();
    assertThatThrownBy(
            () -> h.apply(MempoolEvents.requestBatch(MEMPOOL, Origin.getDefaultInstance())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("origin");
  }

  @Test
  void anUnexpectedEventTypeIsAnError() {
    Harness h = new Harness();
    assertThatThrownBy(() -> h.apply(Events.testingString(MEMPOOL, "?")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("TestingString");
  }

  @Test
  void eventFactoriesRejectListsOfDifferentLengths() {
    assertThatThrownBy(() -> MempoolEvents.newBatch(ORIGIN, List.of(ByteString.EMPTY), List.of()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> MempoolEvents.transactionsResponse(ORIGIN, List.of(true), List.of()))
        .isInstanceOf(IllegalArgumentException.class);
  }

  // ---------------------------------------------------------------------------------------------
  // Offering again until delivered; bounds

  static NewBatch batchFor(Harness h, long epoch) throws Exception {
    EventList out = h.apply(MempoolEvents.requestBatch(MEMPOOL, ORIGIN, epoch));
    assertThat(out.size()).isEqualTo(1);
    return out.get(0).payload(NewBatch.class);
  }

  static Event newEpoch(long epoch, ClientProgress progress) {
    return MempoolEvents.newEpoch(MEMPOOL, epoch, progress.toProto());
  }

  static ClientProgress delivered(String client, long... reqNos) {
    ClientProgress p = new ClientProgress();
    for (long r : reqNos) {
      p.add(ClientId.of(client), ReqNo.of(r));
    }
    p.garbageCollect();
    return p;
  }

  @Test
  void aTransactionNotDeliveredIsOfferedAgainInTheNextEpochUntilDelivered() throws Exception {
    Harness h = new Harness();
    h.apply(newEpoch(0, new ClientProgress()));
    List<Request> txs = txs(3);
    h.apply(newRequests(txs));
    assertThat(batchFor(h, 0).getTxsList()).containsExactlyElementsOf(txs);
    // Offered once per epoch: nothing more in epoch 0.
    assertThat(batchFor(h, 0).getTxsCount()).isZero();
    // Epoch 1: request 0 was delivered; 1 and 2 (their batch was aborted) come again, in order.
    h.apply(newEpoch(1, delivered("client", 0)));
    assertThat(h.mempool.knownTransactions()).isEqualTo(2);
    assertThat(h.mempool.stats().removedDelivered()).isEqualTo(1);
    assertThat(batchFor(h, 1).getTxsList()).containsExactly(txs.get(1), txs.get(2));
    assertThat(h.mempool.stats().reoffered()).isEqualTo(2);
    // Epoch 2: nothing delivered again (e.g. the segment ended empty): offered a third time.
    h.apply(newEpoch(2, delivered("client", 0)));
    assertThat(batchFor(h, 2).getTxsList()).containsExactly(txs.get(1), txs.get(2));
    // Epoch 3: all delivered; the mempool holds nothing and offers nothing.
    h.apply(newEpoch(3, delivered("client", 0, 1, 2)));
    assertThat(h.mempool.stats().held()).isZero();
    assertThat(h.mempool.stats().heldBytes()).isZero();
    assertThat(batchFor(h, 3).getTxsCount()).isZero();
  }

  @Test
  void aBatchRequestOfALaterEpochWaitsForThatEpoch() throws Exception {
    Harness h = new Harness();
    h.apply(newEpoch(0, new ClientProgress()));
    List<Request> txs = txs(2);
    h.apply(newRequests(txs));
    assertThat(batchFor(h, 0).getTxsList()).containsExactlyElementsOf(txs);
    // The requester is in epoch 1 already, the mempool not: the request waits.
    assertThat(h.apply(MempoolEvents.requestBatch(MEMPOOL, ORIGIN, 1)).isEmpty()).isTrue();
    EventList out = h.apply(newEpoch(1, delivered("client", 1)));
    assertThat(out.size()).isEqualTo(1);
    NewBatch b = out.get(0).payload(NewBatch.class);
    assertThat(b.getOrigin()).isEqualTo(ORIGIN);
    assertThat(b.getTxsList()).containsExactly(txs.get(0));
  }

  @Test
  void aBatchRequestOfAnEarlierEpochGetsAnEmptyBatch() throws Exception {
    Harness h = new Harness();
    h.apply(newEpoch(3, new ClientProgress()));
    h.apply(newRequests(txs(2)));
    assertThat(batchFor(h, 2).getTxsCount()).isZero();
    assertThat(h.mempool.pendingTransactions()).isEqualTo(2);
    // Requests waiting for an epoch that a restored checkpoint skipped get empty batches too.
    assertThat(h.apply(MempoolEvents.requestBatch(MEMPOOL, ORIGIN, 5)).isEmpty()).isTrue();
    EventList out = h.apply(newEpoch(7, new ClientProgress()));
    assertThat(out.size()).isEqualTo(1);
    assertThat(out.get(0).payload(NewBatch.class).getTxsCount()).isZero();
  }

  @Test
  void deliveredAndOutOfWindowTransactionsAreRefusedAndCounted() throws Exception {
    Harness h = new Harness(SimpleMempool.Params.defaults().withClientWindow(10));
    h.apply(newEpoch(0, delivered("client", 0, 1, 2, 5)));
    h.apply(
        newRequests(
            List.of(
                tx("client", 1, "old"),
                tx("client", 5, "delivered above the watermark"),
                tx("client", 3, "fine"),
                tx("client", 12, "last in window"),
                tx("client", 13, "beyond the window"))));
    SimpleMempool.Stats st = h.mempool.stats();
    assertThat(st.droppedDelivered()).isEqualTo(2);
    assertThat(st.droppedOutOfWindow()).isEqualTo(1);
    assertThat(st.held()).isEqualTo(2);
    assertThat(st.dropped()).isEqualTo(3);
    assertThat(batchFor(h, 0).getTxsList())
        .containsExactly(tx("client", 3, "fine"), tx("client", 12, "last in window"));
  }

  @Test
  void byteLimitsPerClientAndInTotalRefuseAndCount() throws Exception {
    Request one = tx("a", 0, "x".repeat(100));
    long size = one.getSerializedSize() + SimpleMempool.TX_OVERHEAD_BYTES;
    Harness h =
        new Harness(
            SimpleMempool.Params.defaults()
                .withMaxBytesPerClient(2 * size + 5)
                .withMaxTotalBytes(3 * size + 5));
    List<Request> fromA = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      fromA.add(tx("a", i, "x".repeat(100)));
    }
    h.apply(newRequests(fromA));
    assertThat(h.mempool.stats().held()).isEqualTo(2);
    assertThat(h.mempool.stats().droppedClientFull()).isEqualTo(2);
    h.apply(newRequests(List.of(tx("b", 0, "x".repeat(100)), tx("c", 0, "x".repeat(100)))));
    assertThat(h.mempool.stats().held()).isEqualTo(3);
    assertThat(h.mempool.stats().droppedMempoolFull()).isEqualTo(1);
    long a1 = fromA.get(1).getSerializedSize() + SimpleMempool.TX_OVERHEAD_BYTES;
    assertThat(h.mempool.stats().heldBytes()).isEqualTo(2 * size + a1);
    // Delivery frees the room.
    h.apply(newEpoch(1, delivered("a", 0, 1)));
    assertThat(h.mempool.stats().heldBytes()).isEqualTo(size);
    h.apply(newRequests(List.of(tx("c", 0, "x".repeat(100)))));
    assertThat(h.mempool.stats().held()).isEqualTo(2);
  }

  @Test
  void batchesRespectTheByteLimitAndOversizedTransactionsAreRefused() throws Exception {
    Request small = tx("a", 0, "x".repeat(40));
    int limit = 3 * small.getSerializedSize(); // two fit, not three (numbers above 0 cost bytes)
    Harness h = new Harness(SimpleMempool.Params.defaults().withMaxBatchBytes(limit));
    h.apply(
        newRequests(
            List.of(
                small,
                tx("a", 1, "x".repeat(40)),
                tx("a", 2, "x".repeat(40)),
                tx("b", 0, "y".repeat(limit)))));
    assertThat(h.mempool.stats().droppedTooLarge()).isEqualTo(1);
    assertThat(batch(h).getTxsCount()).isEqualTo(2);
    assertThat(batch(h).getTxsCount()).isEqualTo(1);
  }

  @Test
  void memoryIsReleasedOnceEverythingIsDelivered() throws Exception {
    Harness h = new Harness(SimpleMempool.Params.defaults().withMaxTransactionsInBatch(1000));
    ClientProgress progress = new ClientProgress();
    for (int epoch = 0; epoch < 20; epoch++) {
      h.apply(newEpoch(epoch, progress));
      List<Request> txs = new ArrayList<>();
      for (int i = 0; i < 500; i++) {
        txs.add(tx("client-" + (i % 7), epoch * 500L + i, "data " + i));
      }
      h.apply(newRequests(txs));
      // Half of each batch is delivered; the rest is offered again next epoch.
      List<Request> offered = batchFor(h, epoch).getTxsList();
      for (int i = 0; i < offered.size(); i += 2) {
        progress.add(
            ClientId.of(offered.get(i).getClientId()), ReqNo.of(offered.get(i).getReqNo()));
      }
      progress.garbageCollect();
    }
    assertThat(h.mempool.knownTransactions()).isPositive();
    for (int epoch = 20; h.mempool.knownTransactions() > 0; epoch++) {
      assertThat(epoch).isLessThan(40);
      h.apply(newEpoch(epoch, progress));
      for (Request r : batchFor(h, epoch).getTxsList()) {
        progress.add(ClientId.of(r.getClientId()), ReqNo.of(r.getReqNo()));
      }
      progress.garbageCollect();
    }
    assertThat(h.mempool.stats().heldBytes()).isZero();
    assertThat(h.mempool.stats().removedDelivered()).isEqualTo(20 * 500);
    assertThat(h.mempool.pendingTransactions()).isZero();
  }

  @Test
  void withoutAnEpochEveryRequestIsServedAtOnceAndTransactionsAreHandedOutOnce() throws Exception {
    // Setups without a batch fetcher (Mir's original behaviour).
    Harness h = new Harness();
    List<Request> txs = txs(2);
    h.apply(newRequests(txs));
    assertThat(batchFor(h, 4).getTxsList()).containsExactlyElementsOf(txs);
    assertThat(batch(h).getTxsCount()).isZero();
    assertThat(h.mempool.epoch()).isEqualTo(-1);
  }

  @Test
  void paramsValidateTheLimits() {
    SimpleMempool.Params d = SimpleMempool.Params.defaults();
    assertThatThrownBy(() -> d.withMaxBatchBytes(0)).hasMessageContaining("maxBatchBytes");
    assertThatThrownBy(() -> d.withMaxBytesPerClient(0)).hasMessageContaining("maxBytesPerClient");
    assertThatThrownBy(() -> d.withMaxTotalBytes(d.maxBytesPerClient() - 1))
        .hasMessageContaining("maxTotalBytes");
    assertThatThrownBy(() -> d.withClientWindow(0)).hasMessageContaining("clientWindow");
  }

  // ---------------------------------------------------------------------------------------------
  // Batch timeout

  static final Duration TIMEOUT = Duration.ofMillis(50);

  /** The single timer request in {@code out}, checked to be the mempool's batch timeout. */
  static TimerDelay batchTimer(EventList out) {
    assertThat(out.size()).isEqualTo(1);
    assertThat(out.get(0).destination()).isEqualTo(SimpleMempool.DEFAULT_TIMER);
    TimerDelay t = out.get(0).payload(TimerDelay.class);
    assertThat(t.getDelayNs()).isEqualTo(TIMEOUT.toNanos());
    assertThat(t.getEventsCount()).isEqualTo(1);
    assertThat(t.getEvents(0).getDestination()).isEqualTo(MEMPOOL.value());
    return t;
  }

  /** What the mempool emits when the timer delivers the events of {@code t}. */
  static EventList fire(Harness h, TimerDelay t) throws Exception {
    EventList events = EventCodec.shared().fromRecords(t.getEventsList()).orElseThrow();
    return h.apply(events.toList().toArray(new Event[0]));
  }

  static Harness withTimeout() {
    return new Harness(SimpleMempool.Params.defaults().withBatchTimeout(TIMEOUT));
  }

  /** A mempool with a batch timeout, in epoch 0, that has offered {@code txs} once already. */
  static Harness withTimeoutAfterOffering(List<Request> txs) throws Exception {
    Harness h = withTimeout();
    h.apply(newEpoch(0, new ClientProgress()));
    h.apply(newRequests(txs));
    assertThat(batchFor(h, 0).getTxsList()).containsExactlyElementsOf(txs);
    return h;
  }

  /** The single event of {@code out}, a {@code NewBatch}. */
  static NewBatch onlyBatch(EventList out) {
    assertThat(out.size()).isEqualTo(1);
    return out.get(0).payload(NewBatch.class);
  }

  @Test
  void withABatchTimeoutARequestThatFindsNoTransactionIsServedWhenTheFirstArrives()
      throws Exception {
    Harness h = withTimeout();
    h.apply(newEpoch(0, new ClientProgress()));
    TimerDelay timer = batchTimer(h.apply(MempoolEvents.requestBatch(MEMPOOL, ORIGIN, 0)));
    assertThat(h.mempool.waitingBatchRequests()).isEqualTo(1);
    List<Request> txs = txs(3);
    NewBatch b = onlyBatch(h.apply(newRequests(txs)));
    assertThat(b.getOrigin()).isEqualTo(ORIGIN);
    assertThat(b.getTxsList()).containsExactlyElementsOf(txs);
    assertThat(b.getTxIdsList()).containsExactlyElementsOf(txIds(txs));
    assertThat(h.mempool.waitingBatchRequests()).isZero();
    // The timer of the served request fires later and changes nothing.
    assertThat(fire(h, timer).isEmpty()).isTrue();
    assertThat(h.mempool.pendingTransactions()).isZero();
  }

  @Test
  void withABatchTimeoutAnUnansweredRequestGetsAnEmptyBatchWhenTheTimerFires() throws Exception {
    Harness h = withTimeout();
    h.apply(newEpoch(0, new ClientProgress()));
    TimerDelay timer = batchTimer(h.apply(MempoolEvents.requestBatch(MEMPOOL, ORIGIN, 0)));
    NewBatch b = onlyBatch(fire(h, timer));
    assertThat(b.getOrigin()).isEqualTo(ORIGIN);
    assertThat(b.getTxsCount()).isZero();
    assertThat(h.mempool.waitingBatchRequests()).isZero();
    // A transaction arriving afterwards waits for the next request.
    assertThat(h.apply(newRequests(txs(1))).isEmpty()).isTrue();
    assertThat(h.mempool.pendingTransactions()).isEqualTo(1);
  }

  @Test
  void withABatchTimeoutARequestThatFindsTransactionsIsServedAtOnce() throws Exception {
    Harness h = withTimeoutAfterOffering(txs(2));
    // Transactions offered in this epoch do not count: the next request waits.
    batchTimer(h.apply(MempoolEvents.requestBatch(MEMPOOL, ORIGIN, 0)));
  }

  @Test
  void waitingRequestsAreServedOldestFirstOneBatchEach() throws Exception {
    Harness h = withTimeout();
    h.apply(newEpoch(0, new ClientProgress()));
    Origin second = CryptoEvents.contextStoreOrigin(AVAILABILITY, 43);
    batchTimer(h.apply(MempoolEvents.requestBatch(MEMPOOL, ORIGIN, 0)));
    batchTimer(h.apply(MempoolEvents.requestBatch(MEMPOOL, second, 0)));
    List<Request> first = txs(1);
    NewBatch b = onlyBatch(h.apply(newRequests(first)));
    assertThat(b.getOrigin()).isEqualTo(ORIGIN);
    assertThat(b.getTxsList()).isEqualTo(first);
    Request next = tx("other", 0, "next");
    b = onlyBatch(h.apply(newRequests(List.of(next))));
    assertThat(b.getOrigin()).isEqualTo(second);
    assertThat(b.getTxsList()).containsExactly(next);
  }

  @Test
  void aRequestWaitingWhenItsEpochEndsGetsAnEmptyBatchAndTheTransactionsStayForTheNewEpoch()
      throws Exception {
    List<Request> txs = txs(2);
    Harness h = withTimeoutAfterOffering(txs);
    TimerDelay timer = batchTimer(h.apply(MempoolEvents.requestBatch(MEMPOOL, ORIGIN, 0)));
    // Epoch 1 re-offers both (their batch was not delivered); the old request gets nothing.
    assertThat(onlyBatch(h.apply(newEpoch(1, new ClientProgress()))).getTxsCount()).isZero();
    assertThat(h.mempool.waitingBatchRequests()).isZero();
    assertThat(fire(h, timer).isEmpty()).isTrue();
    assertThat(batchFor(h, 1).getTxsList()).containsExactlyElementsOf(txs);
  }

  @Test
  void aWaitingRequestWithoutAnEpochIsServedByTransactionsOfferedAgainInANewEpoch()
      throws Exception {
    List<Request> txs = txs(1);
    Harness h = withTimeoutAfterOffering(txs);
    batchTimer(h.apply(MempoolEvents.requestBatch(MEMPOOL, ORIGIN)));
    assertThat(onlyBatch(h.apply(newEpoch(1, new ClientProgress()))).getTxsList())
        .containsExactlyElementsOf(txs);
  }

  @Test
  void theBatchTimeoutMustNotBeNegativeAndDefaultsToNone() {
    assertThat(SimpleMempool.Params.defaults().batchTimeout()).isZero();
    assertThatThrownBy(
            () -> SimpleMempool.Params.defaults().withBatchTimeout(Duration.ofMillis(-1)))
        .hasMessageContaining("batchTimeout");
    assertThat(SimpleMempool.Config.defaults().timer()).isEqualTo(ModuleId.of("timer"));
  }
}
