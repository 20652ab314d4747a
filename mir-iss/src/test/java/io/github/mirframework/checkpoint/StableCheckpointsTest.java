package io.github.mirframework.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.github.mirframework.checkpoint.pb.ClientProgress;
import io.github.mirframework.checkpoint.pb.DeliveredReqs;
import io.github.mirframework.checkpoint.pb.EpochConfig;
import io.github.mirframework.checkpoint.pb.EpochData;
import io.github.mirframework.checkpoint.pb.Membership;
import io.github.mirframework.checkpoint.pb.StableCheckpoint;
import io.github.mirframework.checkpoint.pb.StateSnapshot;
import io.github.mirframework.crypto.EcdsaCrypto;
import io.github.mirframework.crypto.PseudoCrypto;
import io.github.mirframework.crypto.VerificationResult;
import io.github.mirframework.crypto.pb.SigVerItem;
import io.github.mirframework.types.EpochNr;
import io.github.mirframework.types.NodeId;
import io.github.mirframework.types.SeqNr;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Stable checkpoint accessors, genesis and certificate verification with real signatures. */
class StableCheckpointsTest {
  static final List<NodeId> NODES = NodeId.range(4);
  static final List<NodeId> WITH_OUTSIDER = NodeId.range(5);
  // Node 4 has a key but is not a member of the checkpoint's membership.
  static final Map<NodeId, EcdsaCrypto> KEYS = new TreeMap<>();

  static {
    for (NodeId n : WITH_OUTSIDER) {
      KEYS.put(n, PseudoCrypto.create(WITH_OUTSIDER, n));
    }
  }

  static final EcdsaCrypto VERIFIER = KEYS.get(NodeId.of(0));

  static StateSnapshot snapshot(String app) {
    Membership m = Membership.newBuilder().build();
    Membership.Builder mb = m.toBuilder();
    for (NodeId n : NODES) {
      mb.putMembership(n.value(), "127.0.0.1:" + (10000 + Integer.parseInt(n.value())));
    }
    return StateSnapshot.newBuilder()
        .setAppData(ByteString.copyFromUtf8(app))
        .setEpochData(
            EpochData.newBuilder()
                .setEpochConfig(
                    EpochConfig.newBuilder()
                        .setEpochNr(2)
                        .setFirstSn(16)
                        .setLength(8)
                        .addMemberships(mb)
                        .addMemberships(mb)
                        .addMemberships(mb))
                .setClientProgress(
                    ClientProgress.newBuilder()
                        .putProgress("c", DeliveredReqs.newBuilder().setLowWm(3).build())))
        .build();
  }

  static final StateSnapshot SNAPSHOT = snapshot("state");

  static ByteString sign(NodeId signer, StateSnapshot s) {
    return KEYS.get(signer)
        .sign(
            SnapshotHashing.checkpointForSig(
                EpochNr.of(2), SeqNr.of(16), SnapshotHashing.snapshotHash(s)));
  }

  static StableCheckpoint certified(StateSnapshot s, int... signers) {
    StableCheckpoint.Builder b = StableCheckpoint.newBuilder().setSn(16).setSnapshot(s);
    for (int i : signers) {
      b.putCert(Integer.toString(i), sign(NodeId.of(i), s));
    }
    return b.build();
  }

  static VerificationResult verify(StableCheckpoint sc) {
    return StableCheckpoints.verifyCert(sc, VERIFIER, NODES);
  }

  @Test
  void quorums() {
    assertThat(StableCheckpoints.strongQuorum(1)).isEqualTo(1);
    assertThat(StableCheckpoints.strongQuorum(4)).isEqualTo(3);
    assertThat(StableCheckpoints.weakQuorum(4)).isEqualTo(2);
    assertThat(StableCheckpoints.strongQuorum(7)).isEqualTo(5);
    assertThat(StableCheckpoints.weakQuorum(7)).isEqualTo(3);
    assertThat(StableCheckpoints.strongQuorum(3)).isEqualTo(2);
  }

  @Test
  void accessors() {
    StableCheckpoint sc = certified(SNAPSHOT, 0, 1, 2);
    assertThat(StableCheckpoints.seqNr(sc)).isEqualTo(SeqNr.of(16));
    assertThat(StableCheckpoints.epoch(sc)).isEqualTo(EpochNr.of(2));
    assertThat(StableCheckpoints.memberships(sc)).hasSize(3);
    assertThat(StableCheckpoints.nodeIds(StableCheckpoints.memberships(sc).get(0)))
        .isEqualTo(NODES);
    assertThat(StableCheckpoints.stateSnapshot(sc)).isEqualTo(SNAPSHOT);
    assertThat(StableCheckpoints.clientProgress(sc).toProto())
        .isEqualTo(SNAPSHOT.getEpochData().getClientProgress());
    assertThat(StableCheckpoints.certificate(sc).keySet())
        .containsExactly(NodeId.range(3).toArray(NodeId[]::new));
    StableCheckpoint stripped = StableCheckpoints.stripCert(sc);
    assertThat(stripped.getCertCount()).isZero();
    assertThat(StableCheckpoints.attachCert(stripped, StableCheckpoints.certificate(sc)))
        .isEqualTo(sc);
  }

  @Test
  void genesisHasSequenceNumberZeroAndAnEmptyCertificate() {
    StableCheckpoint g = StableCheckpoints.genesis(SNAPSHOT);
    assertThat(g.getSn()).isZero();
    assertThat(g.getSnapshot()).isEqualTo(SNAPSHOT);
    assertThat(g.getCertMap()).isEmpty();
  }

  @Test
  void aCertificateOfAWeakQuorumOfValidMemberSignaturesIsValid() {
    assertThat(verify(certified(SNAPSHOT, 0, 1)).valid()).isTrue();
    assertThat(verify(certified(SNAPSHOT, 0, 1, 2, 3)).valid()).isTrue();
    // The items for asynchronous checking verify the same way.
    StableCheckpoint sc = certified(SNAPSHOT, 3, 1);
    List<SigVerItem> items =
        StableCheckpoints.certSigVerItems(sc, SnapshotHashing.snapshotHash(SNAPSHOT));
    assertThat(items).extracting(SigVerItem::getNodeId).containsExactly("1", "3");
    for (SigVerItem item : items) {
      assertThat(
              VERIFIER
                  .verify(item.getDataList(), item.getSignature(), NodeId.of(item.getNodeId()))
                  .valid())
          .isTrue();
    }
  }

  @Test
  void tooFewSignersAreRejected() {
    VerificationResult r = verify(certified(SNAPSHOT, 2));
    assertThat(r.valid()).isFalse();
    assertThat(r.error()).contains("not enough signatures");
    assertThat(verify(certified(SNAPSHOT)).valid()).isFalse();
  }

  @Test
  void aNonMemberSignerIsRejectedEvenWithAValidSignature() {
    VerificationResult r = verify(certified(SNAPSHOT, 0, 1, 4));
    assertThat(r.valid()).isFalse();
    assertThat(r.error()).contains("not in the membership");
  }

  @Test
  void aForgedSignatureIsRejected() {
    // Node 1's entry signed with node 0's key.
    StableCheckpoint forged =
        certified(SNAPSHOT, 0).toBuilder().putCert("1", sign(NodeId.of(0), SNAPSHOT)).build();
    VerificationResult r = verify(forged);
    assertThat(r.valid()).isFalse();
    assertThat(r.error()).contains("invalid signature of node 1");
    StableCheckpoint garbage =
        certified(SNAPSHOT, 0, 2).toBuilder()
            .putCert("1", ByteString.copyFromUtf8("garbage"))
            .build();
    assertThat(verify(garbage).valid()).isFalse();
    StableCheckpoint huge =
        certified(SNAPSHOT, 0, 2).toBuilder()
            .putCert("1", ByteString.copyFrom(new byte[StableCheckpoints.MAX_SIGNATURE_BYTES + 1]))
            .build();
    assertThat(verify(huge).error()).contains("too long");
  }

  @Test
  void signaturesOverAnotherSnapshotAreRejected() {
    StableCheckpoint sc = certified(SNAPSHOT, 0, 1, 2);
    StableCheckpoint swapped = sc.toBuilder().setSnapshot(snapshot("other state")).build();
    assertThat(verify(swapped).valid()).isFalse();
    StableCheckpoint otherSn = sc.toBuilder().setSn(17).build();
    assertThat(verify(otherSn).valid()).isFalse();
    StableCheckpoint otherEpoch =
        sc.toBuilder()
            .setSnapshot(
                SNAPSHOT.toBuilder()
                    .setEpochData(
                        SNAPSHOT.getEpochData().toBuilder()
                            .setEpochConfig(
                                SNAPSHOT.getEpochData().getEpochConfig().toBuilder()
                                    .setEpochNr(3))))
            .build();
    assertThat(verify(otherEpoch).valid()).isFalse();
  }

  @Test
  void malformedSnapshotsAreRejectedBeforeAnySignatureCheck() {
    StableCheckpoint good = certified(SNAPSHOT, 0, 1, 2);
    List<StateSnapshot> bad =
        List.of(
            SNAPSHOT.toBuilder().clearEpochData().build(),
            SNAPSHOT.toBuilder()
                .setEpochData(SNAPSHOT.getEpochData().toBuilder().clearEpochConfig())
                .build(),
            SNAPSHOT.toBuilder()
                .setEpochData(SNAPSHOT.getEpochData().toBuilder().clearClientProgress())
                .build(),
            SNAPSHOT.toBuilder()
                .setEpochData(
                    SNAPSHOT.getEpochData().toBuilder()
                        .setEpochConfig(
                            SNAPSHOT.getEpochData().getEpochConfig().toBuilder()
                                .clearMemberships()))
                .build(),
            SNAPSHOT.toBuilder()
                .setEpochData(
                    SNAPSHOT.getEpochData().toBuilder()
                        .setClientProgress(
                            ClientProgress.newBuilder()
                                .putProgress(
                                    "c",
                                    DeliveredReqs.newBuilder()
                                        .setLowWm(5)
                                        .addDelivered(1)
                                        .build())))
                .build());
    for (StateSnapshot s : bad) {
      assertThat(StableCheckpoints.checkSnapshot(s)).isNotNull();
      VerificationResult r = verify(good.toBuilder().setSnapshot(s).build());
      assertThat(r.valid()).isFalse();
      assertThat(r.error()).contains("malformed snapshot");
    }
    assertThat(verify(good.toBuilder().clearSnapshot().build()).valid()).isFalse();
    assertThat(StableCheckpoints.checkSnapshot(SNAPSHOT)).isNull();
  }

  @Test
  void verifierThatThrowsGivesAnInvalidResult() {
    io.github.mirframework.crypto.Crypto throwing =
        new io.github.mirframework.crypto.Crypto() {
          @Override
          public ByteString sign(List<ByteString> data) {
            throw new UnsupportedOperationException();
          }

          @Override
          public VerificationResult verify(
              List<ByteString> data, ByteString signature, NodeId nodeId) {
            throw new IllegalStateException("boom");
          }
        };
    VerificationResult r = StableCheckpoints.verifyCert(certified(SNAPSHOT, 0, 1), throwing, NODES);
    assertThat(r.valid()).isFalse();
    assertThat(r.error()).contains("boom");
  }
}
