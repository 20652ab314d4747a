package io.github.mirframework.iss;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.github.mirframework.checkpoint.pb.EpochConfig;
import io.github.mirframework.checkpoint.pb.StableCheckpoint;
import io.github.mirframework.crypto.CryptoEvents;
import io.github.mirframework.crypto.VerificationResult;
import io.github.mirframework.crypto.pb.HashRequest;
import io.github.mirframework.crypto.pb.SigVerItem;
import io.github.mirframework.crypto.pb.VerifyNodeSigs;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.pb.TimerDelay;
import io.github.mirframework.factory.pb.NewModule;
import io.github.mirframework.iss.pb.AppRestoreState;
import io.github.mirframework.iss.pb.CheckpointHashOrigin;
import io.github.mirframework.iss.pb.CheckpointSigVerOrigin;
import io.github.mirframework.iss.pb.SbEvent;
import io.github.mirframework.iss.pb.SbMessage;
import io.github.mirframework.iss.pb.StableCheckpointMessage;
import io.github.mirframework.iss.pbft.pb.PbftMessage;
import io.github.mirframework.iss.pbft.pb.Prepare;
import io.github.mirframework.net.Membership;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.types.EpochNr;
import io.github.mirframework.types.LittleEndian;
import io.github.mirframework.types.NodeId;
import io.github.mirframework.types.SeqNr;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Unit tests of ISS: parameters, genesis, start-up, message routing and validation. */
class IssTest {
  static final List<NodeId> NODES = NodeId.range(4);
  static final NodeId N0 = NodeId.of("0");
  static final Membership MEMBERSHIP =
      new Membership(
          NODES.stream()
              .collect(
                  Collectors.toMap(Function.identity(), n -> NodeAddress.of("h" + n.value(), 1))));
  static final Iss.Params PARAMS = Iss.Params.defaults(MEMBERSHIP);
  static final StableCheckpoint GENESIS = Iss.genesisCheckpoint(ByteString.EMPTY, PARAMS);

  static Iss started() throws Exception {
    Iss iss = new Iss(N0, Iss.Config.defaults(), PARAMS, GENESIS);
    iss.applyEvents(EventList.of(Events.init(Iss.DEFAULT_ID)));
    return iss;
  }

  static EventList receive(Iss iss, NodeId from, Message msg) throws Exception {
    return iss.applyEvents(
        EventList.of(Events.messageReceived(from, Events.netMessage(Iss.DEFAULT_ID, msg))));
  }

  static SbMessage prepare(long epoch, long instance) {
    return IssEvents.sbMessage(
        epoch,
        instance,
        PbftMessage.newBuilder()
            .setPrepare(
                Prepare.newBuilder().setSn(0).setView(0).setDigest(ByteString.copyFromUtf8("d")))
            .build());
  }

  static <T extends Message> List<T> payloads(EventList events, Class<T> type) {
    return events.toList().stream()
        .filter(e -> type.isInstance(e.payload()))
        .map(e -> type.cast(e.payload()))
        .toList();
  }

  // ---------------------------------------------------------------------------------------------
  // Parameters

  @Test
  void defaultParamsAreMirs() {
    assertThat(PARAMS.configOffset()).isEqualTo(2);
    assertThat(PARAMS.segmentLength()).isEqualTo(4);
    assertThat(PARAMS.epochLength()).isZero();
    assertThat(PARAMS.maxProposeDelay()).isEqualTo(Duration.ofSeconds(1));
    assertThat(PARAMS.numBuckets()).isEqualTo(4);
    assertThat(PARAMS.requestNAckTimeout()).isEqualTo(16);
    assertThat(PARAMS.msgBufCapacity()).isEqualTo(32 * 1024 * 1024);
    assertThat(PARAMS.retainedEpochs()).isEqualTo(1);
    assertThat(PARAMS.catchUpTimerPeriod()).isEqualTo(Duration.ofSeconds(1));
    assertThat(PARAMS.pbftViewChangeSnTimeout()).isEqualTo(Duration.ofSeconds(4));
    assertThat(PARAMS.pbftViewChangeSegmentTimeout()).isEqualTo(Duration.ofSeconds(8));
    assertThat(PARAMS.leaderPolicy().leaders(EpochNr.ZERO)).isEqualTo(NODES);
  }

  @Test
  void adjustSpeedDerivesEveryPeriod() {
    Iss.Params p = PARAMS.withSegmentLength(2).adjustSpeed(Duration.ofMillis(100));
    assertThat(p.maxProposeDelay()).isEqualTo(Duration.ofMillis(100));
    assertThat(p.catchUpTimerPeriod()).isEqualTo(Duration.ofMillis(100));
    assertThat(p.checkpointResendPeriod()).isEqualTo(Duration.ofMillis(100));
    assertThat(p.pbftDoneResendPeriod()).isEqualTo(Duration.ofMillis(100));
    assertThat(p.pbftCatchUpDelay()).isEqualTo(Duration.ofMillis(100));
    assertThat(p.pbftViewChangeResendPeriod()).isEqualTo(Duration.ofMillis(100));
    assertThat(p.pbftViewChangeSnTimeout()).isEqualTo(Duration.ofMillis(400));
    assertThat(p.pbftViewChangeSegmentTimeout()).isEqualTo(Duration.ofMillis(400));
    assertThat(p.pbftParams().viewChangeSegmentTimeout()).isEqualTo(Duration.ofMillis(400));
  }

  @Test
  void invalidParamsAreRejectedNamingTheValue() {
    assertThatThrownBy(() -> Iss.Params.defaults(Membership.empty()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> PARAMS.withSegmentLength(0))
        .hasMessageContaining("exactly one must be zero");
    assertThatThrownBy(() -> PARAMS.withSegmentLength(-1)).hasMessageContaining("-1");
    assertThatThrownBy(() -> PARAMS.withRetainedEpochs(-1)).hasMessageContaining("-1");
    assertThatThrownBy(() -> PARAMS.withMsgBufCapacity(-5)).hasMessageContaining("-5");
    assertThatThrownBy(() -> PARAMS.adjustSpeed(Duration.ZERO))
        .hasMessageContaining("maxProposeDelay");
  }

  @Test
  void simpleLeaderPolicyLeadsWithEveryNodeAndReconfigures() {
    SimpleLeaderPolicy p = new SimpleLeaderPolicy(NODES);
    p.suspect(EpochNr.ZERO, N0);
    assertThat(p.leaders(EpochNr.of(7))).isEqualTo(NODES);
    assertThat(p.reconfigure(NODES.subList(0, 2)).leaders(EpochNr.ZERO))
        .isEqualTo(NODES.subList(0, 2));
    assertThatThrownBy(() -> new SimpleLeaderPolicy(List.of()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new SimpleLeaderPolicy(List.of(N0, N0)))
        .hasMessageContaining("duplicates");
  }

  // ---------------------------------------------------------------------------------------------
  // Genesis and start-up

  @Test
  void genesisHasEpoch0AndConfigOffsetPlusOneMemberships() {
    assertThat(GENESIS.getSn()).isZero();
    assertThat(GENESIS.getCertMap()).isEmpty();
    EpochConfig c = GENESIS.getSnapshot().getEpochData().getEpochConfig();
    assertThat(c.getEpochNr()).isZero();
    assertThat(c.getFirstSn()).isZero();
    assertThat(c.getLength()).isEqualTo(16);
    assertThat(c.getMembershipsList()).hasSize(3).allMatch(m -> m.getMembershipCount() == 4);
    assertThat(c.getMemberships(0).getMembershipMap()).containsEntry("2", "h2:1");
  }

  @Test
  void initCreatesAvailabilityInstancesStartsOrderersAndRestoresTheApp() throws Exception {
    Iss iss = new Iss(N0, Iss.Config.defaults(), PARAMS, GENESIS);
    EventList out = iss.applyEvents(EventList.of(Events.init(Iss.DEFAULT_ID)));
    List<NewModule> modules = payloads(out, NewModule.class);
    assertThat(modules)
        .extracting(NewModule::getModuleId)
        .containsExactly("availability/0", "availability/1", "availability/2");
    assertThat(modules).extracting(NewModule::getRetentionIndex).containsExactly(0L, 1L, 2L);
    assertThat(payloads(out, AppRestoreState.class)).hasSize(1);
    assertThat(out.toList().getLast().destination().value()).isEqualTo("batchfetcher");
    // Each orderer arms timers whose events come back to ISS wrapped with (epoch, instance).
    List<io.github.mirframework.event.pb.EventRecord> timed =
        payloads(out, TimerDelay.class).stream().flatMap(t -> t.getEventsList().stream()).toList();
    assertThat(timed)
        .isNotEmpty()
        .allMatch(r -> r.getDestination().equals("iss") && r.getPayload().is(SbEvent.class));
    assertThat(iss.orderers(0)).hasSize(4);
    assertThat(iss.orderers(0).get(1).segment().seqNrs())
        .containsExactly(SeqNr.of(1), SeqNr.of(5), SeqNr.of(9), SeqNr.of(13));
    assertThat(iss.orderers(0).get(3).segment().leader()).isEqualTo(NodeId.of("3"));
  }

  @Test
  void aStartingCheckpointWithOneMembershipIsRejected() {
    StableCheckpoint bad =
        GENESIS.toBuilder()
            .setSnapshot(
                GENESIS.getSnapshot().toBuilder()
                    .setEpochData(
                        GENESIS.getSnapshot().getEpochData().toBuilder()
                            .setEpochConfig(
                                GENESIS.getSnapshot().getEpochData().getEpochConfig().toBuilder()
                                    .clearMemberships()
                                    .addMemberships(Iss.membershipProto(MEMBERSHIP)))))
            .build();
    assertThatThrownBy(() -> new Iss(N0, Iss.Config.defaults(), PARAMS, bad))
        .hasMessageContaining("at least 2 memberships");
  }

  // ---------------------------------------------------------------------------------------------
  // Routing and validation of orderer messages

  @Test
  void aMessageOfTheCurrentEpochFromAMemberReachesTheOrderer() throws Exception {
    Iss iss = started();
    receive(iss, NodeId.of("1"), prepare(0, 0));
    assertThat(iss.rejectedMessages()).isZero();
    assertThat(iss.orderers(0).get(0).rejectedMessages()).isZero();
  }

  @Test
  void messagesFromNonMembersForUnknownInstancesOrEmptyAreRejected() throws Exception {
    Iss iss = started();
    assertThat(receive(iss, NodeId.of("9"), prepare(0, 0)).isEmpty()).isTrue();
    assertThat(iss.rejectedMessages()).isEqualTo(1);
    receive(iss, NodeId.of("1"), prepare(0, 4));
    assertThat(iss.rejectedMessages()).isEqualTo(2);
    receive(iss, NodeId.of("1"), prepare(0, -1));
    assertThat(iss.rejectedMessages()).isEqualTo(3);
    receive(iss, NodeId.of("1"), SbMessage.newBuilder().setEpoch(0).build());
    assertThat(iss.rejectedMessages()).isEqualTo(4);
    receive(iss, NodeId.of("1"), prepare(-1, 0));
    assertThat(iss.rejectedMessages()).isEqualTo(5);
  }

  @Test
  void futureEpochMessagesAreBufferedPerMemberAndDroppedFromNonMembers() throws Exception {
    Iss iss = started();
    receive(iss, NodeId.of("1"), prepare(3, 0));
    receive(iss, NodeId.of("2"), prepare(1, 2));
    assertThat(iss.bufferedMessages()).isEqualTo(2);
    assertThat(iss.rejectedMessages()).isZero();
    receive(iss, NodeId.of("9"), prepare(1, 0));
    assertThat(iss.bufferedMessages()).isEqualTo(2);
    assertThat(iss.rejectedMessages()).isEqualTo(1);
  }

  @Test
  void theFutureEpochBufferOfASenderIsBounded() throws Exception {
    Iss iss = new Iss(N0, Iss.Config.defaults(), PARAMS.withMsgBufCapacity(3 * 200), GENESIS);
    iss.applyEvents(EventList.of(Events.init(Iss.DEFAULT_ID)));
    for (int i = 0; i < 100; i++) {
      receive(iss, NodeId.of("1"), prepare(5, i % 4));
    }
    int kept = iss.bufferedMessages();
    assertThat(kept).isPositive().isLessThanOrEqualTo(200 / prepare(5, 0).getSerializedSize());
  }

  // ---------------------------------------------------------------------------------------------
  // Configuration and checkpoints

  @Test
  void aSecondConfigurationForTheSameEpochFailsAsInMir() throws Exception {
    Iss iss = started();
    // Genesis already supplies the configuration decided in epoch 0.
    assertThatThrownBy(
            () ->
                iss.applyEvents(
                    EventList.of(
                        IssEvents.newConfig(
                            Iss.DEFAULT_ID, EpochNr.ZERO, Iss.membershipProto(MEMBERSHIP)))))
        .hasMessageContaining("already have a new membership");
  }

  @Test
  void anOutdatedStableCheckpointIsIgnored() throws Exception {
    Iss iss = started();
    EventList out = iss.applyEvents(EventList.of(Event.of(Iss.DEFAULT_ID, GENESIS)));
    assertThat(out.isEmpty()).isTrue();
  }

  @Test
  void pushedCheckpointsFromNonMembersOrMalformedOrNotFarAheadAreNotVerified() throws Exception {
    Iss iss = started();
    StableCheckpointMessage genesisMsg =
        StableCheckpointMessage.newBuilder().setCheckpoint(GENESIS).build();
    assertThat(receive(iss, NodeId.of("9"), genesisMsg).isEmpty()).isTrue();
    assertThat(iss.rejectedMessages()).isEqualTo(1);
    // No certificate at all.
    assertThat(receive(iss, NodeId.of("1"), genesisMsg).isEmpty()).isTrue();
    assertThat(iss.rejectedMessages()).isEqualTo(2);
    // Well-formed, but only one epoch ahead: ignored without any work.
    StableCheckpoint near = atEpoch(1);
    assertThat(
            receive(
                    iss,
                    NodeId.of("1"),
                    StableCheckpointMessage.newBuilder().setCheckpoint(near).build())
                .isEmpty())
        .isTrue();
    assertThat(iss.rejectedMessages()).isEqualTo(2);
    // Far ahead: its snapshot is hashed, then its certificate checked.
    EventList out =
        receive(
            iss,
            NodeId.of("1"),
            StableCheckpointMessage.newBuilder().setCheckpoint(atEpoch(5)).build());
    assertThat(payloads(out, HashRequest.class)).hasSize(1);
  }

  static StableCheckpoint atEpoch(long epoch) {
    StableCheckpoint.Builder b = GENESIS.toBuilder().setSn(16 * epoch);
    b.getSnapshotBuilder()
        .getEpochDataBuilder()
        .getEpochConfigBuilder()
        .setEpochNr(epoch)
        .setFirstSn(16 * epoch);
    for (int i = 0; i < 3; i++) {
      b.putCert(Integer.toString(i), ByteString.copyFromUtf8("sig"));
    }
    return b.build();
  }

  @Test
  void pushingWithNobodyBehindSendsNothing() throws Exception {
    Iss iss = started();
    EventList out =
        iss.applyEvents(
            EventList.of(
                Event.of(
                    Iss.DEFAULT_ID,
                    io.github.mirframework.iss.pb.PushCheckpoint.getDefaultInstance())));
    assertThat(out.isEmpty()).isTrue();
  }

  @Test
  void commitLogEntryDigestDataIsSnSuspectAbortedCert() {
    var entry =
        new Iss.CommitLogEntry(
            SeqNr.of(258), ByteString.copyFromUtf8("cert"), true, NodeId.of("3"), ByteString.EMPTY);
    assertThat(Iss.logEntryHashData(entry).getDataList())
        .containsExactly(
            ByteString.copyFrom(LittleEndian.u64(258)),
            ByteString.copyFromUtf8("3"),
            ByteString.copyFrom(new byte[] {1}),
            ByteString.copyFromUtf8("cert"));
    assertThat(ByteString.copyFrom(LittleEndian.u64(258)).byteAt(1)).isEqualTo((byte) 1);
  }

  static EventList verified(Iss iss, StableCheckpoint sc, boolean ok) throws Exception {
    return iss.applyEvents(
        EventList.of(
            CryptoEvents.nodeSigsVerified(
                CryptoEvents.customOrigin(
                    Iss.DEFAULT_ID,
                    CheckpointSigVerOrigin.newBuilder().setFrom("1").setCheckpoint(sc).build()),
                List.of("1"),
                List.of(
                    ok ? VerificationResult.ok() : VerificationResult.invalid("bad signature")))));
  }

  @Test
  void thePushedCheckpointsHashIsWhatItsCertificateIsCheckedAgainst() throws Exception {
    Iss iss = started();
    StableCheckpoint sc = atEpoch(5);
    ByteString hash = ByteString.copyFromUtf8("h");
    EventList out =
        iss.applyEvents(
            EventList.of(
                CryptoEvents.hashResult(
                    CryptoEvents.customOrigin(
                        Iss.DEFAULT_ID,
                        CheckpointHashOrigin.newBuilder().setFrom("1").setCheckpoint(sc).build()),
                    List.of(hash))));
    List<VerifyNodeSigs> v = payloads(out, VerifyNodeSigs.class);
    assertThat(v).hasSize(1);
    assertThat(v.get(0).getItemsList())
        .extracting(SigVerItem::getNodeId)
        .containsExactly("0", "1", "2");
    assertThat(v.get(0).getItems(0).getDataList())
        .containsExactly(
            ByteString.copyFrom(LittleEndian.u64(5)),
            ByteString.copyFrom(LittleEndian.u64(80)),
            hash);
  }

  @Test
  void aPushedCheckpointWithBadSignaturesIsNotInstalled() throws Exception {
    Iss iss = started();
    EventList out = verified(iss, atEpoch(5), false);
    assertThat(out.isEmpty()).isTrue();
    assertThat(iss.rejectedMessages()).isEqualTo(1);
    assertThat(iss.currentEpoch()).isEqualTo(EpochNr.ZERO);
  }

  @Test
  void aVerifiedPushedCheckpointFarAheadIsInstalled() throws Exception {
    Iss iss = started();
    receive(iss, NodeId.of("1"), prepare(5, 1));
    receive(iss, NodeId.of("1"), prepare(6, 1));
    assertThat(iss.bufferedMessages()).isEqualTo(2);
    EventList out = verified(iss, atEpoch(5), true);
    assertThat(iss.currentEpoch()).isEqualTo(EpochNr.of(5));
    assertThat(iss.nextDeliveredSn()).isEqualTo(SeqNr.of(80));
    assertThat(iss.retainedEpochs()).containsExactly(EpochNr.of(5));
    assertThat(iss.lastStableCheckpoint().getSn()).isEqualTo(80);
    assertThat(iss.orderers(5).get(0).segment().seqNrs().get(0)).isEqualTo(SeqNr.of(80));
    assertThat(payloads(out, AppRestoreState.class)).hasSize(1);
    assertThat(payloads(out, NewModule.class))
        .extracting(NewModule::getModuleId)
        .containsExactly("availability/5", "availability/6", "availability/7");
    // The message buffered for epoch 5 was applied, the one for epoch 6 is still kept.
    assertThat(iss.bufferedMessages()).isEqualTo(1);
    // A checkpoint that is not far enough ahead any more is not installed again.
    verified(iss, atEpoch(6), true);
    assertThat(iss.currentEpoch()).isEqualTo(EpochNr.of(5));
  }

  @Test
  void aConfigurationOfAnEpochBeforeTheCurrentOneIsIgnored() throws Exception {
    Iss iss = started();
    verified(iss, atEpoch(5), true);
    EventList out =
        iss.applyEvents(
            EventList.of(
                IssEvents.newConfig(
                    Iss.DEFAULT_ID, EpochNr.of(4), Iss.membershipProto(MEMBERSHIP))));
    assertThat(out.isEmpty()).isTrue();
    assertThat(iss.currentEpoch()).isEqualTo(EpochNr.of(5));
  }

  @Test
  void messagesOfAPrunedEpochAreIgnoredWithoutRejection() throws Exception {
    Iss iss = started();
    verified(iss, atEpoch(5), true);
    assertThat(receive(iss, NodeId.of("1"), prepare(2, 0)).isEmpty()).isTrue();
    assertThat(iss.rejectedMessages()).isZero();
    assertThat(iss.bufferedMessages()).isZero();
  }
}
