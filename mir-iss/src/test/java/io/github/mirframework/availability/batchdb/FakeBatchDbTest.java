package io.github.mirframework.availability.batchdb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.github.mirframework.availability.batchdb.pb.BatchStored;
import io.github.mirframework.availability.batchdb.pb.LookupBatchResponse;
import io.github.mirframework.client.ClientEvents;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.crypto.CryptoEvents;
import io.github.mirframework.dsl.DslModule;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.pb.Origin;
import io.github.mirframework.types.ClientId;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.RetentionIndex;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The in-memory batch database: events in, events out. */
class FakeBatchDbTest {
  static final ModuleId DB = FakeBatchDb.DEFAULT_ID;
  static final ModuleId REQUESTER = ModuleId.of("availability/0");
  static final Origin ORIGIN = CryptoEvents.contextStoreOrigin(REQUESTER, 3);
  static final ByteString B1 = ByteString.copyFromUtf8("batch one");
  static final ByteString B2 = ByteString.copyFromUtf8("batch two");
  static final ByteString META = ByteString.copyFromUtf8("meta");

  static Request tx(int i) {
    return ClientEvents.request(ClientId.of("c"), i, ByteString.copyFromUtf8("tx " + i));
  }

  static ByteString id(int i) {
    return ByteString.copyFromUtf8("id " + i);
  }

  static Event store(ByteString batchId, ByteString metadata, int... txs) {
    List<ByteString> ids = new ArrayList<>();
    List<Request> reqs = new ArrayList<>();
    for (int i : txs) {
      ids.add(id(i));
      reqs.add(tx(i));
    }
    return BatchDbEvents.storeBatch(DB, batchId, ids, reqs, metadata, ORIGIN);
  }

  static LookupBatchResponse lookup(FakeBatchDb db, ByteString batchId) throws Exception {
    EventList out = db.applyEvents(EventList.of(BatchDbEvents.lookupBatch(DB, batchId, ORIGIN)));
    assertThat(out.size()).isEqualTo(1);
    assertThat(out.get(0).destination()).isEqualTo(REQUESTER);
    LookupBatchResponse r = out.get(0).payload(LookupBatchResponse.class);
    assertThat(r.getOrigin()).isEqualTo(ORIGIN);
    return r;
  }

  @Test
  void storeAnswersBatchStoredToTheOriginAndLookupReturnsTheBatch() throws Exception {
    FakeBatchDb db = new FakeBatchDb();
    EventList out = db.applyEvents(EventList.of(store(B1, META, 0, 1, 2)));
    assertThat(out).isEqualTo(EventList.of(BatchDbEvents.batchStored(ORIGIN)));
    assertThat(out.get(0).payload(BatchStored.class).getOrigin()).isEqualTo(ORIGIN);

    LookupBatchResponse r = lookup(db, B1);
    assertThat(r.getFound()).isTrue();
    assertThat(r.getTxsList()).containsExactly(tx(0), tx(1), tx(2));
    assertThat(r.getMetadata()).isEqualTo(META);
    assertThat(db.contains(B1)).isTrue();
    assertThat(db.batchCount()).isEqualTo(1);
    assertThat(db.transactionCount()).isEqualTo(3);
  }

  @Test
  void lookupOfAnUnknownBatchIsNotFound() throws Exception {
    FakeBatchDb db = new FakeBatchDb();
    db.applyEvents(EventList.of(store(B1, META, 0)));
    LookupBatchResponse r = lookup(db, B2);
    assertThat(r.getFound()).isFalse();
    assertThat(r.getTxsCount()).isZero();
    assertThat(r.getMetadata()).isEmpty();
  }

  @Test
  void batchesMayShareTransactionsAndTheEmptyBatchIsStoredToo() throws Exception {
    FakeBatchDb db = new FakeBatchDb();
    db.applyEvents(EventList.of(store(B1, ByteString.EMPTY, 0, 1), store(B2, META, 1, 2)));
    assertThat(lookup(db, B1).getTxsList()).containsExactly(tx(0), tx(1));
    assertThat(lookup(db, B2).getTxsList()).containsExactly(tx(1), tx(2));
    assertThat(db.transactionCount()).isEqualTo(3);

    ByteString empty = ByteString.copyFromUtf8("empty");
    db.applyEvents(EventList.of(store(empty, ByteString.EMPTY)));
    LookupBatchResponse r = lookup(db, empty);
    assertThat(r.getFound()).isTrue();
    assertThat(r.getTxsCount()).isZero();
  }

  @Test
  void storingABatchAgainKeepsTheFirstCopy() throws Exception {
    // A batch ID is the hash of its transactions: a second store of the same ID is the same batch
    // (Mir's later versions keep the first copy too).
    FakeBatchDb db = new FakeBatchDb();
    db.applyEvents(EventList.of(store(B1, META, 0), store(B1, ByteString.EMPTY, 5, 6)));
    LookupBatchResponse r = lookup(db, B1);
    assertThat(r.getTxsList()).containsExactly(tx(0));
    assertThat(r.getMetadata()).isEqualTo(META);
    assertThat(db.batchCount()).isEqualTo(1);
    assertThat(db.transactionCount()).isEqualTo(1);
  }

  @Test
  void aStoreWithMoreIdsThanTransactionsIsAnErrorOfTheCaller() {
    FakeBatchDb db = new FakeBatchDb();
    Event bad =
        Event.of(
            DB,
            io.github.mirframework.availability.batchdb.pb.StoreBatch.newBuilder()
                .setBatchId(B1)
                .addTxIds(id(0))
                .addTxIds(id(1))
                .addTxs(tx(0))
                .setOrigin(ORIGIN)
                .build());
    assertThatThrownBy(() -> db.applyEvents(EventList.of(bad)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("2 transaction IDs but 1");
    assertThatThrownBy(
            () -> BatchDbEvents.storeBatch(DB, B1, List.of(id(0)), List.of(), META, ORIGIN))
        .isInstanceOf(IllegalArgumentException.class);
  }

  /** The DSL helpers, as the multisig collector uses them: typed contexts, one per request. */
  @Test
  void dslHelpersRouteResponsesByContextType() throws Exception {
    record StoreCtx(String tag) {}
    record LookupCtx(String tag) {}
    DslModule requester = new DslModule(REQUESTER);
    List<String> seen = new ArrayList<>();
    BatchDbDsl.uponBatchStored(requester, StoreCtx.class, c -> seen.add("stored " + c.tag()));
    BatchDbDsl.uponLookupBatchResponse(
        requester,
        LookupCtx.class,
        (found, txs, meta, c) -> seen.add("lookup " + c.tag() + " " + found + " " + txs.size()));
    FakeBatchDb db = new FakeBatchDb();

    requester.applyEvents(EventList.empty());
    BatchDbDsl.storeBatch(
        requester, DB, B1, List.of(id(0)), List.of(tx(0)), META, new StoreCtx("a"));
    BatchDbDsl.lookupBatch(requester, DB, B1, new LookupCtx("b"));
    BatchDbDsl.lookupBatch(requester, DB, B2, new LookupCtx("c"));
    EventList requests = requester.applyEvents(EventList.empty());
    assertThat(requests.size()).isEqualTo(3);
    EventList responses = EventList.empty();
    for (Event e : requests) {
      responses.addAll(db.applyEvents(EventList.of(e)));
    }
    requester.applyEvents(responses);
    assertThat(seen).containsExactly("stored a", "lookup b true 1", "lookup c false 0");
    assertThat(requester.storedContexts()).isZero();
  }

  static Event storeAt(long retentionIndex, ByteString batchId, int... txs) {
    List<ByteString> ids = new ArrayList<>();
    List<Request> reqs = new ArrayList<>();
    for (int i : txs) {
      ids.add(id(i));
      reqs.add(tx(i));
    }
    return BatchDbEvents.storeBatch(
        DB, batchId, ids, reqs, ByteString.EMPTY, RetentionIndex.of(retentionIndex), ORIGIN);
  }

  static Event gc(long retentionIndex) {
    return BatchDbEvents.garbageCollect(DB, RetentionIndex.of(retentionIndex));
  }

  @Test
  void batchesAreDeletedWhenTheirRetentionIndexIsCollected() throws Exception {
    FakeBatchDb db = new FakeBatchDb();
    ByteString b3 = ByteString.copyFromUtf8("batch three");
    db.applyEvents(EventList.of(storeAt(1, B1, 0, 1), storeAt(2, B2, 1, 2), storeAt(3, b3, 3)));
    long bytes = db.storedBytes();
    assertThat(db.transactionCount()).isEqualTo(4);
    db.applyEvents(EventList.of(gc(2)));
    assertThat(db.contains(B1)).isFalse();
    assertThat(lookup(db, B1).getFound()).isFalse();
    // Transaction 1 is shared with batch two and stays; transaction 0 goes.
    assertThat(lookup(db, B2).getTxsList()).containsExactly(tx(1), tx(2));
    assertThat(db.transactionCount()).isEqualTo(3);
    assertThat(db.storedBytes()).isEqualTo(bytes - tx(0).getSerializedSize());
    db.applyEvents(EventList.of(gc(1))); // never goes back
    assertThat(db.collectedBelow()).isEqualTo(2);
    db.applyEvents(EventList.of(gc(4)));
    assertThat(db.batchCount()).isZero();
    assertThat(db.transactionCount()).isZero();
    assertThat(db.storedBytes()).isZero();
  }

  @Test
  void aBatchStoredUnderSeveralIndexesIsKeptForTheHighest() throws Exception {
    FakeBatchDb db = new FakeBatchDb();
    db.applyEvents(EventList.of(storeAt(1, B1, 0), storeAt(3, B1, 0), storeAt(2, B1, 0)));
    db.applyEvents(EventList.of(gc(3)));
    assertThat(lookup(db, B1).getTxsList()).containsExactly(tx(0));
    db.applyEvents(EventList.of(gc(4)));
    assertThat(db.batchCount()).isZero();
  }

  @Test
  void aStoreBelowTheCollectedIndexIsConfirmedButNotKeptAndUnindexedBatchesStay() throws Exception {
    FakeBatchDb db = new FakeBatchDb();
    db.applyEvents(EventList.of(store(B2, META, 7), gc(5)));
    EventList out = db.applyEvents(EventList.of(storeAt(4, B1, 0)));
    assertThat(out.get(0).payload(BatchStored.class).getOrigin()).isEqualTo(ORIGIN);
    assertThat(db.contains(B1)).isFalse();
    assertThat(db.contains(B2)).isTrue();
    db.applyEvents(EventList.of(gc(1_000_000)));
    assertThat(lookup(db, B2).getTxsList()).containsExactly(tx(7));
  }
}
