package io.github.mirframework.iss.pbft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.github.mirframework.crypto.EcdsaCrypto;
import io.github.mirframework.crypto.PseudoCrypto;
import io.github.mirframework.crypto.VerificationResult;
import io.github.mirframework.crypto.pb.HashData;
import io.github.mirframework.crypto.pb.SigVerItem;
import io.github.mirframework.iss.pbft.RecordingContext.Action;
import io.github.mirframework.iss.pbft.RecordingContext.CertRequest;
import io.github.mirframework.iss.pbft.RecordingContext.Delay;
import io.github.mirframework.iss.pbft.RecordingContext.Deliver;
import io.github.mirframework.iss.pbft.RecordingContext.Hash;
import io.github.mirframework.iss.pbft.RecordingContext.Repeat;
import io.github.mirframework.iss.pbft.RecordingContext.Send;
import io.github.mirframework.iss.pbft.RecordingContext.Sign;
import io.github.mirframework.iss.pbft.RecordingContext.Verify;
import io.github.mirframework.iss.pbft.RecordingContext.Wal;
import io.github.mirframework.iss.pbft.pb.CatchUpRequest;
import io.github.mirframework.iss.pbft.pb.Commit;
import io.github.mirframework.iss.pbft.pb.Done;
import io.github.mirframework.iss.pbft.pb.NewView;
import io.github.mirframework.iss.pbft.pb.PSetEntry;
import io.github.mirframework.iss.pbft.pb.PbftEvent;
import io.github.mirframework.iss.pbft.pb.PbftMessage;
import io.github.mirframework.iss.pbft.pb.PbftNodeSigsVerified;
import io.github.mirframework.iss.pbft.pb.Prepare;
import io.github.mirframework.iss.pbft.pb.Preprepare;
import io.github.mirframework.iss.pbft.pb.PreprepareRequest;
import io.github.mirframework.iss.pbft.pb.QSetEntry;
import io.github.mirframework.iss.pbft.pb.SignedViewChange;
import io.github.mirframework.iss.pbft.pb.VcSnTimeout;
import io.github.mirframework.iss.pbft.pb.ViewChange;
import io.github.mirframework.types.EpochNr;
import io.github.mirframework.types.NodeId;
import io.github.mirframework.types.SeqNr;
import java.io.ByteArrayOutputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Unit tests of the PBFT orderer as a state machine: events in, recorded actions out. Hashes and
 * signatures are answered by the test with SHA-256 and pseudo ECDSA keys.
 */
class PbftOrdererTest {
  static final List<NodeId> NODES = NodeId.range(4);
  static final NodeId N0 = NodeId.of("0");
  static final NodeId N1 = NodeId.of("1");
  static final NodeId N2 = NodeId.of("2");
  static final NodeId N3 = NodeId.of("3");
  static final List<SeqNr> SNS = List.of(SeqNr.of(0), SeqNr.of(4), SeqNr.of(8), SeqNr.of(12));
  static final Segment SEGMENT = new Segment(EpochNr.of(7), 2, N0, NODES, SNS);
  static final PbftParams PARAMS = PbftParams.defaults(4);
  static final ByteString C1 = ByteString.copyFromUtf8("certificate one");
  static final ByteString C2 = ByteString.copyFromUtf8("certificate two");
  static final Map<NodeId, EcdsaCrypto> KEYS = new LinkedHashMap<>();

  static {
    for (NodeId n : NODES) {
      KEYS.put(n, PseudoCrypto.create(NODES, n));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Harness

  /** One orderer, its recording context, and automatic answers to hash/sign/verify requests. */
  static final class Node {
    final NodeId id;
    final RecordingContext ctx = new RecordingContext();
    final PbftOrderer o;
    boolean autoCrypto = true;

    Node(NodeId id) {
      this.id = id;
      this.o = new PbftOrderer(id, SEGMENT, PARAMS, ctx);
    }

    /**
     * Applies an event and answers crypto requests; returns all actions, WAL follow-ups inlined.
     */
    List<Action> apply(PbftEvent e) {
      o.apply(e);
      return pump();
    }

    List<Action> receive(NodeId from, PbftMessage msg) {
      return apply(PbftEvents.messageReceived(from, msg));
    }

    List<Action> pump() {
      List<Action> out = new ArrayList<>();
      Deque<Action> todo = new ArrayDeque<>(RecordingContext.flatten(ctx.take()));
      while (!todo.isEmpty()) {
        Action a = todo.poll();
        out.add(a);
        if (!autoCrypto) {
          continue;
        }
        switch (a) {
          case Hash h -> o.apply(PbftEvents.hashResult(digests(h.data()), h.origin()));
          case Sign s -> o.apply(PbftEvents.signResult(KEYS.get(id).sign(s.data()), s.origin()));
          case Verify v -> o.apply(verified(v));
          default -> {
            continue;
          }
        }
        todo.addAll(RecordingContext.flatten(ctx.take()));
      }
      return out;
    }
  }

  static PbftEvent verified(Verify v) {
    PbftNodeSigsVerified.Builder b = PbftNodeSigsVerified.newBuilder().setOrigin(v.origin());
    boolean all = true;
    for (SigVerItem item : v.items()) {
      VerificationResult r =
          KEYS.get(N0).verify(item.getDataList(), item.getSignature(), NodeId.of(item.getNodeId()));
      b.addNodeIds(item.getNodeId()).addValid(r.valid()).addErrors(r.error());
      all &= r.valid();
    }
    return PbftEvent.newBuilder().setNodeSigsVerified(b.setAllOk(all)).build();
  }

  static ByteString sha256(List<ByteString> chunks) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      for (ByteString c : chunks) {
        md.update(c.toByteArray());
      }
      return ByteString.copyFrom(md.digest());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static List<ByteString> digests(List<HashData> data) {
    List<ByteString> out = new ArrayList<>();
    for (HashData d : data) {
      out.add(sha256(d.getDataList()));
    }
    return out;
  }

  static ByteString digest(Preprepare pp) {
    return sha256(PbftData.preprepareHashChunks(pp));
  }

  static Map<NodeId, Node> cluster() {
    Map<NodeId, Node> nodes = new LinkedHashMap<>();
    for (NodeId n : NODES) {
      Node node = new Node(n);
      node.apply(PbftEvents.init());
      nodes.put(n, node);
    }
    return nodes;
  }

  /**
   * Delivers the Sends among {@code actions} (and everything they cause) to the live nodes, in FIFO
   * order, and returns every action taken meanwhile per node (timers are not fired).
   */
  static Map<NodeId, List<Action>> route(
      Map<NodeId, Node> nodes, Set<NodeId> live, NodeId from, List<Action> actions) {
    Map<NodeId, List<Action>> seen = new LinkedHashMap<>();
    record InFlight(NodeId from, NodeId to, PbftMessage msg) {}
    Deque<InFlight> q = new ArrayDeque<>();
    java.util.function.BiConsumer<NodeId, List<Action>> enqueue =
        (f, acts) -> {
          for (Action a : acts) {
            if (a instanceof Send s) {
              for (NodeId to : s.to()) {
                q.add(new InFlight(f, to, s.msg()));
              }
            }
          }
        };
    enqueue.accept(from, actions);
    while (!q.isEmpty()) {
      InFlight m = q.poll();
      if (!live.contains(m.to())) {
        continue;
      }
      List<Action> acts = nodes.get(m.to()).receive(m.from(), m.msg());
      seen.computeIfAbsent(m.to(), k -> new ArrayList<>()).addAll(acts);
      enqueue.accept(m.to(), acts);
    }
    return seen;
  }

  static <T extends Action> List<T> only(List<Action> actions, Class<T> type) {
    List<T> out = new ArrayList<>();
    for (Action a : actions) {
      if (type.isInstance(a)) {
        out.add(type.cast(a));
      }
    }
    return out;
  }

  static PbftMessage pp(long sn, long view, ByteString cert) {
    return PbftMessage.newBuilder()
        .setPreprepare(Preprepare.newBuilder().setSn(sn).setView(view).setCertData(cert))
        .build();
  }

  static PbftMessage prepare(long sn, long view, ByteString d) {
    return PbftMessage.newBuilder()
        .setPrepare(Prepare.newBuilder().setSn(sn).setView(view).setDigest(d))
        .build();
  }

  static PbftMessage commit(long sn, long view, ByteString d) {
    return PbftMessage.newBuilder()
        .setCommit(Commit.newBuilder().setSn(sn).setView(view).setDigest(d))
        .build();
  }

  static PbftEvent snTimeout(long view, long committed) {
    return PbftEvent.newBuilder()
        .setViewChangeSnTimeout(VcSnTimeout.newBuilder().setView(view).setNumCommitted(committed))
        .build();
  }

  static ByteString bytes(String hex) {
    return ByteString.copyFrom(HexFormat.of().parseHex(hex));
  }

  // ---------------------------------------------------------------------------------------------
  // Parameters, segment, byte layouts

  @Test
  void paramsDefaultsFollowMirFromTheProposalDelay() {
    PbftParams p = PbftParams.defaults(4);
    assertThat(p.maxProposeDelay()).isEqualTo(Duration.ofSeconds(1));
    assertThat(p.viewChangeSnTimeout()).isEqualTo(Duration.ofSeconds(4));
    assertThat(p.viewChangeSegmentTimeout()).isEqualTo(Duration.ofSeconds(8));
    assertThat(p.doneResendPeriod()).isEqualTo(Duration.ofSeconds(1));
    assertThat(p.catchUpDelay()).isEqualTo(Duration.ofSeconds(1));
    assertThat(p.viewChangeResendPeriod()).isEqualTo(Duration.ofSeconds(1));
    assertThat(p.msgBufCapacity()).isEqualTo(32 * 1024 * 1024);
    assertThatThrownBy(() -> PbftParams.fromMaxProposeDelay(Duration.ZERO, 4))
        .hasMessageContaining("maxProposeDelay");
    assertThatThrownBy(() -> PbftParams.defaults(0)).hasMessageContaining("segmentLength");
    assertThatThrownBy(() -> p.withMsgBufCapacity(-1)).hasMessageContaining("msgBufCapacity");
  }

  @Test
  void segmentQuorumsPrimariesAndValidation() {
    assertThat(SEGMENT.f()).isEqualTo(1);
    assertThat(SEGMENT.strongQuorum()).isEqualTo(3);
    assertThat(SEGMENT.weakQuorum()).isEqualTo(2);
    Segment single = new Segment(EpochNr.ZERO, 0, N0, List.of(N0), List.of(SeqNr.ZERO));
    assertThat(single.strongQuorum()).isEqualTo(1);
    Segment led2 = new Segment(EpochNr.ZERO, 0, N2, NODES, SNS);
    assertThat(List.of(led2.primary(0), led2.primary(1), led2.primary(2), led2.primary(6)))
        .containsExactly(N2, N3, N0, N0);
    assertThatThrownBy(() -> new Segment(EpochNr.ZERO, 0, NodeId.of("9"), NODES, SNS))
        .hasMessageContaining("leader");
    assertThatThrownBy(
            () -> new Segment(EpochNr.ZERO, 0, N0, NODES, List.of(SeqNr.of(4), SeqNr.of(0))))
        .hasMessageContaining("ascending");
    assertThatThrownBy(() -> new Segment(EpochNr.ZERO, 0, N0, List.of(N0, N0), SNS))
        .hasMessageContaining("duplicates");
    assertThatThrownBy(
            () -> new PbftOrderer(NodeId.of("9"), SEGMENT, PARAMS, new RecordingContext()))
        .hasMessageContaining("not a member");
  }

  @Test
  void preprepareDigestIsTheHashOfSnAbortedByteAndCertDataWithoutTheView() {
    Preprepare p = Preprepare.newBuilder().setSn(0x0102).setView(9).setCertData(C1).build();
    ByteArrayOutputStream expected = new ByteArrayOutputStream();
    expected.writeBytes(HexFormat.of().parseHex("0201000000000000" + "00"));
    expected.writeBytes(C1.toByteArray());
    assertThat(ByteString.copyFrom(expected.toByteArray()))
        .isEqualTo(ByteString.copyFrom(PbftData.preprepareHashChunks(p)));
    assertThat(
            PbftData.preprepareHashChunks(
                p.toBuilder().setAborted(true).setCertData(ByteString.EMPTY).build()))
        .containsExactly(bytes("0201000000000000"), bytes("01"), ByteString.EMPTY);
    assertThat(digest(p)).isEqualTo(digest(PbftData.copyToView(p, 3)));
  }

  @Test
  void viewChangeSignatureDataIsViewThenPEntriesThenQEntries() {
    ViewChange vc =
        ViewChange.newBuilder()
            .setView(2)
            .addPSet(PSetEntry.newBuilder().setSn(4).setView(1).setDigest(bytes("aa")))
            .addQSet(QSetEntry.newBuilder().setSn(0).setView(0).setDigest(bytes("bb")))
            .addQSet(QSetEntry.newBuilder().setSn(4).setView(1).setDigest(bytes("aa")))
            .build();
    assertThat(PbftData.viewChangeSigData(vc))
        .containsExactly(
            bytes("0200000000000000"),
            bytes("0400000000000000"),
            bytes("0100000000000000"),
            bytes("aa"),
            bytes("0000000000000000"),
            bytes("0000000000000000"),
            bytes("bb"),
            bytes("0400000000000000"),
            bytes("0100000000000000"),
            bytes("aa"));
  }

  // ---------------------------------------------------------------------------------------------
  // Good case

  @Test
  void initArmsTheViewTimersAndTheProposalTimer() {
    Node n = new Node(N1);
    List<Action> out = n.apply(PbftEvents.init());
    assertThat(out)
        .containsExactly(
            new Delay(Duration.ofSeconds(4), snTimeout(0, 0)),
            new Delay(
                Duration.ofSeconds(8), PbftEvent.newBuilder().setViewChangeSegTimeout(0).build()),
            new Delay(Duration.ofSeconds(1), PbftEvent.newBuilder().setProposeTimeout(1).build()),
            new Repeat(Duration.ofSeconds(1), PbftEvent.newBuilder().setResendTick(true).build()));
    assertThatThrownBy(() -> n.o.apply(PbftEvents.init()))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void theLeaderRequestsACertificatePerProposalTimeoutAndProposesItForTheNextSn() {
    Node leader = new Node(N0);
    leader.apply(PbftEvents.init());
    assertThat(leader.apply(PbftEvent.newBuilder().setProposeTimeout(1).build()))
        .containsExactly(new CertRequest());
    // No second request while one is outstanding, nor for an old timeout.
    assertThat(leader.apply(PbftEvent.newBuilder().setProposeTimeout(1).build())).isEmpty();
    List<Action> out = leader.apply(PbftEvents.certReady(C1));
    Preprepare expected = pp(0, 0, C1).getPreprepare();
    Send send = new Send(pp(0, 0, C1), NODES);
    Delay next =
        new Delay(Duration.ofSeconds(1), PbftEvent.newBuilder().setProposeTimeout(2).build());
    assertThat(out)
        .containsExactly(
            new Wal(
                PbftEvent.newBuilder().setPersistPreprepare(expected).build(), List.of(send, next)),
            send,
            next);
    assertThat(leader.apply(PbftEvent.newBuilder().setProposeTimeout(2).build()))
        .containsExactly(new CertRequest());
    assertThat(only(leader.apply(PbftEvents.certReady(C2)), Send.class))
        .containsExactly(new Send(pp(4, 0, C2), NODES));
    // An unrequested certificate is ignored.
    assertThat(leader.apply(PbftEvents.certReady(C2))).isEmpty();
  }

  @Test
  void onlyTheLeaderProposes() {
    Node n = new Node(N1);
    n.apply(PbftEvents.init());
    assertThat(n.apply(PbftEvent.newBuilder().setProposeTimeout(1).build())).isEmpty();
  }

  @Test
  void aReplicaPreparesCommitsAndDeliversWithStrongQuorums() {
    Node n = new Node(N1);
    n.apply(PbftEvents.init());
    n.autoCrypto = false;
    List<Action> out = n.receive(N0, pp(4, 0, C1));
    Hash hash = (Hash) out.get(0);
    assertThat(hash.data().get(0).getDataList())
        .containsExactly(bytes("0400000000000000"), bytes("00"), C1);
    n.autoCrypto = true;
    n.o.apply(PbftEvents.hashResult(digests(hash.data()), hash.origin()));
    ByteString d = digest(pp(4, 0, C1).getPreprepare());
    out = n.pump();
    assertThat(out.get(0)).isInstanceOf(Wal.class);
    assertThat(((Wal) out.get(0)).entry().getPersistPrepare().getDigest()).isEqualTo(d);
    assertThat(only(out, Send.class)).containsExactly(new Send(prepare(4, 0, d), NODES));
    assertThat(n.receive(N0, prepare(4, 0, d))).isEmpty();
    // A Prepare with another digest does not count, nor a second one from the same node.
    assertThat(n.receive(N2, prepare(4, 0, digest(pp(4, 0, C2).getPreprepare())))).isEmpty();
    assertThat(n.receive(N2, prepare(4, 0, d))).isEmpty();
    assertThat(n.receive(N1, prepare(4, 0, d))).isEmpty();
    out = n.receive(N3, prepare(4, 0, d));
    assertThat(only(out, Send.class)).containsExactly(new Send(commit(4, 0, d), NODES));
    assertThat(n.receive(N0, commit(4, 0, d))).isEmpty();
    assertThat(n.receive(N1, commit(4, 0, d))).isEmpty();
    out = n.receive(N3, commit(4, 0, d));
    assertThat(out)
        .containsExactly(
            new Delay(Duration.ofSeconds(4), snTimeout(0, 1)), new Deliver(SeqNr.of(4), C1, false));
    assertThat(n.o.deliveredCount()).isEqualTo(1);
    // Later messages for the committed slot change nothing.
    assertThat(n.receive(N2, commit(4, 0, d))).isEmpty();
    assertThat(n.o.rejectedMessages()).isZero();
  }

  @Test
  void votesArrivingBeforeThePreprepareCountOnceItIsHashed() {
    Node n = new Node(N2);
    n.apply(PbftEvents.init());
    ByteString d = digest(pp(0, 0, C1).getPreprepare());
    for (NodeId from : List.of(N0, N1, N3)) {
      n.receive(from, prepare(0, 0, d));
      n.receive(from, commit(0, 0, d));
    }
    List<Action> out = n.receive(N0, pp(0, 0, C1));
    assertThat(only(out, Send.class)).hasSize(2); // Prepare, then Commit
    n.receive(N2, commit(0, 0, d)); // its own commit completes the quorum with the others
    assertThat(n.o.deliveredCount()).isEqualTo(1);
  }

  @Test
  void invalidGoodCaseMessagesAreRejectedWithoutEffect() {
    Node n = new Node(N1);
    n.apply(PbftEvents.init());
    List<PbftEvent> bad =
        List.of(
            PbftEvents.messageReceived(N2, pp(0, 0, C1)), // not the primary
            PbftEvents.messageReceived("9", pp(0, 0, C1)), // not a member
            PbftEvents.messageReceived("", pp(0, 0, C1)), // not even a node ID
            PbftEvents.messageReceived(N0, pp(1, 0, C1)), // sn not in the segment
            PbftEvents.messageReceived(N0, pp(0, 33, C1)), // view too far ahead
            PbftEvents.messageReceived(N0, pp(0, -5, C1)), // "negative" view
            PbftEvents.messageReceived(
                N0,
                PbftMessage.newBuilder()
                    .setPreprepare(
                        Preprepare.newBuilder().setSn(0).setAborted(true).setCertData(C1))
                    .build()), // aborted with data
            PbftEvents.messageReceived(N0, prepare(0, 0, ByteString.EMPTY)),
            PbftEvents.messageReceived(N0, commit(0, 0, ByteString.copyFrom(new byte[65]))),
            PbftEvents.messageReceived(N0, PbftMessage.getDefaultInstance()));
    for (PbftEvent e : bad) {
      assertThat(n.apply(e)).isEmpty();
    }
    assertThat(n.o.rejectedMessages()).isEqualTo(bad.size());
    // A second Preprepare for the same slot is ignored (not hashed).
    n.autoCrypto = false;
    assertThat(n.receive(N0, pp(0, 0, C1))).hasSize(1);
    assertThat(n.receive(N0, pp(0, 0, C2))).isEmpty();
  }

  @Test
  void aCertificateArrivingAfterTheViewChangedIsNotProposed() {
    Node leader = new Node(N0);
    leader.apply(PbftEvents.init());
    assertThat(leader.apply(PbftEvent.newBuilder().setProposeTimeout(1).build()))
        .containsExactly(new CertRequest());
    leader.autoCrypto = false;
    leader.apply(snTimeout(0, 0));
    assertThat(leader.o.view()).isEqualTo(1);
    assertThat(leader.apply(PbftEvents.certReady(C1))).isEmpty();
    // No fresh proposals after view 0.
    assertThat(leader.apply(PbftEvent.newBuilder().setProposeTimeout(2).build())).isEmpty();
  }

  @Test
  void preprepareAndCatchUpRequestsAreAnsweredOnlyForKnownPreprepares() {
    Node n = new Node(N2);
    n.apply(PbftEvents.init());
    n.receive(N0, pp(8, 0, C1));
    ByteString d = digest(pp(8, 0, C1).getPreprepare());
    PbftMessage ppReq =
        PbftMessage.newBuilder()
            .setPreprepareRequest(PreprepareRequest.newBuilder().setSn(8).setDigest(d))
            .build();
    assertThat(n.receive(N1, ppReq))
        .containsExactly(
            new Send(
                PbftMessage.newBuilder().setMissingPreprepare(pp(8, 0, C1).getPreprepare()).build(),
                List.of(N1)));
    PbftMessage cuReq =
        PbftMessage.newBuilder()
            .setCatchUpRequest(CatchUpRequest.newBuilder().setSn(8).setDigest(d))
            .build();
    assertThat(n.receive(N3, cuReq))
        .containsExactly(
            new Send(
                PbftMessage.newBuilder().setCatchUpResponse(pp(8, 0, C1).getPreprepare()).build(),
                List.of(N3)));
    // Unknown digest: no answer; foreign sn or malformed digest: rejected.
    ByteString other = digest(pp(8, 0, C2).getPreprepare());
    assertThat(
            n.receive(
                N1,
                ppReq.toBuilder()
                    .setPreprepareRequest(PreprepareRequest.newBuilder().setSn(8).setDigest(other))
                    .build()))
        .isEmpty();
    assertThat(n.o.rejectedMessages()).isZero();
    assertThat(
            n.receive(
                N1,
                ppReq.toBuilder()
                    .setPreprepareRequest(PreprepareRequest.newBuilder().setSn(9).setDigest(d))
                    .build()))
        .isEmpty();
    assertThat(
            n.receive(
                N1,
                cuReq.toBuilder().setCatchUpRequest(CatchUpRequest.newBuilder().setSn(8)).build()))
        .isEmpty();
    assertThat(n.o.rejectedMessages()).isEqualTo(2);
    // A MissingPreprepare nobody asked for is ignored without hashing.
    n.autoCrypto = false;
    assertThat(
            n.receive(
                N1,
                PbftMessage.newBuilder()
                    .setMissingPreprepare(pp(8, 0, C1).getPreprepare())
                    .build()))
        .isEmpty();
  }

  @Test
  void viewChangeTimeoutsDoublePerViewUpToACap() {
    Duration base = Duration.ofSeconds(4);
    assertThat(PbftOrderer.timeout(base, 0)).isEqualTo(base);
    assertThat(PbftOrderer.timeout(base, 3)).isEqualTo(Duration.ofSeconds(32));
    assertThat(PbftOrderer.timeout(base, 1000)).isEqualTo(base.multipliedBy(1 << 20));
  }

  @Test
  void localEventsWithoutTypeOrOriginAreBugs() {
    Node n = new Node(N1);
    assertThatThrownBy(() -> n.o.apply(PbftEvent.getDefaultInstance()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () ->
                n.o.apply(
                    PbftEvents.hashResult(
                        List.of(),
                        io.github.mirframework.iss.pbft.pb.PbftHashOrigin.getDefaultInstance())))
        .isInstanceOf(IllegalArgumentException.class);
  }

  // ---------------------------------------------------------------------------------------------
  // Whole segment in the good case, Done, stability, catch-up

  /** Runs the leader's four proposals through the live nodes; returns all actions per node. */
  static Map<NodeId, List<Action>> proposeAll(Map<NodeId, Node> nodes, Set<NodeId> live) {
    Map<NodeId, List<Action>> all = new LinkedHashMap<>();
    Node leader = nodes.get(N0);
    for (int k = 1; k <= 4; k++) {
      leader.apply(PbftEvent.newBuilder().setProposeTimeout(k).build());
      List<Action> out = leader.apply(PbftEvents.certReady(ByteString.copyFromUtf8("cert " + k)));
      route(nodes, live, N0, out)
          .forEach((id, a) -> all.computeIfAbsent(id, x -> new ArrayList<>()).addAll(a));
    }
    return all;
  }

  @Test
  void afterTheLastCommitANodeBroadcastsDoneRepeatedlyAndBecomesStable() {
    Map<NodeId, Node> nodes = cluster();
    Map<NodeId, List<Action>> out = proposeAll(nodes, Set.copyOf(NODES));
    for (NodeId id : NODES) {
      List<Action> acts = out.get(id);
      assertThat(only(acts, Deliver.class)).hasSize(4);
      assertThat(only(acts, Repeat.class))
          .containsExactly(
              new Repeat(
                  Duration.ofSeconds(1), PbftEvent.newBuilder().setResendDone(true).build()));
      List<Send> dones = only(acts, Send.class).stream().filter(s -> s.msg().hasDone()).toList();
      assertThat(dones).hasSize(1);
      List<ByteString> expected = new ArrayList<>();
      for (int k = 1; k <= 4; k++) {
        expected.add(
            digest(
                pp(SNS.get(k - 1).value(), 0, ByteString.copyFromUtf8("cert " + k))
                    .getPreprepare()));
      }
      assertThat(dones.get(0).msg().getDone().getDigestsList()).isEqualTo(expected);
      assertThat(nodes.get(id).o.isStable()).isTrue();
      // Stable: timeouts no longer start view changes; resending goes on.
      assertThat(nodes.get(id).apply(snTimeout(0, 4))).isEmpty();
      assertThat(nodes.get(id).apply(PbftEvent.newBuilder().setViewChangeSegTimeout(0).build()))
          .isEmpty();
      assertThat(
              only(
                  nodes.get(id).apply(PbftEvent.newBuilder().setResendDone(true).build()),
                  Send.class))
          .containsExactly(dones.get(0));
    }
  }

  @Test
  void aNodeThatMissedEverythingCatchesUpFromAWeakQuorumOfDoneMessages() {
    Map<NodeId, Node> nodes = cluster();
    Set<NodeId> live = Set.of(N0, N1, N2);
    Map<NodeId, List<Action>> out = proposeAll(nodes, live);
    Send done =
        only(out.get(N0), Send.class).stream()
            .filter(s -> s.msg().hasDone())
            .findFirst()
            .orElseThrow();
    Node late = nodes.get(N3);
    // A response before any Done is unsolicited.
    assertThat(
            late.receive(
                N0,
                PbftMessage.newBuilder().setCatchUpResponse(pp(0, 0, C1).getPreprepare()).build()))
        .isEmpty();
    assertThat(late.o.rejectedMessages()).isEqualTo(1);
    assertThat(late.receive(N0, done.msg())).isEmpty();
    assertThat(late.receive(N1, done.msg()))
        .containsExactly(
            new Delay(Duration.ofSeconds(1), PbftEvent.newBuilder().setCatchUpStart(true).build()));
    assertThat(late.receive(N2, done.msg())).isEmpty(); // only once
    List<Action> start = late.apply(PbftEvent.newBuilder().setCatchUpStart(true).build());
    List<Send> requests = only(start, Send.class);
    assertThat(requests).hasSize(4);
    assertThat(requests.get(0))
        .isEqualTo(
            new Send(
                PbftMessage.newBuilder()
                    .setCatchUpRequest(
                        CatchUpRequest.newBuilder()
                            .setSn(0)
                            .setDigest(done.msg().getDone().getDigests(0)))
                    .build(),
                List.of(N0, N1, N2)));
    assertThat(only(start, Repeat.class)).hasSize(1);
    // A forged response does not match the Done digest.
    PbftMessage forged =
        PbftMessage.newBuilder().setCatchUpResponse(pp(0, 0, C2).getPreprepare()).build();
    assertThat(late.receive(N1, forged)).noneMatch(a -> a instanceof Deliver);
    assertThat(late.o.rejectedMessages()).isEqualTo(2);
    // The real answers complete the segment.
    Map<NodeId, List<Action>> answers = route(nodes, Set.copyOf(NODES), N3, List.copyOf(requests));
    List<Deliver> delivered = only(answers.get(N3), Deliver.class);
    assertThat(delivered).hasSize(4);
    assertThat(delivered.get(0))
        .isEqualTo(new Deliver(SeqNr.of(0), ByteString.copyFromUtf8("cert 1"), false));
    assertThat(late.o.deliveredCount()).isEqualTo(4);
    // Nothing left to ask.
    assertThat(late.apply(PbftEvent.newBuilder().setCatchUpTick(true).build()))
        .noneMatch(a -> a instanceof Send s && s.msg().hasCatchUpRequest());
  }

  @Test
  void malformedDoneMessagesAreRejected() {
    Node n = new Node(N1);
    n.apply(PbftEvents.init());
    ByteString d = ByteString.copyFrom(new byte[32]);
    assertThat(
            n.receive(
                N0, PbftMessage.newBuilder().setDone(Done.newBuilder().addDigests(d)).build()))
        .isEmpty();
    assertThat(
            n.receive(
                N0,
                PbftMessage.newBuilder()
                    .setDone(
                        Done.newBuilder()
                            .addDigests(d)
                            .addDigests(d)
                            .addDigests(d)
                            .addDigests(ByteString.EMPTY))
                    .build()))
        .isEmpty();
    assertThat(n.o.rejectedMessages()).isEqualTo(2);
    // One Byzantine node alone cannot trigger catch-up, however often it sends.
    PbftMessage done =
        PbftMessage.newBuilder()
            .setDone(Done.newBuilder().addDigests(d).addDigests(d).addDigests(d).addDigests(d))
            .build();
    assertThat(n.receive(N3, done)).isEmpty();
    assertThat(n.receive(N3, done)).isEmpty();
  }

  // ---------------------------------------------------------------------------------------------
  // View change

  /**
   * Node 0 proposes C1 for sn 0; every node prepares it but no Commit gets through; then node 0 is
   * gone. Returns the cluster.
   */
  static Map<NodeId, Node> preparedButNotCommitted() {
    Map<NodeId, Node> nodes = cluster();
    Node leader = nodes.get(N0);
    leader.apply(PbftEvent.newBuilder().setProposeTimeout(1).build());
    List<Action> out = leader.apply(PbftEvents.certReady(C1));
    ByteString d = digest(pp(0, 0, C1).getPreprepare());
    for (NodeId id : NODES) {
      nodes.get(id).receive(N0, pp(0, 0, C1));
    }
    for (NodeId id : NODES) {
      for (NodeId from : NODES) {
        nodes.get(id).receive(from, prepare(0, 0, d));
      }
    }
    assertThat(out).isNotEmpty();
    return nodes;
  }

  @Test
  void aTimeoutStartsAViewChangeWithPAndQSetsSignedAndResentToTheNewPrimary() {
    Map<NodeId, Node> nodes = preparedButNotCommitted();
    Node n = nodes.get(N2);
    ByteString d = digest(pp(0, 0, C1).getPreprepare());
    n.autoCrypto = false;
    assertThat(n.apply(snTimeout(0, 1))).isEmpty(); // stale: the count differs
    assertThat(n.apply(PbftEvent.newBuilder().setViewChangeSegTimeout(5).build())).isEmpty();
    List<Action> out = n.apply(snTimeout(0, 0));
    assertThat(n.o.view()).isEqualTo(1);
    assertThat(n.o.inViewChange()).isTrue();
    assertThat(out.get(0)).isEqualTo(new Delay(Duration.ofSeconds(8), snTimeout(1, 0)));
    assertThat(out.get(1))
        .isEqualTo(
            new Delay(
                Duration.ofSeconds(16), PbftEvent.newBuilder().setViewChangeSegTimeout(1).build()));
    Sign sign = (Sign) out.get(2);
    ViewChange vc = sign.origin().getViewChange();
    assertThat(vc)
        .isEqualTo(
            ViewChange.newBuilder()
                .setView(1)
                .addPSet(PSetEntry.newBuilder().setSn(0).setView(0).setDigest(d))
                .addQSet(QSetEntry.newBuilder().setSn(0).setView(0).setDigest(d))
                .build());
    assertThat(sign.data()).isEqualTo(PbftData.viewChangeSigData(vc));
    n.autoCrypto = true;
    n.o.apply(PbftEvents.signResult(KEYS.get(N2).sign(sign.data()), sign.origin()));
    out = n.pump();
    SignedViewChange svc =
        SignedViewChange.newBuilder()
            .setViewChange(vc)
            .setSignature(KEYS.get(N2).sign(sign.data()))
            .build();
    Send toPrimary =
        new Send(PbftMessage.newBuilder().setSignedViewChange(svc).build(), List.of(N1));
    Repeat resend =
        new Repeat(Duration.ofSeconds(1), PbftEvent.newBuilder().setResendViewChange(1).build());
    assertThat(out)
        .containsExactly(
            new Wal(
                PbftEvent.newBuilder().setPersistSignedViewChange(svc).build(),
                List.of(toPrimary, resend)),
            toPrimary,
            resend);
    assertThat(n.apply(PbftEvent.newBuilder().setResendViewChange(1).build()))
        .containsExactly(toPrimary);
    // Messages of view 1 wait for the NewView; messages of view 0 are now old.
    assertThat(n.receive(N1, prepare(4, 1, d))).isEmpty();
    assertThat(n.receive(N1, commit(0, 0, d))).isEmpty();
    assertThat(n.o.rejectedMessages()).isZero();
  }

  /** Starts a view change at the given nodes and routes their ViewChanges. */
  static Map<NodeId, List<Action>> viewChange(
      Map<NodeId, Node> nodes, Set<NodeId> live, List<NodeId> changing) {
    Map<NodeId, List<Action>> all = new LinkedHashMap<>();
    for (NodeId id : changing) {
      List<Action> out = nodes.get(id).apply(snTimeout(0, nodes.get(id).o.deliveredCount()));
      route(nodes, live, id, out)
          .forEach((k, a) -> all.computeIfAbsent(k, x -> new ArrayList<>()).addAll(a));
    }
    return all;
  }

  @Test
  void theNewPrimaryReproposesWhatWasPreparedAbortsTheRestAndReplicasCommitIt() {
    Map<NodeId, Node> nodes = preparedButNotCommitted();
    Set<NodeId> live = Set.of(N1, N2, N3);
    Map<NodeId, List<Action>> out = viewChange(nodes, live, List.of(N1, N2, N3));
    for (NodeId id : live) {
      assertThat(nodes.get(id).o.view()).isEqualTo(1);
      assertThat(nodes.get(id).o.inViewChange()).isFalse();
      List<Deliver> delivered = only(out.get(id), Deliver.class);
      assertThat(delivered)
          .containsExactlyInAnyOrder(
              new Deliver(SeqNr.of(0), C1, false),
              new Deliver(SeqNr.of(4), ByteString.EMPTY, true),
              new Deliver(SeqNr.of(8), ByteString.EMPTY, true),
              new Deliver(SeqNr.of(12), ByteString.EMPTY, true));
    }
    Send newView =
        only(out.get(N1), Send.class).stream()
            .filter(s -> s.msg().hasNewView())
            .findFirst()
            .orElseThrow();
    NewView nv = newView.msg().getNewView();
    assertThat(nv.getViewChangeSendersList()).containsExactly("1", "2", "3");
    assertThat(nv.getPreprepareSeqNrsList()).containsExactly(0L, 4L, 8L, 12L);
    assertThat(nv.getPreprepares(0)).isEqualTo(pp(0, 1, C1).getPreprepare());
    assertThat(nv.getPreprepares(1))
        .isEqualTo(Preprepare.newBuilder().setSn(4).setView(1).setAborted(true).build());
    assertThat(newView.to()).isEqualTo(NODES);
    // A NewView for a view already installed is ignored; the late leader can still join.
    assertThat(nodes.get(N2).receive(N1, newView.msg())).isEmpty();
    // The view is installed: no more resending of the ViewChange.
    assertThat(nodes.get(N2).apply(PbftEvent.newBuilder().setResendViewChange(1).build()))
        .isEmpty();
    Map<NodeId, List<Action>> late = route(nodes, Set.copyOf(NODES), N1, List.of(newView));
    assertThat(nodes.get(N0).o.view()).isEqualTo(1);
    assertThat(late.get(N0)).anyMatch(a -> a instanceof Send s && s.msg().hasPrepare());
  }

  @Test
  void aNodeThatCommittedInAnEarlierViewVotesForTheReproposalSoTheOthersCanCommit() {
    Map<NodeId, Node> nodes = preparedButNotCommitted();
    ByteString d = digest(pp(0, 0, C1).getPreprepare());
    Node n1 = nodes.get(N1);
    for (NodeId from : List.of(N0, N2, N3)) {
      n1.receive(from, commit(0, 0, d));
    }
    assertThat(n1.o.deliveredCount()).isEqualTo(1);
    // Node 0 is gone: nodes 2 and 3 can only commit sn 0 in view 1 with node 1's votes.
    Map<NodeId, List<Action>> out = viewChange(nodes, Set.of(N1, N2, N3), List.of(N1, N2, N3));
    for (NodeId id : List.of(N2, N3)) {
      assertThat(only(out.get(id), Deliver.class)).contains(new Deliver(SeqNr.of(0), C1, false));
    }
    assertThat(only(out.get(N1), Send.class))
        .contains(new Send(prepare(0, 1, d), NODES), new Send(commit(0, 1, d), NODES));
    assertThat(only(out.get(N1), Deliver.class))
        .doesNotContain(new Deliver(SeqNr.of(0), C1, false));
    assertThat(n1.o.deliveredCount()).isEqualTo(4);
  }

  @Test
  void aNodeThatDidNotTimeOutEntersTheNewViewAndAppliesBufferedMessages() {
    Map<NodeId, Node> nodes = preparedButNotCommitted();
    // Node 3 receives view-1 votes before any NewView: they are buffered.
    ByteString dAborted =
        digest(Preprepare.newBuilder().setSn(4).setView(1).setAborted(true).build());
    Node n3 = nodes.get(N3);
    assertThat(n3.receive(N1, prepare(4, 1, dAborted))).isEmpty();
    assertThat(n3.receive(N2, prepare(4, 1, dAborted))).isEmpty();
    Map<NodeId, List<Action>> out = viewChange(nodes, Set.of(N1, N2), List.of(N1, N2));
    // Only two ViewChanges: not enough for a NewView.
    assertThat(nodes.get(N1).o.inViewChange()).isTrue();
    assertThat(out.getOrDefault(N1, List.of()))
        .noneMatch(a -> a instanceof Send s && s.msg().hasNewView());
    out = viewChange(nodes, Set.of(N1, N2, N3), List.of(N3));
    assertThat(nodes.get(N3).o.view()).isEqualTo(1);
    assertThat(only(out.get(N3), Deliver.class)).hasSize(4);
  }

  @Test
  void viewChangesThatAreMalformedMisaddressedOrBadlySignedAreRejected() {
    Node primary = new Node(N1);
    primary.apply(PbftEvents.init());
    ViewChange vc = ViewChange.newBuilder().setView(1).build();
    java.util.function.BiFunction<NodeId, ViewChange, PbftMessage> signed =
        (signer, v) ->
            PbftMessage.newBuilder()
                .setSignedViewChange(
                    SignedViewChange.newBuilder()
                        .setViewChange(v)
                        .setSignature(KEYS.get(signer).sign(PbftData.viewChangeSigData(v))))
                .build();
    ByteString d = ByteString.copyFrom(new byte[32]);
    List<PbftMessage> bad =
        List.of(
            signed.apply(
                N2, ViewChange.newBuilder().setView(2).build()), // node 1 is not primary of 2
            signed.apply(N2, ViewChange.newBuilder().setView(0).build()), // view 0
            signed.apply(N2, ViewChange.newBuilder().setView(33).build()), // too far ahead
            signed.apply(
                N2, vc.toBuilder().addPSet(PSetEntry.newBuilder().setSn(1).setDigest(d)).build()),
            signed.apply(
                N2,
                vc.toBuilder()
                    .addPSet(PSetEntry.newBuilder().setSn(0).setView(1).setDigest(d))
                    .build()),
            signed.apply(
                N2,
                vc.toBuilder()
                    .addQSet(QSetEntry.newBuilder().setSn(0).setDigest(d))
                    .addQSet(QSetEntry.newBuilder().setSn(0).setDigest(d))
                    .build()),
            signed.apply(N2, vc.toBuilder().addPSet(PSetEntry.newBuilder().setSn(0)).build()),
            PbftMessage.newBuilder()
                .setSignedViewChange(SignedViewChange.newBuilder().setViewChange(vc))
                .build(),
            PbftMessage.newBuilder()
                .setSignedViewChange(SignedViewChange.getDefaultInstance())
                .build());
    for (PbftMessage m : bad) {
      assertThat(primary.receive(N2, m)).isEmpty();
    }
    assertThat(primary.o.rejectedMessages()).isEqualTo(bad.size());
    // Signed by node 3 but received from node 2: the signature check fails and it does not count.
    List<Action> out = primary.receive(N2, signed.apply(N3, vc));
    assertThat(only(out, Verify.class)).hasSize(1);
    assertThat(primary.o.rejectedMessages()).isEqualTo(bad.size() + 1);
    // Node 2 signed badly once for view 1: its later ViewChanges for view 1 are not checked.
    assertThat(primary.receive(N2, signed.apply(N2, vc))).isEmpty();
    assertThat(primary.o.rejectedMessages()).isEqualTo(bad.size() + 2);
    primary.receive(N3, signed.apply(N3, vc));
    out = primary.receive(N3, signed.apply(N3, vc)); // duplicate: not even verified
    assertThat(out).isEmpty();
    primary.receive(N0, signed.apply(N0, vc));
    out = primary.receive(N1, signed.apply(N1, vc));
    assertThat(out).anyMatch(a -> a instanceof Send s && s.msg().hasNewView());
  }

  @Test
  void aPrimaryLackingAPreprepareAsksTheNodesThatHaveItButItself() {
    Map<NodeId, Node> nodes = preparedButNotCommitted();
    // Node 1 never got the Preprepare: simulate with a fresh node 1.
    Node fresh = new Node(N1);
    fresh.apply(PbftEvents.init());
    nodes.put(N1, fresh);
    Set<NodeId> live = Set.of(N1, N2, N3);
    List<Action> vcs = new ArrayList<>();
    for (NodeId id : List.of(N2, N3)) {
      vcs.addAll(nodes.get(id).apply(snTimeout(0, 0)));
    }
    // Deliver the two ViewChanges and node 1's own (empty) one, but hold back everything else.
    List<Action> atPrimary = new ArrayList<>();
    Send vc2 = findVc(vcs, 0);
    Send vc3 = findVc(vcs, 1);
    atPrimary.addAll(fresh.receive(N2, vc2.msg()));
    atPrimary.addAll(fresh.receive(N3, vc3.msg()));
    atPrimary.addAll(fresh.apply(snTimeout(0, 0)));
    // The own ViewChange comes back through the network to the primary itself.
    Send own =
        only(atPrimary, Send.class).stream()
            .filter(s -> s.msg().hasSignedViewChange())
            .findFirst()
            .orElseThrow();
    List<Action> out = fresh.receive(N1, own.msg());
    ByteString d = digest(pp(0, 0, C1).getPreprepare());
    Send request =
        new Send(
            PbftMessage.newBuilder()
                .setPreprepareRequest(PreprepareRequest.newBuilder().setSn(0).setDigest(d))
                .build(),
            List.of(N2, N3));
    assertThat(only(out, Send.class)).containsExactly(request);
    // A wrong answer is rejected; the right one completes the NewView.
    assertThat(
            fresh.receive(
                N2,
                PbftMessage.newBuilder()
                    .setMissingPreprepare(pp(0, 0, C2).getPreprepare())
                    .build()))
        .noneMatch(a -> a instanceof Send);
    Map<NodeId, List<Action>> answered = route(nodes, live, N1, List.of(request));
    assertThat(only(answered.get(N1), Send.class)).anyMatch(s -> s.msg().hasNewView());
    assertThat(only(answered.get(N2), Deliver.class)).contains(new Deliver(SeqNr.of(0), C1, false));
  }

  static Send findVc(List<Action> actions, int index) {
    return only(actions, Send.class).stream()
        .filter(s -> s.msg().hasSignedViewChange())
        .skip(index)
        .findFirst()
        .orElseThrow();
  }

  @Test
  void newViewsThatAreForgedIncompleteOrUnjustifiedAreRejected() {
    Map<NodeId, Node> nodes = preparedButNotCommitted();
    Map<NodeId, List<Action>> out = viewChange(nodes, Set.of(N1, N2, N3), List.of(N1, N2, N3));
    NewView good =
        only(out.get(N1), Send.class).stream()
            .filter(s -> s.msg().hasNewView())
            .findFirst()
            .orElseThrow()
            .msg()
            .getNewView();
    ViewChange other = ViewChange.newBuilder().setView(2).build();
    NewView forgedSig =
        good.toBuilder()
            .setSignedViewChanges(
                0,
                good.getSignedViewChanges(0).toBuilder()
                    .setSignature(
                        KEYS.get(N3)
                            .sign(
                                PbftData.viewChangeSigData(
                                    good.getSignedViewChanges(0).getViewChange()))))
            .build();
    NewView unjustifiedData =
        good.toBuilder().setPreprepares(1, pp(4, 1, C2).getPreprepare()).build();
    NewView abortedInsteadOfPrepared =
        good.toBuilder()
            .setPreprepares(0, Preprepare.newBuilder().setSn(0).setView(1).setAborted(true).build())
            .build();
    List<NewView> bad =
        List.of(
            dropSender(good, 2),
            dropSender(good.toBuilder().removeSignedViewChanges(2).build(), 2),
            good.toBuilder().setViewChangeSenders(1, "1").build(),
            good.toBuilder()
                .setSignedViewChanges(
                    1,
                    SignedViewChange.newBuilder()
                        .setViewChange(other)
                        .setSignature(ByteString.copyFromUtf8("s")))
                .build(),
            dropSn(good.toBuilder().removePreprepares(3).build(), 3),
            good.toBuilder().setPreprepares(2, pp(8, 2, ByteString.EMPTY).getPreprepare()).build(),
            good.toBuilder().setPreprepareSeqNrs(0, 1).build(),
            forgedSig,
            unjustifiedData,
            abortedInsteadOfPrepared);
    for (NewView nv : bad) {
      Node judge = new Node(N0);
      judge.apply(PbftEvents.init());
      judge.receive(N1, PbftMessage.newBuilder().setNewView(nv).build());
      assertThat(judge.o.view()).as("%s", nv).isZero();
      assertThat(judge.o.rejectedMessages()).as("%s", nv).isEqualTo(1);
      // The primary showed it is faulty: even its good NewView is not looked at any more.
      assertThat(judge.receive(N1, PbftMessage.newBuilder().setNewView(good).build())).isEmpty();
      assertThat(judge.o.rejectedMessages()).isEqualTo(2);
    }
    Node judge = new Node(N0);
    judge.apply(PbftEvents.init());
    // From somebody else than the primary of view 1.
    judge.receive(N2, PbftMessage.newBuilder().setNewView(good).build());
    assertThat(judge.o.view()).isZero();
    // The real one is accepted.
    judge.receive(N1, PbftMessage.newBuilder().setNewView(good).build());
    assertThat(judge.o.view()).isEqualTo(1);
    assertThat(only(judge.pump(), Send.class)).isEmpty();
  }

  static NewView dropSender(NewView nv, int i) {
    List<String> senders = new ArrayList<>(nv.getViewChangeSendersList());
    senders.remove(i);
    return nv.toBuilder().clearViewChangeSenders().addAllViewChangeSenders(senders).build();
  }

  static NewView dropSn(NewView nv, int i) {
    List<Long> sns = new ArrayList<>(nv.getPreprepareSeqNrsList());
    sns.remove(i);
    return nv.toBuilder().clearPreprepareSeqNrs().addAllPreprepareSeqNrs(sns).build();
  }

  // ---------------------------------------------------------------------------------------------
  // Re-proposal rules

  static ViewChanges.Parsed parsed(ViewChange vc) {
    return (ViewChanges.Parsed) ViewChanges.parse(vc, SEGMENT);
  }

  @Test
  void reproposalRulesAbortReproposeOrWait() {
    ByteString d = ByteString.copyFrom(new byte[] {1});
    ByteString e = ByteString.copyFrom(new byte[] {2});
    ViewChange empty = ViewChange.newBuilder().setView(2).build();
    ViewChange prepared =
        empty.toBuilder()
            .addPSet(PSetEntry.newBuilder().setSn(0).setView(1).setDigest(d))
            .addQSet(QSetEntry.newBuilder().setSn(0).setView(1).setDigest(d))
            .build();
    ViewChange preprepared =
        empty.toBuilder().addQSet(QSetEntry.newBuilder().setSn(0).setView(1).setDigest(d)).build();
    ViewChange otherQ =
        empty.toBuilder().addQSet(QSetEntry.newBuilder().setSn(0).setView(0).setDigest(e)).build();
    SeqNr sn = SeqNr.ZERO;
    Map<NodeId, ViewChanges.Parsed> vcs = new LinkedHashMap<>();
    vcs.put(N0, parsed(empty));
    vcs.put(N1, parsed(empty));
    assertThat(ViewChanges.decide(vcs, sn, SEGMENT)).isNull(); // too few
    vcs.put(N2, parsed(empty));
    assertThat(ViewChanges.decide(vcs, sn, SEGMENT)).isEqualTo(ViewChanges.Decision.EMPTY);
    // One prepared, one preprepared: A1 holds, A2 holds with two Q entries.
    vcs.put(N0, parsed(prepared));
    vcs.put(N1, parsed(preprepared));
    ViewChanges.Decision dec = ViewChanges.decide(vcs, sn, SEGMENT);
    assertThat(dec.digest()).isEqualTo(d);
    assertThat(dec.prepreparedBy()).containsExactly(N0, N1);
    // Only the preparer has it in its Q set: A2 fails (nodes with another digest do not count).
    vcs.put(N1, parsed(otherQ));
    assertThat(ViewChanges.decide(vcs, sn, SEGMENT)).isNull();
    Preprepare aborted = Preprepare.newBuilder().setSn(0).setView(2).setAborted(true).build();
    assertThat(ViewChanges.justified(vcs, sn, aborted, digest(aborted), SEGMENT)).isFalse();
    vcs.put(N3, parsed(empty));
    assertThat(ViewChanges.decide(vcs, sn, SEGMENT)).isEqualTo(ViewChanges.Decision.EMPTY);
    assertThat(ViewChanges.justified(vcs, sn, aborted, digest(aborted), SEGMENT)).isTrue();
    assertThat(ViewChanges.justified(vcs, sn, pp(0, 2, C1).getPreprepare(), d, SEGMENT)).isFalse();
  }
}
