package io.github.mirframework.iss;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.github.mirframework.checkpoint.pb.StableCheckpoint;
import io.github.mirframework.crypto.pb.HashRequest;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.iss.pb.CheckpointHashOrigin;
import io.github.mirframework.iss.pb.StableCheckpointMessage;
import io.github.mirframework.net.Membership;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.types.NodeId;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Which signatures count in a pushed stable checkpoint after the membership grew: the certificate
 * of the checkpoint that starts epoch e is signed by the nodes of epoch e−1, which include nodes
 * the receiver may never have heard of (see docs/iss-parts.md, "Verifying a pushed checkpoint").
 */
class PushedCheckpointMembershipTest {
  static final NodeId N0 = NodeId.of("0");
  static final NodeId NEW = NodeId.of("4");
  static final Membership FOUR = IssTest.MEMBERSHIP;
  static final Membership FIVE = FOUR.with(NEW, NodeAddress.of("h4", 1));

  /** ISS of node 0 started from a genesis whose memberships for epochs 0, 1, 2 are given. */
  static Iss startedWith(Membership e0, Membership e1, Membership e2) throws Exception {
    StableCheckpoint.Builder g = IssTest.GENESIS.toBuilder();
    g.getSnapshotBuilder()
        .getEpochDataBuilder()
        .getEpochConfigBuilder()
        .clearMemberships()
        .addMemberships(Iss.membershipProto(e0))
        .addMemberships(Iss.membershipProto(e1))
        .addMemberships(Iss.membershipProto(e2));
    Iss iss = new Iss(N0, Iss.Config.defaults(), IssTest.PARAMS, g.build());
    iss.applyEvents(EventList.of(Events.init(Iss.DEFAULT_ID)));
    return iss;
  }

  /**
   * A well-formed checkpoint starting {@code epoch}, with (dummy) signatures of {@code signers}.
   */
  static StableCheckpoint signedBy(long epoch, String... signers) {
    StableCheckpoint.Builder b = IssTest.atEpoch(epoch).toBuilder().clearCert();
    for (String s : signers) {
      b.putCert(s, ByteString.copyFromUtf8("sig of " + s));
    }
    return b.build();
  }

  /** The signers whose signatures ISS asks to verify (empty if it verifies nothing). */
  static Set<String> verifiedSigners(Iss iss, NodeId from, StableCheckpoint sc) throws Exception {
    EventList out =
        IssTest.receive(iss, from, StableCheckpointMessage.newBuilder().setCheckpoint(sc).build());
    List<HashRequest> hashes = IssTest.payloads(out, HashRequest.class);
    if (hashes.isEmpty()) {
      return Set.of();
    }
    return carried(hashes.get(0)).getCertMap().keySet();
  }

  static StableCheckpoint carried(HashRequest h) throws InvalidProtocolBufferException {
    return h.getOrigin().getCustom().unpack(CheckpointHashOrigin.class).getCheckpoint();
  }

  @Test
  void beyondItsKnownMembershipsANodeCountsOnlyTheSignersItKnows() throws Exception {
    // Node 0 is in epoch 0 and knows only 4-node memberships; epoch 5's checkpoint was signed by
    // the nodes of epoch 4, which include node 4. Mir-Java before the fix rejected it outright.
    Iss iss = startedWith(FOUR, FOUR, FOUR);
    assertThat(verifiedSigners(iss, NodeId.of("1"), signedBy(5, "0", "1", "4")))
        .containsExactlyInAnyOrder("0", "1");
    assertThat(iss.rejectedMessages()).isZero();
  }

  @Test
  void signaturesOfUnknownNodesAloneAreNotEnough() throws Exception {
    Iss iss = startedWith(FOUR, FOUR, FOUR);
    // f+1 = 2 signatures of known nodes are needed; node 5 and node 4 are unknown.
    assertThat(verifiedSigners(iss, NodeId.of("1"), signedBy(5, "1", "4", "5"))).isEmpty();
    assertThat(iss.rejectedMessages()).isEqualTo(1);
  }

  @Test
  void withinItsKnownMembershipsTheCertifyingEpochsMembershipIsUsed() throws Exception {
    // Node 0 knows that epoch 2 has five nodes: epoch 3's checkpoint is certified by them, and
    // node 4 counts; a signature by node 3 would count too.
    Iss iss = startedWith(FOUR, FOUR, FIVE);
    assertThat(verifiedSigners(iss, NodeId.of("1"), signedBy(3, "0", "4", "9")))
        .containsExactlyInAnyOrder("0", "4");
    // The sender may be the new node: it is a member of an epoch node 0 knows.
    assertThat(verifiedSigners(iss, NEW, signedBy(3, "2", "4")))
        .containsExactlyInAnyOrder("2", "4");
    // Epoch 2's checkpoint is certified by epoch 1's nodes (four): node 4's signature is dropped,
    // and one signature is not a weak quorum.
    assertThat(verifiedSigners(iss, NodeId.of("1"), signedBy(2, "0", "4"))).isEmpty();
  }

  @Test
  void aSenderOutsideEveryKnownMembershipIsRejected() throws Exception {
    Iss iss = startedWith(FOUR, FOUR, FOUR);
    assertThat(verifiedSigners(iss, NEW, signedBy(5, "0", "1", "2"))).isEmpty();
    assertThat(iss.rejectedMessages()).isEqualTo(1);
  }
}
