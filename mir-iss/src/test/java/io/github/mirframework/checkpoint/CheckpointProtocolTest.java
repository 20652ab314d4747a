package io.github.mirframework.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.github.mirframework.checkpoint.pb.Checkpoint;
import io.github.mirframework.checkpoint.pb.ClientProgress;
import io.github.mirframework.checkpoint.pb.DeliveredReqs;
import io.github.mirframework.checkpoint.pb.EpochConfig;
import io.github.mirframework.checkpoint.pb.EpochData;
import io.github.mirframework.checkpoint.pb.EpochProgress;
import io.github.mirframework.checkpoint.pb.Membership;
import io.github.mirframework.checkpoint.pb.StableCheckpoint;
import io.github.mirframework.checkpoint.pb.StateSnapshot;
import io.github.mirframework.crypto.CryptoModule;
import io.github.mirframework.crypto.EcdsaCrypto;
import io.github.mirframework.crypto.HasherModule;
import io.github.mirframework.crypto.PseudoCrypto;
import io.github.mirframework.crypto.pb.HashRequest;
import io.github.mirframework.crypto.pb.SignRequest;
import io.github.mirframework.crypto.pb.VerifyNodeSigs;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.pb.NetMessage;
import io.github.mirframework.event.pb.TimerRepeat;
import io.github.mirframework.factory.FactoryEvents;
import io.github.mirframework.factory.FactoryModule;
import io.github.mirframework.types.EpochNr;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import io.github.mirframework.types.RetentionIndex;
import io.github.mirframework.types.SeqNr;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The checkpoint protocol alone: events in, events out; real hasher and crypto, no threads. */
class CheckpointProtocolTest {
  static final List<NodeId> NODES = NodeId.range(4);
  static final NodeId N0 = NodeId.of(0);
  static final NodeId N1 = NodeId.of(1);
  static final NodeId N2 = NodeId.of(2);
  static final NodeId N3 = NodeId.of(3);
  static final NodeId OUTSIDER = NodeId.of(7);
  static final EpochNr EPOCH = EpochNr.of(2);
  static final SeqNr SN = SeqNr.of(8);
  static final CheckpointProtocol.Config BASE = CheckpointProtocol.Config.defaults();
  static final ModuleId SELF = CheckpointEvents.instanceId(BASE.self(), EPOCH);
  static final CheckpointProtocol.Config CONFIG = BASE.withSelf(SELF);
  static final CheckpointProtocol.Params PARAMS = new CheckpointProtocol.Params(NODES, EPOCH, SN);
  static final Map<NodeId, EcdsaCrypto> KEYS = new TreeMap<>();

  static {
    List<NodeId> all = new ArrayList<>(NODES);
    all.add(OUTSIDER);
    for (NodeId n : all) {
      KEYS.put(n, PseudoCrypto.create(all, n));
    }
  }

  static final ByteString APP = ByteString.copyFromUtf8("app state");
  static final EpochConfig EPOCH_CONFIG = epochConfig(EPOCH, SN);
  static final ClientProgress PROGRESS =
      ClientProgress.newBuilder()
          .putProgress("client", DeliveredReqs.newBuilder().setLowWm(4).addDelivered(6).build())
          .build();
  static final StateSnapshot SNAPSHOT =
      StateSnapshot.newBuilder()
          .setAppData(APP)
          .setEpochData(
              EpochData.newBuilder().setEpochConfig(EPOCH_CONFIG).setClientProgress(PROGRESS))
          .build();
  static final ByteString HASH = SnapshotHashing.snapshotHash(SNAPSHOT);
  static final ByteString OTHER_HASH = SnapshotHashing.sha256(List.of(APP));

  static EpochConfig epochConfig(EpochNr epoch, SeqNr sn) {
    Membership.Builder m = Membership.newBuilder();
    for (NodeId n : NODES) {
      m.putMembership(n.value(), "addr-" + n);
    }
    return EpochConfig.newBuilder()
        .setEpochNr(epoch.value())
        .setFirstSn(sn.value())
        .setLength(8)
        .addMemberships(m)
        .addMemberships(m)
        .addMemberships(m)
        .build();
  }

  static ByteString sig(NodeId signer, ByteString hash) {
    return KEYS.get(signer).sign(SnapshotHashing.checkpointForSig(EPOCH, SN, hash));
  }

  static Checkpoint msg(NodeId signer) {
    return CheckpointEvents.checkpointMessage(EPOCH, SN, HASH, sig(signer, HASH));
  }

  static Event received(NodeId from, Message m) {
    return Events.messageReceived(from, Events.netMessage(SELF, m));
  }

  static Event progress(NodeId from) {
    return CheckpointEvents.epochProgress(CONFIG.ord(), from, EPOCH);
  }

  static Event[] inputs() {
    return new Event[] {
      CheckpointEvents.appSnapshot(SELF, APP),
      CheckpointEvents.epochConfig(SELF, EPOCH_CONFIG),
      CheckpointEvents.clientProgress(SELF, PROGRESS)
    };
  }

  /** A protocol instance with the real hasher and crypto module answering its requests. */
  static final class Harness {
    final CheckpointProtocol p;
    final HasherModule hasher = new HasherModule();
    final CryptoModule crypto;
    int hashRequests;
    int signRequests;
    int verifications;

    Harness(NodeId self, CheckpointProtocol.Params params) {
      p = new CheckpointProtocol(CONFIG, params, self);
      crypto = new CryptoModule(KEYS.get(self));
    }

    Harness(NodeId self) {
      this(self, PARAMS);
    }

    /** Applies {@code in} and answers hasher and crypto requests; returns all other output. */
    EventList apply(Event... in) throws Exception {
      EventList out = EventList.empty();
      EventList next = p.applyEvents(EventList.of(in));
      while (!next.isEmpty()) {
        EventList answers = EventList.empty();
        for (Event e : next) {
          if (e.destination().equals(CONFIG.hasher())) {
            hashRequests++;
            answers.addAll(hasher.applyEvents(EventList.of(e)));
          } else if (e.destination().equals(CONFIG.crypto())) {
            if (e.is(SignRequest.class)) {
              signRequests++;
            } else if (e.is(VerifyNodeSigs.class)) {
              verifications++;
            }
            answers.addAll(crypto.applyEvents(EventList.of(e)));
          } else {
            out.add(e);
          }
        }
        next = answers.isEmpty() ? EventList.empty() : p.applyEvents(answers);
      }
      return out;
    }

    /** Feeds the three inputs; returns the output (the broadcast). */
    EventList start() throws Exception {
      return apply(inputs());
    }
  }

  static Event broadcast(NodeId self) {
    return Events.timerRepeat(
        CONFIG.timer(),
        List.of(Events.sendMessage(CONFIG.net(), SELF, msg(self), NODES)),
        Duration.ofSeconds(1),
        RetentionIndex.of(EPOCH.value()));
  }

  static List<StableCheckpoint> stables(EventList out) {
    List<StableCheckpoint> s = new ArrayList<>();
    for (Event e : out) {
      if (e.is(StableCheckpoint.class)) {
        assertThat(e.destination()).isEqualTo(CONFIG.ord());
        s.add(e.payload(StableCheckpoint.class));
      }
    }
    return s;
  }

  // ---------------------------------------------------------------------------------------------
  // Configuration and parameters

  @Test
  void configDefaultsAreMirs() {
    assertThat(BASE)
        .isEqualTo(
            new CheckpointProtocol.Config(
                ModuleId.of("checkpoint"),
                ModuleId.of("batchfetcher"),
                ModuleId.of("hasher"),
                ModuleId.of("crypto"),
                ModuleId.of("wal"),
                ModuleId.of("net"),
                ModuleId.of("iss"),
                ModuleId.of("timer")));
    assertThat(BASE.withTimer(ModuleId.of("t")).timer()).isEqualTo(ModuleId.of("t"));
    assertThat(PARAMS.resendPeriod()).isEqualTo(Duration.ofSeconds(1));
    assertThat(PARAMS.strongQuorum()).isEqualTo(3);
  }

  @Test
  void paramsAreValidated() {
    assertThatThrownBy(() -> new CheckpointProtocol.Params(List.of(), EPOCH, SN))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new CheckpointProtocol.Params(List.of(N0, N0), EPOCH, SN))
        .hasMessageContaining("duplicates");
    assertThatThrownBy(() -> PARAMS.withResendPeriod(Duration.ZERO))
        .hasMessageContaining("positive");
    assertThatThrownBy(() -> new CheckpointProtocol(CONFIG, PARAMS, OUTSIDER))
        .hasMessageContaining("not among");
    assertThat(CheckpointProtocol.Params.fromProto(PARAMS.toProto())).isEqualTo(PARAMS);
    assertThatThrownBy(
            () ->
                CheckpointProtocol.Params.fromProto(
                    PARAMS.toProto().toBuilder().setResendPeriodNs(0).build()))
        .isInstanceOf(IllegalArgumentException.class);
  }

  // ---------------------------------------------------------------------------------------------
  // Local inputs, hashing, signing, broadcasting

  @Test
  void withAllThreeInputsInAnyOrderItHashesSignsAndBroadcastsRepeatedly() throws Exception {
    int[][] orders = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    for (int[] order : orders) {
      Harness h = new Harness(N1);
      Event[] in = inputs();
      assertThat(h.apply(in[order[0]]).isEmpty()).isTrue();
      assertThat(h.apply(in[order[1]]).isEmpty()).isTrue();
      assertThat(h.hashRequests).isZero();
      EventList out = h.apply(in[order[2]]);
      assertThat(out).isEqualTo(EventList.of(broadcast(N1)));
      assertThat(h.hashRequests).isEqualTo(1);
      assertThat(h.signRequests).isEqualTo(1);
      assertThat(h.p.snapshotHash()).contains(HASH);
      assertThat(h.p.confirmations()).containsExactly(N1);
    }
  }

  @Test
  void theHashRequestCarriesTheSnapshotLayout() throws Exception {
    CheckpointProtocol p = new CheckpointProtocol(CONFIG, PARAMS, N0);
    EventList out = p.applyEvents(EventList.of(inputs()));
    assertThat(out.size()).isEqualTo(1);
    assertThat(out.get(0).destination()).isEqualTo(CONFIG.hasher());
    HashRequest r = out.get(0).payload(HashRequest.class);
    assertThat(r.getDataCount()).isEqualTo(1);
    assertThat(r.getData(0).getDataList()).isEqualTo(SnapshotHashing.snapshotForHash(SNAPSHOT));
    assertThat(r.getOrigin().getModule()).isEqualTo(SELF.value());
  }

  @Test
  void laterCopiesOfTheInputsAreIgnored() throws Exception {
    Harness h = new Harness(N0);
    h.apply(CheckpointEvents.appSnapshot(SELF, APP));
    h.apply(CheckpointEvents.appSnapshot(SELF, ByteString.copyFromUtf8("newer")));
    h.apply(CheckpointEvents.clientProgress(SELF, PROGRESS));
    h.apply(CheckpointEvents.clientProgress(SELF, ClientProgress.getDefaultInstance()));
    assertThat(h.apply(CheckpointEvents.epochConfig(SELF, EPOCH_CONFIG)))
        .isEqualTo(EventList.of(broadcast(N0)));
    assertThat(h.apply(inputs()).isEmpty()).isTrue();
    assertThat(h.hashRequests).isEqualTo(1);
    assertThat(h.signRequests).isEqualTo(1);
  }

  @Test
  void anEmptyAppSnapshotCounts() throws Exception {
    Harness h = new Harness(N0);
    EventList out =
        h.apply(
            CheckpointEvents.appSnapshot(SELF, ByteString.EMPTY),
            CheckpointEvents.epochConfig(SELF, EPOCH_CONFIG),
            CheckpointEvents.clientProgress(SELF, PROGRESS));
    assertThat(out.size()).isEqualTo(1);
    assertThat(h.p.snapshotHash())
        .contains(SnapshotHashing.snapshotHash(SNAPSHOT.toBuilder().clearAppData().build()));
  }

  @Test
  void anEpochConfigOfAnotherEpochOrFirstSnIsALocalError() {
    CheckpointProtocol p = new CheckpointProtocol(CONFIG, PARAMS, N0);
    assertThatThrownBy(
            () ->
                p.applyEvents(
                    EventList.of(
                        CheckpointEvents.epochConfig(SELF, epochConfig(EPOCH.next(), SN)))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("expected epoch 2");
    assertThatThrownBy(
            () ->
                p.applyEvents(
                    EventList.of(
                        CheckpointEvents.epochConfig(SELF, epochConfig(EPOCH, SN.next())))))
        .isInstanceOf(IllegalArgumentException.class);
  }

  // ---------------------------------------------------------------------------------------------
  // Received checkpoints and stability

  @Test
  void stableOnceAStrongQuorumOfValidSignaturesIsKnownAndAnnouncedOnce() throws Exception {
    Harness h = new Harness(N0);
    h.start();
    EventList out = h.apply(received(N1, msg(N1)));
    assertThat(out).isEqualTo(EventList.of(progress(N1)));
    assertThat(h.verifications).isEqualTo(1);
    assertThat(h.p.isStable()).isFalse();

    out = h.apply(received(N2, msg(N2)));
    List<StableCheckpoint> s = stables(out);
    assertThat(s).hasSize(1);
    StableCheckpoint sc = s.get(0);
    assertThat(sc.getSn()).isEqualTo(SN.value());
    assertThat(sc.getSnapshot()).isEqualTo(SNAPSHOT);
    assertThat(sc.getCertMap())
        .isEqualTo(Map.of("0", sig(N0, HASH), "1", sig(N1, HASH), "2", sig(N2, HASH)));
    assertThat(out.get(0)).isEqualTo(progress(N2));
    assertThat(h.p.isStable()).isTrue();
    // The certificate is valid for real.
    assertThat(StableCheckpoints.verifyCert(sc, KEYS.get(N3), NODES).valid()).isTrue();

    // After stability: still epoch progress, but no more checks and no second announcement.
    out = h.apply(received(N3, msg(N3)));
    assertThat(out).isEqualTo(EventList.of(progress(N3)));
    assertThat(h.verifications).isEqualTo(2);
  }

  @Test
  void ownMessageComingBackIsNotCheckedAgain() throws Exception {
    Harness h = new Harness(N0);
    h.start();
    assertThat(h.apply(received(N0, msg(N0)))).isEqualTo(EventList.of(progress(N0)));
    assertThat(h.verifications).isZero();
  }

  @Test
  void messagesReceivedBeforeTheOwnSignatureAreProcessedAfterIt() throws Exception {
    Harness h = new Harness(N3);
    EventList out = h.apply(received(N1, msg(N1)), received(N2, msg(N2)));
    assertThat(out).isEqualTo(EventList.of(progress(N1), progress(N2)));
    assertThat(h.verifications).isZero();
    out = h.start();
    assertThat(h.verifications).isEqualTo(2);
    assertThat(stables(out)).hasSize(1);
    assertThat(stables(out).get(0).getCertMap().keySet()).containsExactlyInAnyOrder("1", "2", "3");
    assertThat(out.get(0)).isEqualTo(broadcast(N3));
  }

  @Test
  void anEarlyMessageWithAWrongHashIsDroppedWhenProcessed() throws Exception {
    Harness h = new Harness(N3);
    h.apply(
        received(
            N1, CheckpointEvents.checkpointMessage(EPOCH, SN, OTHER_HASH, sig(N1, OTHER_HASH))));
    h.start();
    assertThat(h.verifications).isZero();
    assertThat(h.p.droppedMessages()).isEqualTo(1);
    // The sender is not blocked: its correct message is still accepted.
    h.apply(received(N1, msg(N1)));
    assertThat(h.p.confirmations()).containsExactly(N1, N3);
  }

  @Test
  void withOneNodeItsOwnSignatureIsAStrongQuorum() throws Exception {
    Harness h = new Harness(N0, new CheckpointProtocol.Params(List.of(N0), EPOCH, SN));
    EventList out = h.start();
    assertThat(stables(out)).hasSize(1);
    assertThat(stables(out).get(0).getCertMap()).containsOnlyKeys("0");
  }

  // ---------------------------------------------------------------------------------------------
  // Rejections

  @Test
  void aMessageFromANonMemberIsIgnoredWithoutEpochProgress() throws Exception {
    Harness h = new Harness(N0);
    h.start();
    assertThat(h.apply(received(OUTSIDER, msg(OUTSIDER))).isEmpty()).isTrue();
    assertThat(h.verifications).isZero();
    assertThat(h.p.droppedMessages()).isEqualTo(1);
  }

  @Test
  void messagesOfAnotherEpochOrSequenceNumberAreIgnored() throws Exception {
    Harness h = new Harness(N0);
    h.start();
    Checkpoint otherEpoch = msg(N1).toBuilder().setEpoch(EPOCH.value() + 1).build();
    Checkpoint otherSn = msg(N1).toBuilder().setSn(SN.value() + 1).build();
    Checkpoint hugeEpoch = msg(N1).toBuilder().setEpoch(-1).build();
    assertThat(h.apply(received(N1, otherEpoch)).isEmpty()).isTrue();
    assertThat(h.apply(received(N1, otherSn)).isEmpty()).isTrue();
    assertThat(h.apply(received(N1, hugeEpoch)).isEmpty()).isTrue();
    assertThat(h.verifications).isZero();
    assertThat(h.p.droppedMessages()).isEqualTo(3);
    // Node 1's real message still counts.
    h.apply(received(N1, msg(N1)));
    assertThat(h.p.confirmations()).containsExactly(N0, N1);
  }

  @Test
  void oversizedFieldsAreIgnored() throws Exception {
    Harness h = new Harness(N0);
    Checkpoint bigHash =
        msg(N1).toBuilder()
            .setSnapshotHash(ByteString.copyFrom(new byte[CheckpointProtocol.MAX_HASH_BYTES + 1]))
            .build();
    Checkpoint bigSig =
        msg(N2).toBuilder()
            .setSignature(ByteString.copyFrom(new byte[StableCheckpoints.MAX_SIGNATURE_BYTES + 1]))
            .build();
    // Also before the own hash is known: nothing is buffered.
    assertThat(h.apply(received(N1, bigHash), received(N2, bigSig)).isEmpty()).isTrue();
    h.start();
    assertThat(h.verifications).isZero();
    assertThat(h.p.droppedMessages()).isEqualTo(2);
  }

  @Test
  void aMessageWithAnotherHashIsReportedAsProgressButNotChecked() throws Exception {
    Harness h = new Harness(N0);
    h.start();
    Checkpoint wrong =
        CheckpointEvents.checkpointMessage(EPOCH, SN, OTHER_HASH, sig(N1, OTHER_HASH));
    assertThat(h.apply(received(N1, wrong))).isEqualTo(EventList.of(progress(N1)));
    assertThat(h.verifications).isZero();
    assertThat(h.p.droppedMessages()).isEqualTo(1);
  }

  @Test
  void duplicatesAreCheckedOnlyOnce() throws Exception {
    Harness h = new Harness(N0);
    h.start();
    h.apply(received(N1, msg(N1)), received(N1, msg(N1)));
    h.apply(received(N1, msg(N1)));
    assertThat(h.verifications).isEqualTo(1);
    assertThat(h.p.confirmations()).containsExactly(N0, N1);
    assertThat(h.p.droppedMessages()).isEqualTo(2);
  }

  @Test
  void anInvalidSignatureDoesNotCountAndTheSenderIsNotCheckedAgain() throws Exception {
    Harness h = new Harness(N0);
    h.start();
    // Node 1's message signed with node 2's key, then garbage: neither counts.
    Checkpoint forged = CheckpointEvents.checkpointMessage(EPOCH, SN, HASH, sig(N2, HASH));
    h.apply(received(N1, forged));
    assertThat(h.verifications).isEqualTo(1);
    assertThat(h.p.confirmations()).containsExactly(N0);
    // As in Mir: a later (even valid) message from the same node is not checked again.
    h.apply(received(N1, msg(N1)));
    assertThat(h.verifications).isEqualTo(1);
    Checkpoint garbage = msg(N3).toBuilder().setSignature(ByteString.copyFromUtf8("junk")).build();
    h.apply(received(N3, garbage));
    assertThat(h.p.confirmations()).containsExactly(N0);
    // Node 2 alone is not enough with node 0: no stable checkpoint.
    EventList out = h.apply(received(N2, msg(N2)));
    assertThat(stables(out)).isEmpty();
    assertThat(h.p.isStable()).isFalse();
    assertThat(h.p.droppedMessages()).isEqualTo(3);
  }

  @Test
  void undecodableAndUnknownMessagesAreDropped() throws Exception {
    Harness h = new Harness(N0);
    h.start();
    Any garbage =
        Any.newBuilder()
            .setTypeUrl(Any.pack(msg(N1)).getTypeUrl())
            .setValue(ByteString.copyFrom(new byte[] {(byte) 0xff, (byte) 0xff, 0x01}))
            .build();
    NetMessage bad =
        NetMessage.newBuilder().setDestModule(SELF.value()).setPayload(garbage).build();
    assertThat(h.apply(Events.messageReceived(N1, bad)).isEmpty()).isTrue();
    assertThat(h.apply(received(N1, EpochProgress.getDefaultInstance())).isEmpty()).isTrue();
    assertThat(h.p.droppedMessages()).isEqualTo(2);
  }

  /** Seeded fuzzing: random messages and bytes from random senders never fail the module. */
  @Test
  void randomMessagesNeverFailTheModuleOrCountAsConfirmations() throws Exception {
    for (long seed = 1; seed <= 5; seed++) {
      java.util.SplittableRandom rnd = new java.util.SplittableRandom(seed);
      Harness h = new Harness(N0);
      if (seed % 2 == 0) {
        h.start(); // half of the runs receive everything before the own signature
      }
      List<NodeId> senders = List.of(N1, N2, N3, OUTSIDER, NodeId.of("node-x"));
      for (int i = 0; i < 200; i++) {
        NodeId from = senders.get(rnd.nextInt(senders.size()));
        Event in;
        if (rnd.nextInt(4) == 0) {
          byte[] junk = new byte[rnd.nextInt(64)];
          rnd.nextBytes(junk);
          Any any =
              Any.newBuilder()
                  .setTypeUrl(Any.pack(msg(N1)).getTypeUrl())
                  .setValue(ByteString.copyFrom(junk))
                  .build();
          in =
              Events.messageReceived(
                  from,
                  NetMessage.newBuilder().setDestModule(SELF.value()).setPayload(any).build());
        } else {
          byte[] sigBytes = new byte[rnd.nextInt(2 * StableCheckpoints.MAX_SIGNATURE_BYTES)];
          rnd.nextBytes(sigBytes);
          byte[] hashBytes = new byte[rnd.nextInt(100)];
          rnd.nextBytes(hashBytes);
          Checkpoint m =
              Checkpoint.newBuilder()
                  .setEpoch(rnd.nextBoolean() ? EPOCH.value() : rnd.nextLong())
                  .setSn(rnd.nextBoolean() ? SN.value() : rnd.nextLong())
                  .setSnapshotHash(rnd.nextBoolean() ? HASH : ByteString.copyFrom(hashBytes))
                  .setSignature(ByteString.copyFrom(sigBytes))
                  .build();
          in = received(from, m);
        }
        EventList out = h.apply(in);
        for (Event e : out) {
          assertThat(e.is(EpochProgress.class) || e.is(TimerRepeat.class)).isTrue();
        }
      }
      if (seed % 2 == 1) {
        h.start();
      }
      assertThat(h.p.confirmations()).containsExactly(N0);
      assertThat(h.p.isStable()).isFalse();
      // At most one signature check per member.
      assertThat(h.verifications).isLessThanOrEqualTo(3);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Factory

  @Test
  void theFactoryCreatesOneInstancePerEpochAndRoutesToIt() throws Exception {
    FactoryModule f = CheckpointProtocol.factory(BASE, N0);
    f.applyEvents(
        EventList.of(
            CheckpointEvents.newInstance(BASE.self(), NODES, EPOCH, SN, Duration.ofMillis(500))));
    assertThat(f.submoduleIds()).containsExactly(SELF);
    EventList out = f.applyEvents(EventList.of(inputs()));
    assertThat(out.size()).isEqualTo(1);
    assertThat(out.get(0).is(HashRequest.class)).isTrue();
    assertThat(out.get(0).payload(HashRequest.class).getOrigin().getModule())
        .isEqualTo(SELF.value());
    // Garbage collection by epoch.
    f.applyEvents(EventList.of(FactoryEvents.garbageCollect(BASE.self(), RetentionIndex.of(3))));
    assertThat(f.submoduleIds()).isEmpty();
  }

  @Test
  void theFactoryRejectsParametersOfAnotherType() {
    FactoryModule f = CheckpointProtocol.factory(BASE, N0);
    assertThatThrownBy(
            () ->
                f.applyEvents(
                    EventList.of(
                        FactoryEvents.newModule(
                            BASE.self(),
                            SELF,
                            RetentionIndex.of(2),
                            EpochProgress.getDefaultInstance()))))
        .hasMessageContaining("InstanceParams");
  }
}
