package io.github.mirframework.iss.pbft;

import static io.github.mirframework.iss.pbft.PbftOrdererTest.C1;
import static io.github.mirframework.iss.pbft.PbftOrdererTest.C2;
import static io.github.mirframework.iss.pbft.PbftOrdererTest.N0;
import static io.github.mirframework.iss.pbft.PbftOrdererTest.N1;
import static io.github.mirframework.iss.pbft.PbftOrdererTest.N2;
import static io.github.mirframework.iss.pbft.PbftOrdererTest.N3;
import static io.github.mirframework.iss.pbft.PbftOrdererTest.NODES;
import static io.github.mirframework.iss.pbft.PbftOrdererTest.commit;
import static io.github.mirframework.iss.pbft.PbftOrdererTest.digest;
import static io.github.mirframework.iss.pbft.PbftOrdererTest.only;
import static io.github.mirframework.iss.pbft.PbftOrdererTest.pp;
import static io.github.mirframework.iss.pbft.PbftOrdererTest.prepare;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.github.mirframework.iss.pbft.PbftOrdererTest.Node;
import io.github.mirframework.iss.pbft.RecordingContext.Action;
import io.github.mirframework.iss.pbft.RecordingContext.CertRequest;
import io.github.mirframework.iss.pbft.RecordingContext.Deliver;
import io.github.mirframework.iss.pbft.RecordingContext.Hash;
import io.github.mirframework.iss.pbft.RecordingContext.Repeat;
import io.github.mirframework.iss.pbft.RecordingContext.Send;
import io.github.mirframework.iss.pbft.pb.CatchUpRequest;
import io.github.mirframework.iss.pbft.pb.Commit;
import io.github.mirframework.iss.pbft.pb.PbftEvent;
import io.github.mirframework.iss.pbft.pb.PbftMessage;
import io.github.mirframework.iss.pbft.pb.PrepareEntry;
import io.github.mirframework.iss.pbft.pb.Preprepare;
import io.github.mirframework.iss.pbft.pb.SignedViewChange;
import io.github.mirframework.iss.pbft.pb.ViewChange;
import io.github.mirframework.types.NodeId;
import io.github.mirframework.types.SeqNr;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Crash recovery of one orderer from its WAL entries (applied before Init), and retransmission of
 * votes with the resend tick, with answers to requests limited per sender and period.
 */
class PbftRecoveryAndResendTest {
  static final PbftEvent TICK = PbftEvent.newBuilder().setResendTick(true).build();
  static final List<NodeId> OTHERS_OF_N1 = List.of(N0, N2, N3);

  static PbftEvent proposalEntry(long sn, ByteString cert) {
    return PbftEvent.newBuilder().setPersistPreprepare(pp(sn, 0, cert).getPreprepare()).build();
  }

  static PbftEvent prepareEntry(long sn, long view, ByteString cert) {
    Preprepare p = pp(sn, view, cert).getPreprepare();
    return PbftEvent.newBuilder()
        .setPersistPrepare(PrepareEntry.newBuilder().setPreprepare(p).setDigest(digest(p)))
        .build();
  }

  static PbftEvent commitEntry(long sn, long view, ByteString d) {
    return PbftEvent.newBuilder()
        .setPersistCommit(Commit.newBuilder().setSn(sn).setView(view).setDigest(d))
        .build();
  }

  static ByteString d(long sn, ByteString cert) {
    return digest(pp(sn, 0, cert).getPreprepare());
  }

  // ---------------------------------------------------------------------------------------------
  // Recovery

  @Test
  void aRestartedLeaderResendsItsProposalAndProposesOnlyAfterIt() {
    Node leader = new Node(N0);
    leader.o.apply(proposalEntry(0, C1));
    List<Action> out = leader.apply(PbftEvents.init());
    // The persisted proposal is hashed and voted for (persisted first), and goes out again with
    // the resend tick, a whole period later.
    assertThat(only(out, Hash.class)).hasSize(1);
    assertThat(only(out, Send.class)).containsExactly(new Send(prepare(0, 0, d(0, C1)), NODES));
    assertThat(only(leader.apply(TICK), Send.class)).isEmpty();
    assertThat(only(leader.apply(TICK), Send.class))
        .containsExactly(new Send(pp(0, 0, C1), List.of(N1, N2, N3)));
    // The next proposal timeout is the one after the persisted proposal: sn 4 is next, not sn 0.
    assertThat(leader.apply(PbftEvent.newBuilder().setProposeTimeout(1).build())).isEmpty();
    assertThat(leader.apply(PbftEvent.newBuilder().setProposeTimeout(2).build()))
        .containsExactly(new CertRequest());
    assertThat(only(leader.apply(PbftEvents.certReady(C2)), Send.class))
        .containsExactly(new Send(pp(4, 0, C2), NODES));
  }

  @Test
  void aRestartedReplicaKeepsItsVoteAndNeverPreparesAnotherDigest() {
    Node n = new Node(N1);
    ByteString d = d(4, C1);
    n.o.apply(prepareEntry(4, 0, C1));
    n.o.apply(commitEntry(4, 0, d));
    assertThat(only(n.apply(PbftEvents.init()), Send.class)).isEmpty();
    n.apply(TICK);
    assertThat(only(n.apply(TICK), Send.class))
        .containsExactly(
            new Send(prepare(4, 0, d), OTHERS_OF_N1), new Send(commit(4, 0, d), OTHERS_OF_N1));
    // An equivocating leader's other proposal for sn 4 gets no vote.
    assertThat(only(n.receive(N0, pp(4, 0, C2)), Send.class)).isEmpty();
    assertThat(n.receive(N0, prepare(4, 0, d(4, C2)))).isEmpty();
    // Two more Commits for the persisted digest complete the slot, delivered from the WAL entry.
    assertThat(n.receive(N0, commit(4, 0, d))).isEmpty();
    assertThat(only(n.receive(N2, commit(4, 0, d)), Deliver.class))
        .containsExactly(new Deliver(SeqNr.of(4), C1, false));
  }

  @Test
  void aRestartedNodeInAViewChangeResendsTheSameSignedViewChange() {
    Node n = new Node(N2);
    SignedViewChange svc =
        SignedViewChange.newBuilder()
            .setViewChange(ViewChange.newBuilder().setView(1))
            .setSignature(ByteString.copyFromUtf8("sig"))
            .build();
    n.o.apply(prepareEntry(0, 0, C1));
    n.o.apply(PbftEvent.newBuilder().setPersistSignedViewChange(svc).build());
    List<Action> out = n.apply(PbftEvents.init());
    assertThat(n.o.view()).isEqualTo(1);
    assertThat(n.o.inViewChange()).isTrue();
    NodeId primary = PbftOrdererTest.SEGMENT.primary(1);
    assertThat(only(out, Send.class))
        .containsExactly(
            new Send(PbftMessage.newBuilder().setSignedViewChange(svc).build(), List.of(primary)));
    assertThat(only(out, Repeat.class))
        .contains(
            new Repeat(
                PbftOrdererTest.PARAMS.viewChangeResendPeriod(),
                PbftEvent.newBuilder().setResendViewChange(1).build()));
    // No vote of the abandoned view 0 is resent while changing views.
    assertThat(only(n.apply(TICK), Send.class)).isEmpty();
    assertThat(only(n.apply(TICK), Send.class)).isEmpty();
  }

  @Test
  void walEntriesAreRefusedAfterInitAndCheckedForConsistency() {
    Node n = new Node(N1);
    n.apply(PbftEvents.init());
    assertThatThrownBy(() -> n.o.apply(prepareEntry(4, 0, C1)))
        .isInstanceOf(IllegalStateException.class);
    Node m = new Node(N1);
    assertThatThrownBy(() -> m.o.apply(commitEntry(4, 0, d(4, C1))))
        .isInstanceOf(IllegalArgumentException.class);
    Node k = new Node(N1);
    assertThatThrownBy(() -> k.o.apply(proposalEntry(0, C1)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  // ---------------------------------------------------------------------------------------------
  // Retransmission

  @Test
  void votesAreResentAfterAWholePeriodAndOnlyToNodesThatHaveNotCommitted() {
    Node n = new Node(N1);
    n.apply(PbftEvents.init());
    ByteString d = d(4, C1);
    n.receive(N0, pp(4, 0, C1));
    // Its own Prepare comes back to it once persisted (here by hand).
    n.receive(N1, prepare(4, 0, d));
    // The vote is not older than one period at the first tick.
    assertThat(only(n.apply(TICK), Send.class)).isEmpty();
    assertThat(only(n.apply(TICK), Send.class))
        .containsExactly(new Send(prepare(4, 0, d), OTHERS_OF_N1));
    n.receive(N0, prepare(4, 0, d));
    n.receive(N2, prepare(4, 0, d));
    n.receive(N1, commit(4, 0, d));
    n.receive(N2, commit(4, 0, d));
    n.apply(TICK);
    // Node 2 committed: it gets only the Commit; nodes 0 and 3 get both.
    assertThat(only(n.apply(TICK), Send.class))
        .containsExactly(
            new Send(prepare(4, 0, d), List.of(N0, N3)), new Send(commit(4, 0, d), OTHERS_OF_N1));
    // Once every other node committed (and this one delivered), Prepares are no longer resent.
    n.receive(N0, commit(4, 0, d));
    n.receive(N3, commit(4, 0, d));
    n.apply(TICK);
    assertThat(only(n.apply(TICK), Send.class))
        .containsExactly(new Send(commit(4, 0, d), OTHERS_OF_N1));
  }

  @Test
  void catchUpRequestsAreAnsweredOncePerSlotSenderAndPeriod() {
    Node n = new Node(N1);
    n.apply(PbftEvents.init());
    ByteString d = d(4, C1);
    n.receive(N0, pp(4, 0, C1));
    PbftMessage req =
        PbftMessage.newBuilder()
            .setCatchUpRequest(CatchUpRequest.newBuilder().setSn(4).setDigest(d))
            .build();
    PbftMessage answer =
        PbftMessage.newBuilder().setCatchUpResponse(pp(4, 0, C1).getPreprepare()).build();
    assertThat(only(n.receive(N3, req), Send.class)).containsExactly(new Send(answer, List.of(N3)));
    for (int i = 0; i < 100; i++) {
      assertThat(only(n.receive(N3, req), Send.class)).isEmpty();
    }
    assertThat(only(n.receive(N2, req), Send.class)).containsExactly(new Send(answer, List.of(N2)));
    n.apply(TICK);
    assertThat(only(n.receive(N3, req), Send.class)).containsExactly(new Send(answer, List.of(N3)));
  }
}
