package io.github.mirframework.batchfetcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.github.mirframework.availability.AvailabilityEvents;
import io.github.mirframework.availability.pb.Cert;
import io.github.mirframework.availability.pb.RequestTransactions;
import io.github.mirframework.batchfetcher.pb.NewOrderedBatch;
import io.github.mirframework.checkpoint.CheckpointEvents;
import io.github.mirframework.checkpoint.pb.AppSnapshotRequest;
import io.github.mirframework.checkpoint.pb.ClientProgress;
import io.github.mirframework.checkpoint.pb.DeliveredReqs;
import io.github.mirframework.checkpoint.pb.EpochConfig;
import io.github.mirframework.checkpoint.pb.EpochData;
import io.github.mirframework.checkpoint.pb.StableCheckpoint;
import io.github.mirframework.checkpoint.pb.StateSnapshot;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.pb.Origin;
import io.github.mirframework.iss.IssEvents;
import io.github.mirframework.iss.pb.AppRestoreState;
import io.github.mirframework.iss.pb.NewEpoch;
import io.github.mirframework.types.EpochNr;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import io.github.mirframework.types.SeqNr;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BatchFetcherTest {
  private static final ModuleId BF = BatchFetcher.DEFAULT_ID;
  private static final ModuleId APP = ModuleId.of("app");

  private final BatchFetcher bf = new BatchFetcher(BatchFetcher.Config.defaults(), NodeId.of("0"));
  private long nextSn;

  private static Request tx(String client, long reqNo) {
    return Request.newBuilder()
        .setClientId(client)
        .setReqNo(reqNo)
        .setData(ByteString.copyFromUtf8(client + reqNo))
        .build();
  }

  private static Cert cert(String batch) {
    return AvailabilityEvents.mscCert(
        ByteString.copyFromUtf8(batch),
        List.of(NodeId.of("0"), NodeId.of("1")),
        List.of(ByteString.copyFromUtf8("s0"), ByteString.copyFromUtf8("s1")));
  }

  private EventList apply(Event... events) throws Exception {
    return bf.applyEvents(EventList.of(events));
  }

  private Event deliver(Cert cert) {
    return IssEvents.deliverCert(BF, SeqNr.of(nextSn++), cert);
  }

  /** Delivers a certificate and returns the origin of the resulting transaction request. */
  private Origin deliverAndCaptureRequest(Cert cert, String expectedAvailability) throws Exception {
    EventList out = apply(deliver(cert));
    assertThat(out.size()).isEqualTo(1);
    Event req = out.get(0);
    assertThat(req.destination()).isEqualTo(ModuleId.of(expectedAvailability));
    RequestTransactions rt = req.payload(RequestTransactions.class);
    assertThat(rt.getCert()).isEqualTo(cert);
    return rt.getOrigin();
  }

  private EventList provide(Origin origin, Request... txs) throws Exception {
    return apply(AvailabilityEvents.provideTransactions(origin, List.of(txs)));
  }

  private static List<Message> payloadsTo(EventList out, ModuleId dest) {
    List<Message> p = new ArrayList<>();
    for (Event e : out) {
      if (e.destination().equals(dest)) {
        p.add(e.payload());
      }
    }
    return p;
  }

  private static List<Request> batch(Message m) {
    return ((NewOrderedBatch) m).getTxsList();
  }

  @Test
  void anAbortedSequenceNumberBecomesAnEmptyBatchAtOnce() throws Exception {
    EventList out = apply(deliver(Cert.getDefaultInstance()));
    assertThat(payloadsTo(out, APP)).containsExactly(NewOrderedBatch.getDefaultInstance());
  }

  @Test
  void aCertificateIsFetchedFromTheEpochsAvailabilityModuleAndDelivered() throws Exception {
    Origin o = deliverAndCaptureRequest(cert("b1"), "availability/0");
    EventList out = provide(o, tx("alice", 0), tx("bob", 0));
    assertThat(payloadsTo(out, APP)).hasSize(1);
    assertThat(batch(payloadsTo(out, APP).get(0))).containsExactly(tx("alice", 0), tx("bob", 0));
  }

  @Test
  void batchesLeaveInIssOrderWhateverOrderTheirTransactionsArriveIn() throws Exception {
    Origin first = deliverAndCaptureRequest(cert("b1"), "availability/0");
    Origin second = deliverAndCaptureRequest(cert("b2"), "availability/0");
    EventList out = apply(deliver(Cert.getDefaultInstance()));
    assertThat(out.isEmpty()).isTrue();
    assertThat(provide(second, tx("bob", 0)).isEmpty()).isTrue();
    EventList all = provide(first, tx("alice", 0));
    List<Message> batches = payloadsTo(all, APP);
    assertThat(batches).hasSize(3);
    assertThat(batch(batches.get(0))).containsExactly(tx("alice", 0));
    assertThat(batch(batches.get(1))).containsExactly(tx("bob", 0));
    assertThat(batch(batches.get(2))).isEmpty();
    assertThat(bf.queued()).isZero();
  }

  @Test
  void aDuplicatedRequestIsKeptInTheEarliestBatchEvenIfTheLaterOneArrivesFirst() throws Exception {
    Origin first = deliverAndCaptureRequest(cert("b1"), "availability/0");
    Origin second = deliverAndCaptureRequest(cert("b2"), "availability/0");
    provide(second, tx("alice", 0), tx("bob", 1));
    List<Message> batches = payloadsTo(provide(first, tx("alice", 0)), APP);
    assertThat(batch(batches.get(0))).containsExactly(tx("alice", 0));
    assertThat(batch(batches.get(1))).containsExactly(tx("bob", 1));
    assertThat(bf.droppedDuplicates()).isEqualTo(1);
    // And a later delivery of the same request is dropped too.
    Origin third = deliverAndCaptureRequest(cert("b3"), "availability/0");
    assertThat(batch(payloadsTo(provide(third, tx("bob", 1)), APP).get(0))).isEmpty();
  }

  @Test
  void aTransactionWithAnInvalidClientIdIsLeftOut() throws Exception {
    Origin o = deliverAndCaptureRequest(cert("b1"), "availability/0");
    List<Message> batches = payloadsTo(provide(o, tx("", 0), tx("carol", 2)), APP);
    assertThat(batch(batches.get(0))).containsExactly(tx("carol", 2));
    assertThat(bf.droppedInvalid()).isEqualTo(1);
  }

  @Test
  void newEpochSwitchesTheAvailabilityModuleAndIsPassedOnInItsTurn() throws Exception {
    Origin pending = deliverAndCaptureRequest(cert("b1"), "availability/0");
    EventList out = apply(IssEvents.newEpoch(BF, EpochNr.of(1)));
    assertThat(out.isEmpty()).as("waits behind the pending batch").isTrue();
    Origin next = deliverAndCaptureRequest(cert("b2"), "availability/1");
    List<Message> passed = payloadsTo(provide(pending, tx("alice", 0)), APP);
    assertThat(passed).hasSize(2);
    assertThat(passed.get(1)).isEqualTo(NewEpoch.newBuilder().setEpochNr(1).build());
    assertThat(payloadsTo(provide(next, tx("bob", 0)), APP)).hasSize(1);
  }

  @Test
  void aSnapshotRequestSendsTheCollectedClientProgressToTheEpochsCheckpointInItsTurn()
      throws Exception {
    Origin o = deliverAndCaptureRequest(cert("b1"), "availability/0");
    apply(IssEvents.newEpoch(BF, EpochNr.of(1)));
    Event request = CheckpointEvents.appSnapshotRequest(BF, ModuleId.of("checkpoint/1"));
    assertThat(apply(request).isEmpty()).isTrue();
    EventList out = provide(o, tx("alice", 0), tx("alice", 1), tx("alice", 3));
    List<Event> toCheckpoint = new ArrayList<>();
    out.forEach(
        e -> {
          if (e.destination().equals(ModuleId.of("checkpoint/1"))) {
            toCheckpoint.add(e);
          }
        });
    assertThat(toCheckpoint).hasSize(1);
    ClientProgress cp = toCheckpoint.get(0).payload(ClientProgress.class);
    // 0 and 1 are garbage-collected into the watermark; 3 stays delivered above it.
    assertThat(cp.getProgressMap().get("alice").getLowWm()).isEqualTo(2);
    assertThat(cp.getProgressMap().get("alice").getDeliveredList()).containsExactly(3L);
    List<Message> toApp = payloadsTo(out, APP);
    assertThat(toApp.get(toApp.size() - 1)).isInstanceOf(AppSnapshotRequest.class);
    // The checkpoint's event comes before the request is passed to the application.
    assertThat(out.get(out.size() - 2).destination()).isEqualTo(ModuleId.of("checkpoint/1"));
  }

  private static StableCheckpoint checkpointWith(long epoch, ClientProgress progress) {
    return StableCheckpoint.newBuilder()
        .setSn(8)
        .setSnapshot(
            StateSnapshot.newBuilder()
                .setEpochData(
                    EpochData.newBuilder()
                        .setEpochConfig(EpochConfig.newBuilder().setEpochNr(epoch).setFirstSn(8))
                        .setClientProgress(progress)))
        .build();
  }

  private static ClientProgress progress(String client, DeliveredReqs reqs) {
    return ClientProgress.newBuilder().putProgress(client, reqs).build();
  }

  @Test
  void restoringStateLoadsTheClientProgressDropsWhatWaitsAndPassesItOnAtOnce() throws Exception {
    Origin stale = deliverAndCaptureRequest(cert("b1"), "availability/0");
    StableCheckpoint sc =
        checkpointWith(2, progress("alice", DeliveredReqs.newBuilder().setLowWm(5).build()));
    EventList out = apply(IssEvents.appRestoreState(BF, sc));
    assertThat(payloadsTo(out, APP))
        .containsExactly(AppRestoreState.newBuilder().setCheckpoint(sc).build());
    assertThat(bf.queued()).isZero();
    // The answer for the discarded certificate produces nothing.
    assertThat(provide(stale, tx("zed", 0)).isEmpty()).isTrue();
    // The epoch comes from the checkpoint, and requests below alice's watermark are dropped.
    Origin o = deliverAndCaptureRequest(cert("b2"), "availability/2");
    List<Message> batches = payloadsTo(provide(o, tx("alice", 4), tx("alice", 5)), APP);
    assertThat(batch(batches.get(0))).containsExactly(tx("alice", 5));
  }

  @Test
  void aMalformedClientProgressInACheckpointIsALocalError() {
    // A delivered number below the watermark cannot come from a correct snapshot.
    StableCheckpoint sc =
        checkpointWith(
            1, progress("alice", DeliveredReqs.newBuilder().setLowWm(5).addDelivered(3).build()));
    assertThatThrownBy(() -> apply(IssEvents.appRestoreState(BF, sc)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("client progress");
  }

  @Test
  void otherEventsArePassedOnInTheirTurnAndNetworkInputIsRefused() throws Exception {
    Origin o = deliverAndCaptureRequest(cert("b1"), "availability/0");
    Event other = Events.testingString(BF, "stable checkpoint stand-in");
    assertThat(apply(other).isEmpty()).isTrue();
    List<Message> toApp = payloadsTo(provide(o, tx("alice", 0)), APP);
    assertThat(toApp).hasSize(2);
    assertThat(toApp.get(1)).isEqualTo(other.payload());
    assertThat(bf.receivesMessages()).isFalse();
  }
}
