package io.github.mirframework.bcb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.github.mirframework.bcb.pb.FinalMessage;
import io.github.mirframework.crypto.CryptoModule;
import io.github.mirframework.crypto.EcdsaCrypto;
import io.github.mirframework.crypto.PseudoCrypto;
import io.github.mirframework.crypto.pb.SignRequest;
import io.github.mirframework.crypto.pb.VerifyNodeSigs;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.pb.NetMessage;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The BCB module alone: events in, events out; no threads, no mocks. */
class BcbModuleTest {
  static final ModuleId BCB = BcbModule.DEFAULT_ID;
  static final ModuleId APP = ModuleId.of("app");
  static final ModuleId NET = ModuleId.of("net");
  static final ModuleId CRYPTO = CryptoModule.DEFAULT_ID;
  static final List<NodeId> NODES = NodeId.range(4);
  static final NodeId N0 = NodeId.of("0");
  static final NodeId N1 = NodeId.of("1");
  static final NodeId N2 = NodeId.of("2");
  static final NodeId N3 = NodeId.of("3");
  static final NodeId LEADER = N0;
  static final ByteString UID = ByteString.copyFromUtf8("test instance");
  static final ByteString VALUE = ByteString.copyFromUtf8("the value");
  static final ByteString OTHER = ByteString.copyFromUtf8("another value");
  static final BcbModule.Config CONFIG = BcbModule.Config.defaults(APP);
  static final BcbModule.Params PARAMS = new BcbModule.Params(UID, NODES, LEADER);
  static final Map<NodeId, EcdsaCrypto> KEYS =
      NODES.stream()
          .collect(Collectors.toMap(Function.identity(), n -> PseudoCrypto.create(NODES, n)));

  /** A BCB module with a real crypto module behind it; requests to the crypto are answered. */
  static final class Harness {
    final BcbModule bcb;
    final CryptoModule crypto;

    Harness(NodeId self, BcbModule.Params params) {
      bcb = new BcbModule(CONFIG, params, self);
      crypto = new CryptoModule(KEYS.get(self));
    }

    Harness(NodeId self) {
      this(self, PARAMS);
    }

    /**
     * Applies {@code in}, then keeps answering crypto requests in separate batches; returns every
     * output event not addressed to the crypto module.
     */
    EventList apply(Event... in) throws Exception {
      EventList out = EventList.empty();
      EventList next = bcb.applyEvents(EventList.of(in));
      while (!next.isEmpty()) {
        EventList toCrypto = EventList.empty();
        for (Event e : next) {
          (e.destination().equals(CRYPTO) ? toCrypto : out).add(e);
        }
        next =
            toCrypto.isEmpty() ? EventList.empty() : bcb.applyEvents(crypto.applyEvents(toCrypto));
      }
      return out;
    }
  }

  static Event received(NodeId from, Message msg) {
    return Events.messageReceived(from, Events.netMessage(BCB, msg));
  }

  static ByteString echoSig(NodeId signer, ByteString uid, ByteString data) {
    return KEYS.get(signer).sign(BcbMessages.echoSignedData(uid, data));
  }

  static ByteString echoSig(NodeId signer, ByteString data) {
    return echoSig(signer, UID, data);
  }

  static FinalMessage validFinal(ByteString data, NodeId... signers) {
    List<ByteString> sigs = new ArrayList<>();
    for (NodeId s : signers) {
      sigs.add(echoSig(s, data));
    }
    return BcbMessages.finalMessage(data, List.of(signers), sigs);
  }

  static Event send(Message msg, List<NodeId> to) {
    return Events.sendMessage(NET, BCB, msg, to);
  }

  // ---------------------------------------------------------------------------------------------
  // Broadcast request and Start

  @Test
  void leaderSendsStartToAllNodesOnBroadcastRequest() throws Exception {
    BcbModule bcb = new BcbModule(CONFIG, PARAMS, LEADER);
    EventList out = bcb.applyEvents(EventList.of(BcbEvents.broadcastRequest(BCB, VALUE)));
    assertThat(out).isEqualTo(EventList.of(send(BcbMessages.start(VALUE), NODES)));
  }

  @Test
  void broadcastRequestAtAFollowerIsAnError() {
    BcbModule bcb = new BcbModule(CONFIG, PARAMS, N1);
    assertThatThrownBy(() -> bcb.applyEvents(EventList.of(BcbEvents.broadcastRequest(BCB, VALUE))))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("only the leader");
  }

  @Test
  void secondOrOversizedBroadcastRequestIsAnError() throws Exception {
    BcbModule bcb = new BcbModule(CONFIG, PARAMS.withMaxDataBytes(VALUE.size()), LEADER);
    assertThatThrownBy(() -> bcb.applyEvents(EventList.of(BcbEvents.broadcastRequest(BCB, OTHER))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("exceeds");
    bcb.applyEvents(EventList.of(BcbEvents.broadcastRequest(BCB, VALUE)));
    assertThatThrownBy(() -> bcb.applyEvents(EventList.of(BcbEvents.broadcastRequest(BCB, VALUE))))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already");
  }

  @Test
  void followerSignsTheLeadersValueWithTheInstanceUidAndEchoesToTheLeader() throws Exception {
    BcbModule bcb = new BcbModule(CONFIG, PARAMS, N1);
    EventList out = bcb.applyEvents(EventList.of(received(LEADER, BcbMessages.start(VALUE))));
    assertThat(out.size()).isEqualTo(1);
    assertThat(out.get(0).destination()).isEqualTo(CRYPTO);
    SignRequest sign = out.get(0).payload(SignRequest.class);
    assertThat(sign.getDataList())
        .containsExactly(UID, ByteString.copyFromUtf8("ECHO"), VALUE)
        .isEqualTo(BcbMessages.echoSignedData(UID, VALUE));
    assertThat(sign.getOrigin().getModule()).isEqualTo(BCB.value());

    Harness h = new Harness(N1);
    assertThat(h.apply(received(LEADER, BcbMessages.start(VALUE))))
        .isEqualTo(EventList.of(send(BcbMessages.echo(echoSig(N1, VALUE)), List.of(LEADER))));
  }

  @Test
  void followerEchoesOnlyTheFirstStart() throws Exception {
    Harness h = new Harness(N2);
    EventList out =
        h.apply(
            received(LEADER, BcbMessages.start(VALUE)), received(LEADER, BcbMessages.start(OTHER)));
    assertThat(out)
        .isEqualTo(EventList.of(send(BcbMessages.echo(echoSig(N2, VALUE)), List.of(LEADER))));
    assertThat(h.apply(received(LEADER, BcbMessages.start(VALUE))).isEmpty()).isTrue();
    assertThat(h.bcb.droppedMessages()).isEqualTo(2);
  }

  @Test
  void startFromANonLeaderIsDropped() throws Exception {
    Harness h = new Harness(N1);
    assertThat(h.apply(received(N3, BcbMessages.start(OTHER))).isEmpty()).isTrue();
    assertThat(h.bcb.droppedMessages()).isEqualTo(1);
    // The real Start is still accepted afterwards.
    assertThat(h.apply(received(LEADER, BcbMessages.start(VALUE))).size()).isEqualTo(1);
  }

  @Test
  void oversizedStartIsDropped() throws Exception {
    Harness h = new Harness(N1, PARAMS.withMaxDataBytes(4));
    assertThat(h.apply(received(LEADER, BcbMessages.start(VALUE))).isEmpty()).isTrue();
    assertThat(h.bcb.droppedMessages()).isEqualTo(1);
  }

  @Test
  void undecodableMessageIsDroppedAndCounted() throws Exception {
    Harness h = new Harness(N1);
    Any garbage =
        Any.newBuilder()
            .setTypeUrl(Any.pack(BcbMessages.start(VALUE)).getTypeUrl())
            .setValue(ByteString.copyFrom(new byte[] {(byte) 0xff, (byte) 0xff, 0x01}))
            .build();
    NetMessage msg = NetMessage.newBuilder().setDestModule(BCB.value()).setPayload(garbage).build();
    assertThat(h.apply(Events.messageReceived(LEADER, msg)).isEmpty()).isTrue();
    assertThat(h.bcb.droppedMessages()).isEqualTo(1);
  }

  // ---------------------------------------------------------------------------------------------
  // Echo (at the leader)

  private static Harness leaderAfterBroadcast() throws Exception {
    Harness h = new Harness(LEADER);
    h.apply(BcbEvents.broadcastRequest(BCB, VALUE));
    return h;
  }

  @Test
  void leaderSendsFinalOnceItHoldsMoreThanNPlusFHalvesValidEchoes() throws Exception {
    Harness h = leaderAfterBroadcast();
    assertThat(h.apply(received(N2, BcbMessages.echo(echoSig(N2, VALUE)))).isEmpty()).isTrue();
    assertThat(h.apply(received(N0, BcbMessages.echo(echoSig(N0, VALUE)))).isEmpty()).isTrue();
    EventList out = h.apply(received(N1, BcbMessages.echo(echoSig(N1, VALUE))));
    // Signers in ID order, whatever the arrival order.
    assertThat(out).isEqualTo(EventList.of(send(validFinal(VALUE, N0, N1, N2), NODES)));
    // A late echo changes nothing.
    assertThat(h.apply(received(N3, BcbMessages.echo(echoSig(N3, VALUE)))).isEmpty()).isTrue();
    assertThat(h.bcb.droppedMessages()).isEqualTo(1);
  }

  @Test
  void leaderCountsOnlyTheFirstEchoOfEachNodeAndOnlyIfItsSignatureIsValid() throws Exception {
    Harness h = leaderAfterBroadcast();
    EventList out =
        h.apply(
            // Node 1 echoes another value first (conflicting echoes), then the right one.
            received(N1, BcbMessages.echo(echoSig(N1, OTHER))),
            received(N1, BcbMessages.echo(echoSig(N1, VALUE))),
            // Node 2 sends garbage, node 3 a signature of the right value by node 2.
            received(N2, BcbMessages.echo(ByteString.copyFromUtf8("garbage"))),
            received(N3, BcbMessages.echo(echoSig(N2, VALUE))),
            received(N0, BcbMessages.echo(echoSig(N0, VALUE))));
    assertThat(out.isEmpty()).isTrue();
    assertThat(h.bcb.droppedMessages()).isEqualTo(4);
  }

  @Test
  void echoSignedForAnotherInstanceDoesNotCount() throws Exception {
    Harness h = leaderAfterBroadcast();
    ByteString otherUid = ByteString.copyFromUtf8("other instance");
    EventList out =
        h.apply(
            received(N0, BcbMessages.echo(echoSig(N0, VALUE))),
            received(N1, BcbMessages.echo(echoSig(N1, VALUE))),
            received(N2, BcbMessages.echo(echoSig(N2, otherUid, VALUE))));
    assertThat(out.isEmpty()).isTrue();
  }

  @Test
  void echoAtAFollowerBeforeBroadcastFromANonMemberOrOversizedIsDroppedUnchecked()
      throws Exception {
    BcbModule follower = new BcbModule(CONFIG, PARAMS, N1);
    assertThat(
            follower
                .applyEvents(EventList.of(received(N2, BcbMessages.echo(echoSig(N2, VALUE)))))
                .isEmpty())
        .isTrue();
    BcbModule leader = new BcbModule(CONFIG, PARAMS, LEADER);
    assertThat(
            leader
                .applyEvents(EventList.of(received(N2, BcbMessages.echo(echoSig(N2, VALUE)))))
                .isEmpty())
        .isTrue();
    leader.applyEvents(EventList.of(BcbEvents.broadcastRequest(BCB, VALUE)));
    EventList out =
        leader.applyEvents(
            EventList.of(
                received(NodeId.of("9"), BcbMessages.echo(echoSig(N2, VALUE))),
                received(
                    N3,
                    BcbMessages.echo(
                        ByteString.copyFrom(new byte[BcbModule.MAX_SIGNATURE_BYTES + 1])))));
    assertThat(out.isEmpty()).isTrue();
    assertThat(follower.droppedMessages()).isEqualTo(1);
    assertThat(leader.droppedMessages()).isEqualTo(3);
    // Node 3's oversized echo did not use up its one echo.
    EventList check =
        leader.applyEvents(EventList.of(received(N3, BcbMessages.echo(echoSig(N3, VALUE)))));
    assertThat(check.get(0).payload()).isInstanceOf(VerifyNodeSigs.class);
  }

  // ---------------------------------------------------------------------------------------------
  // Final

  @Test
  void followerDeliversAValidFinalExactlyOnce() throws Exception {
    Harness h = new Harness(N3);
    FinalMessage fin = validFinal(VALUE, N0, N1, N2);
    assertThat(h.apply(received(LEADER, fin)))
        .isEqualTo(EventList.of(BcbEvents.deliver(APP, VALUE)));
    assertThat(h.bcb.hasDelivered()).isTrue();
    assertThat(h.apply(received(LEADER, fin)).isEmpty()).isTrue();
    assertThat(h.apply(received(LEADER, validFinal(VALUE, N0, N1, N2, N3))).isEmpty()).isTrue();
    assertThat(h.bcb.droppedMessages()).isEqualTo(2);
  }

  @Test
  void finalWithAllNodesSignaturesIsAccepted() throws Exception {
    Harness h = new Harness(N1);
    assertThat(h.apply(received(LEADER, validFinal(VALUE, N3, N2, N1, N0))))
        .isEqualTo(EventList.of(BcbEvents.deliver(APP, VALUE)));
  }

  static Stream<Arguments> malformedFinals() {
    ByteString s0 = echoSig(N0, VALUE);
    ByteString s1 = echoSig(N1, VALUE);
    ByteString s2 = echoSig(N2, VALUE);
    FinalMessage good = BcbMessages.finalMessage(VALUE, List.of(N0, N1, N2), List.of(s0, s1, s2));
    return Stream.of(
        Arguments.of(Named.of("from a non-leader", N1), good),
        Arguments.of(
            Named.of("more signatures than signers", LEADER),
            good.toBuilder().addSignatures(s0).build()),
        Arguments.of(
            Named.of("more signers than signatures", LEADER),
            good.toBuilder().addSigners("3").build()),
        Arguments.of(
            Named.of("too few signers", LEADER),
            BcbMessages.finalMessage(VALUE, List.of(N0, N1), List.of(s0, s1))),
        Arguments.of(
            Named.of("no signers", LEADER), BcbMessages.finalMessage(VALUE, List.of(), List.of())),
        Arguments.of(
            Named.of("a signer twice", LEADER),
            BcbMessages.finalMessage(VALUE, List.of(N0, N1, N1), List.of(s0, s1, s1))),
        Arguments.of(
            Named.of("more signers than nodes", LEADER),
            BcbMessages.finalMessage(
                VALUE, List.of(N0, N1, N2, N3, N0), List.of(s0, s1, s2, s0, s0))),
        Arguments.of(
            Named.of("a non-member signer", LEADER),
            BcbMessages.finalMessage(VALUE, List.of(N0, N1, NodeId.of("7")), List.of(s0, s1, s2))),
        Arguments.of(
            Named.of("an empty signer ID", LEADER), good.toBuilder().setSigners(2, "").build()),
        Arguments.of(
            Named.of("a signer ID with whitespace", LEADER),
            good.toBuilder().setSigners(2, "2 ").build()),
        Arguments.of(
            Named.of("an oversized signature", LEADER),
            good.toBuilder()
                .setSignatures(1, ByteString.copyFrom(new byte[BcbModule.MAX_SIGNATURE_BYTES + 1]))
                .build()),
        Arguments.of(
            Named.of("an oversized value", LEADER),
            good.toBuilder()
                .setData(ByteString.copyFrom(new byte[BcbModule.Params.DEFAULT_MAX_DATA_BYTES + 1]))
                .build()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformedFinals")
  void malformedFinalIsDroppedBeforeAnySignatureCheck(NodeId from, FinalMessage fin)
      throws Exception {
    BcbModule bcb = new BcbModule(CONFIG, PARAMS, N3);
    assertThat(bcb.applyEvents(EventList.of(received(from, fin))).isEmpty()).isTrue();
    assertThat(bcb.droppedMessages()).isEqualTo(1);
    assertThat(bcb.hasDelivered()).isFalse();
  }

  @Test
  void finalWithAnInvalidSignatureIsNotDeliveredButALaterValidOneIs() throws Exception {
    Harness h = new Harness(N2);
    FinalMessage forged =
        BcbMessages.finalMessage(
            OTHER,
            List.of(N0, N1, N3),
            List.of(echoSig(N0, OTHER), echoSig(N1, VALUE), echoSig(N3, OTHER)));
    assertThat(h.apply(received(LEADER, forged)).isEmpty()).isTrue();
    FinalMessage otherInstance =
        BcbMessages.finalMessage(
            VALUE,
            List.of(N0, N1, N3),
            List.of(
                echoSig(N0, VALUE),
                echoSig(N1, VALUE),
                echoSig(N3, ByteString.copyFromUtf8("x"), VALUE)));
    assertThat(h.apply(received(LEADER, otherInstance)).isEmpty()).isTrue();
    assertThat(h.bcb.droppedMessages()).isEqualTo(2);
    assertThat(h.apply(received(LEADER, validFinal(VALUE, N0, N1, N3))))
        .isEqualTo(EventList.of(BcbEvents.deliver(APP, VALUE)));
  }

  @Test
  void finalsArrivingWhileOneIsBeingCheckedAreDropped() throws Exception {
    BcbModule bcb = new BcbModule(CONFIG, PARAMS, N1);
    CryptoModule crypto = new CryptoModule(KEYS.get(N1));
    EventList requests =
        bcb.applyEvents(
            EventList.of(
                received(LEADER, validFinal(VALUE, N0, N1, N2)),
                received(LEADER, validFinal(VALUE, N1, N2, N3))));
    assertThat(requests.size()).isEqualTo(1);
    assertThat(requests.get(0).payload(VerifyNodeSigs.class).getItemsCount()).isEqualTo(3);
    assertThat(
            bcb.applyEvents(EventList.of(received(LEADER, validFinal(VALUE, N0, N2, N3))))
                .isEmpty())
        .isTrue();
    assertThat(bcb.applyEvents(crypto.applyEvents(requests)))
        .isEqualTo(EventList.of(BcbEvents.deliver(APP, VALUE)));
    assertThat(bcb.droppedMessages()).isEqualTo(2);
  }

  @Test
  void theLeaderDeliversItsOwnFinal() throws Exception {
    Harness h = leaderAfterBroadcast();
    EventList fin =
        h.apply(
            received(N0, BcbMessages.echo(echoSig(N0, VALUE))),
            received(N1, BcbMessages.echo(echoSig(N1, VALUE))),
            received(N3, BcbMessages.echo(echoSig(N3, VALUE))));
    assertThat(fin).isEqualTo(EventList.of(send(validFinal(VALUE, N0, N1, N3), NODES)));
    assertThat(h.apply(received(LEADER, validFinal(VALUE, N0, N1, N3))))
        .isEqualTo(EventList.of(BcbEvents.deliver(APP, VALUE)));
  }

  // ---------------------------------------------------------------------------------------------
  // Config and params

  @Test
  void quorumIsMoreThanNPlusFHalves() {
    int[][] nfq = {{1, 0, 1}, {2, 0, 2}, {3, 0, 2}, {4, 1, 3}, {5, 1, 4}, {7, 2, 5}, {10, 3, 7}};
    for (int[] c : nfq) {
      BcbModule.Params p = new BcbModule.Params(UID, NodeId.range(c[0]), N0);
      assertThat(p.n()).isEqualTo(c[0]);
      assertThat(p.f()).as("f for n=%d", c[0]).isEqualTo(c[1]);
      assertThat(3 * p.f() + 1).isLessThanOrEqualTo(p.n());
      assertThat(p.quorum()).as("quorum for n=%d", c[0]).isEqualTo(c[2]);
      assertThat(2 * p.quorum()).isGreaterThan(p.n() + p.f());
    }
  }

  @Test
  void invalidParamsAreRejectedWithTheBadValue() {
    assertThatThrownBy(() -> new BcbModule.Params(UID, NODES, NodeId.of("9")))
        .hasMessageContaining("leader 9");
    assertThatThrownBy(() -> new BcbModule.Params(UID, List.of(N0, N1, N0), N0))
        .hasMessageContaining("duplicates");
    assertThatThrownBy(() -> new BcbModule.Params(UID, List.of(), N0))
        .hasMessageContaining("empty");
    assertThatThrownBy(() -> new BcbModule.Params(ByteString.EMPTY, NODES, N0))
        .hasMessageContaining("instanceUid");
    assertThatThrownBy(() -> PARAMS.withMaxDataBytes(-1)).hasMessageContaining("-1");
    assertThatThrownBy(() -> new BcbModule(CONFIG, PARAMS, NodeId.of("5")))
        .hasMessageContaining("node 5");
  }

  @Test
  void defaultConfigUsesMirsModuleIds() {
    assertThat(CONFIG)
        .isEqualTo(new BcbModule.Config(ModuleId.of("bcb"), APP, NET, ModuleId.of("crypto")));
    assertThat(CONFIG.withSelf(ModuleId.of("b2")).self()).isEqualTo(ModuleId.of("b2"));
  }
}
