package io.github.mirframework.availability.msc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.github.mirframework.availability.AvailabilityEvents;
import io.github.mirframework.availability.batchdb.FakeBatchDb;
import io.github.mirframework.availability.msc.pb.InstanceParams;
import io.github.mirframework.availability.msc.pb.RequestSigMessage;
import io.github.mirframework.availability.pb.Cert;
import io.github.mirframework.availability.pb.CertVerified;
import io.github.mirframework.availability.pb.NewCert;
import io.github.mirframework.client.ClientEvents;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.crypto.CryptoEvents;
import io.github.mirframework.crypto.CryptoModule;
import io.github.mirframework.crypto.EcdsaCrypto;
import io.github.mirframework.crypto.HasherModule;
import io.github.mirframework.crypto.PseudoCrypto;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventCodec;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.pb.NetMessage;
import io.github.mirframework.event.pb.Origin;
import io.github.mirframework.event.pb.TimerDelay;
import io.github.mirframework.factory.FactoryEvents;
import io.github.mirframework.mempool.SimpleMempool;
import io.github.mirframework.mempool.pb.RequestBatch;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.net.Membership;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.types.ClientId;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import io.github.mirframework.types.RetentionIndex;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
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

/**
 * The multisig collector alone, each handler and each rejection path: events in, events out, with
 * the real mempool, hasher, batch database and crypto module of one node behind it; no threads.
 */
class MultisigCollectorTest {
  static final ModuleId AVAIL = MultisigCollector.DEFAULT_ID;
  static final ModuleId MEMPOOL = SimpleMempool.DEFAULT_ID;
  static final ModuleId HASHER = HasherModule.DEFAULT_ID;
  static final ModuleId BATCHDB = FakeBatchDb.DEFAULT_ID;
  static final ModuleId CRYPTO = CryptoModule.DEFAULT_ID;
  static final ModuleId NET = ModuleId.of("net");
  static final ModuleId ISS = ModuleId.of("iss");
  static final ModuleId TIMER = MultisigCollector.DEFAULT_TIMER;
  static final Origin ORIGIN = CryptoEvents.contextStoreOrigin(ISS, 11);
  static final Origin ORIGIN2 = CryptoEvents.contextStoreOrigin(ISS, 12);
  static final List<NodeId> NODES = NodeId.range(4);
  static final NodeId N0 = NodeId.of("0");
  static final NodeId N1 = NodeId.of("1");
  static final NodeId N2 = NodeId.of("2");
  static final NodeId N3 = NodeId.of("3");
  static final NodeId OUTSIDER = NodeId.of("9");
  static final ByteString UID = ByteString.copyFromUtf8("msc test instance");
  static final MultisigCollector.Config CONFIG = MultisigCollector.Config.defaults();
  static final MultisigCollector.Params PARAMS = new MultisigCollector.Params(UID, NODES, 1);
  static final Map<NodeId, EcdsaCrypto> KEYS =
      Stream.concat(NODES.stream(), Stream.of(OUTSIDER))
          .collect(
              Collectors.toMap(
                  Function.identity(),
                  n -> PseudoCrypto.create(List.of(N0, N1, N2, N3, OUTSIDER), n)));
  static final List<Request> TXS = txs("a", 3);
  static final List<Request> OTHER_TXS = txs("b", 2);

  /**
   * One node's availability module (a multisig collector or the reconfigurable factory) with the
   * real mempool, hasher, batch database and crypto module; events for these are answered, each in
   * its own batch, in order.
   */
  static final class Harness {
    final PassiveModule availability;
    final SimpleMempool mempool =
        new SimpleMempool(SimpleMempool.Config.defaults(), SimpleMempool.Params.defaults());
    final HasherModule hasher = new HasherModule();
    final FakeBatchDb batchDb = new FakeBatchDb();
    final CryptoModule crypto;

    /** The events the module asked the timer to emit later (see {@link #fireTimers}). */
    final List<Event> timers = new ArrayList<>();

    /** Signatures the module asked the crypto module to verify. */
    int verifications;

    Harness(NodeId self, PassiveModule availability) {
      this(availability, KEYS.get(self));
    }

    Harness(PassiveModule availability, EcdsaCrypto key) {
      this.availability = availability;
      this.crypto = new CryptoModule(key);
    }

    Harness(NodeId self, MultisigCollector.Params params) {
      this(self, new MultisigCollector(CONFIG, params, self));
    }

    Harness(NodeId self) {
      this(self, PARAMS);
    }

    MultisigCollector msc() {
      return (MultisigCollector) availability;
    }

    /** Applies {@code in} and everything it causes locally; returns the events for elsewhere. */
    EventList apply(Event... in) throws Exception {
      EventList out = EventList.empty();
      Deque<Event> queue = new ArrayDeque<>(List.of(in));
      while (!queue.isEmpty()) {
        Event e = queue.removeFirst();
        PassiveModule m = route(e.destination().top());
        if (e.destination().equals(TIMER) && e.payload() instanceof TimerDelay d) {
          for (var r : d.getEventsList()) {
            timers.add(EventCodec.shared().decode(r.toByteString()).orElseThrow());
          }
        } else if (m == null) {
          out.add(e);
        } else {
          if (e.payload() instanceof io.github.mirframework.crypto.pb.VerifyNodeSigs v) {
            verifications += v.getItemsCount();
          }
          m.applyEvents(EventList.of(e)).forEach(queue::addLast);
        }
      }
      return out;
    }

    private PassiveModule route(ModuleId top) {
      if (top.equals(AVAIL)) {
        return availability;
      } else if (top.equals(MEMPOOL)) {
        return mempool;
      } else if (top.equals(HASHER)) {
        return hasher;
      } else if (top.equals(BATCHDB)) {
        return batchDb;
      } else if (top.equals(CRYPTO)) {
        return crypto;
      }
      return null;
    }

    /** Emits every event the timer holds, as if their delays had passed; returns what results. */
    EventList fireTimers() throws Exception {
      List<Event> due = List.copyOf(timers);
      timers.clear();
      return apply(due.toArray(Event[]::new));
    }

    /** Puts {@code txs} into the mempool. */
    void submit(List<Request> txs) throws Exception {
      assertThat(apply(ClientEvents.newRequests(MEMPOOL, txs)).isEmpty()).isTrue();
    }

    /** Makes this node store {@code txs} as a member asked to sign them would. */
    void storeAsSigner(List<Request> txs) throws Exception {
      EventList out = apply(received(N0, MscMessages.requestSig(txs, 99)));
      assertThat(out.size()).isEqualTo(1);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers computed independently of the module

  static List<Request> txs(String client, int n) {
    List<Request> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(ClientEvents.request(ClientId.of(client), i, ByteString.copyFromUtf8("tx " + i)));
    }
    return List.copyOf(out);
  }

  static ByteString sha256(List<ByteString> chunks) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    for (ByteString c : chunks) {
      md.update(c.toByteArray());
    }
    return ByteString.copyFrom(md.digest());
  }

  static ByteString batchId(List<Request> txs) throws Exception {
    List<ByteString> ids = new ArrayList<>();
    for (Request tx : txs) {
      ids.add(sha256(SimpleMempool.txIdData(tx)));
    }
    return sha256(ids);
  }

  static ByteString sig(NodeId signer, ByteString uid, ByteString batchId) {
    return KEYS.get(signer).sign(MscMessages.sigData(uid, batchId));
  }

  static ByteString sig(NodeId signer, ByteString batchId) {
    return sig(signer, UID, batchId);
  }

  static Cert cert(ByteString batchId, NodeId... signers) {
    List<ByteString> sigs = new ArrayList<>();
    for (NodeId s : signers) {
      sigs.add(sig(s, batchId));
    }
    return AvailabilityEvents.mscCert(batchId, List.of(signers), sigs);
  }

  static Event received(NodeId from, Message msg) {
    return received(from, AVAIL, msg);
  }

  static Event received(NodeId from, ModuleId module, Message msg) {
    return Events.messageReceived(from, Events.netMessage(module, msg));
  }

  static Event send(Message msg, List<NodeId> to) {
    return Events.sendMessage(NET, AVAIL, msg, to);
  }

  static Event verifyCert(Cert cert) {
    return AvailabilityEvents.verifyCert(AVAIL, cert, ORIGIN);
  }

  static Event requestTransactions(Cert cert) {
    return AvailabilityEvents.requestTransactions(AVAIL, cert, ORIGIN);
  }

  /** A node 0 that asked all members to sign the batch {@code txs} (its request 0). */
  static Harness requesterAwaitingSignatures(List<Request> txs) throws Exception {
    Harness h = new Harness(N0);
    h.submit(txs);
    EventList out = h.apply(AvailabilityEvents.requestCert(AVAIL, ORIGIN));
    assertThat(out).isEqualTo(EventList.of(send(MscMessages.requestSig(txs, 0), NODES)));
    return h;
  }

  // ---------------------------------------------------------------------------------------------
  // Certificate creation: the requester

  @Test
  void requestCertAsksTheMempoolForABatch() throws Exception {
    MultisigCollector msc = new MultisigCollector(CONFIG, PARAMS, N0);
    EventList out = msc.applyEvents(EventList.of(AvailabilityEvents.requestCert(AVAIL, ORIGIN)));
    assertThat(out.size()).isEqualTo(1);
    assertThat(out.get(0).destination()).isEqualTo(MEMPOOL);
    Origin o = out.get(0).payload(RequestBatch.class).getOrigin();
    assertThat(o.getModule()).isEqualTo(AVAIL.value());
    assertThat(o.getContextCase()).isEqualTo(Origin.ContextCase.DSL_CONTEXT_ID);
    assertThat(msc.pendingCertRequests()).isEqualTo(1);
  }

  @Test
  void theMempoolsBatchIsSentToAllMembersIncludingItselfForSigning() throws Exception {
    requesterAwaitingSignatures(TXS);
  }

  @Test
  void aCertificateComesOutOnceFPlusOneValidSignaturesArriveWithSignersSorted() throws Exception {
    Harness h = requesterAwaitingSignatures(TXS);
    ByteString id = batchId(TXS);
    assertThat(h.apply(received(N3, MscMessages.sig(sig(N3, id), 0))).isEmpty()).isTrue();
    EventList out = h.apply(received(N1, MscMessages.sig(sig(N1, id), 0)));
    assertThat(out).isEqualTo(EventList.of(AvailabilityEvents.newCert(ORIGIN, cert(id, N1, N3))));
    assertThat(out.get(0).destination()).isEqualTo(ISS);
    assertThat(out.get(0).payload(NewCert.class).getOrigin()).isEqualTo(ORIGIN);
    assertThat(h.msc().pendingCertRequests()).isZero();
    assertThat(h.msc().droppedMessages()).isZero();
  }

  @Test
  void theRequestersOwnSignatureCountsLikeAnyOther() throws Exception {
    Harness h = requesterAwaitingSignatures(TXS);
    // The requester receives its own RequestSig (the transport loops it back) and signs.
    EventList own = h.apply(received(N0, MscMessages.requestSig(TXS, 0)));
    ByteString id = batchId(TXS);
    assertThat(own).isEqualTo(EventList.of(send(MscMessages.sig(sig(N0, id), 0), List.of(N0))));
    assertThat(h.apply(received(N0, MscMessages.sig(sig(N0, id), 0))).isEmpty()).isTrue();
    assertThat(h.apply(received(N2, MscMessages.sig(sig(N2, id), 0))))
        .isEqualTo(EventList.of(AvailabilityEvents.newCert(ORIGIN, cert(id, N0, N2))));
  }

  @Test
  void signaturesTheNodeVerifiedOrMadeAreNotVerifiedAgainWhenItsBatchIsAskedFor() throws Exception {
    // Node 0 builds a certificate from its own and node 2's signatures (one verification each).
    Harness h = requesterAwaitingSignatures(TXS);
    ByteString id = batchId(TXS);
    h.apply(received(N0, MscMessages.requestSig(TXS, 0)));
    h.apply(received(N0, MscMessages.sig(sig(N0, id), 0)));
    EventList out = h.apply(received(N2, MscMessages.sig(sig(N2, id), 0)));
    Cert built = out.get(0).payload(NewCert.class).getCert();
    assertThat(h.verifications).isEqualTo(2);
    // Ordered and delivered: provided from node 0's store without verifying anything again.
    assertThat(h.apply(requestTransactions(built)))
        .isEqualTo(EventList.of(AvailabilityEvents.provideTransactions(ORIGIN, TXS)));
    assertThat(h.verifications).isEqualTo(2);
    // A signer checks only the others' signatures; a third node checks both.
    Harness signer = new Harness(N2);
    signer.storeAsSigner(TXS);
    int before = signer.verifications;
    assertThat(signer.apply(requestTransactions(cert(id, N0, N2))))
        .isEqualTo(EventList.of(AvailabilityEvents.provideTransactions(ORIGIN, TXS)));
    assertThat(signer.verifications - before).isEqualTo(1);
    Harness other = new Harness(N3);
    other.storeAsSigner(TXS);
    assertThat(other.apply(requestTransactions(cert(id, N0, N1))))
        .isEqualTo(EventList.of(AvailabilityEvents.provideTransactions(ORIGIN, TXS)));
    assertThat(other.verifications).isEqualTo(2);
  }

  static final Cert NO_TRANSACTIONS =
      AvailabilityEvents.mscCert(ByteString.EMPTY, List.of(), List.of());

  @Test
  void anEmptyMempoolYieldsTheCertificateOfNoTransactionsWithoutAskingAnyone() throws Exception {
    // Mir's later versions (the seed commit had every member store and sign the empty batch).
    Harness h = new Harness(N0);
    EventList out = h.apply(AvailabilityEvents.requestCert(AVAIL, ORIGIN));
    assertThat(out).isEqualTo(EventList.of(AvailabilityEvents.newCert(ORIGIN, NO_TRANSACTIONS)));
    assertThat(h.msc().pendingCertRequests()).isZero();
    // The next request with transactions is served as usual.
    h.submit(TXS);
    assertThat(h.apply(AvailabilityEvents.requestCert(AVAIL, ORIGIN)))
        .isEqualTo(EventList.of(send(MscMessages.requestSig(TXS, 1), NODES)));
  }

  @Test
  void theCertificateOfNoTransactionsIsValidAndProvidesNoneWithoutMessages() throws Exception {
    Harness h = new Harness(N3);
    assertThat(h.apply(verifyCert(NO_TRANSACTIONS)))
        .isEqualTo(EventList.of(AvailabilityEvents.certVerified(ORIGIN, true, "")));
    assertThat(h.apply(requestTransactions(NO_TRANSACTIONS)))
        .isEqualTo(EventList.of(AvailabilityEvents.provideTransactions(ORIGIN, List.of())));
    assertThat(h.msc().pendingFetches()).isZero();
    // Without a batch ID, a certificate with signers is not the empty one: it stays ill-formed.
    Cert signedNothing =
        AvailabilityEvents.mscCert(
            ByteString.EMPTY,
            List.of(N0, N1),
            List.of(sig(N0, ByteString.EMPTY), sig(N1, ByteString.EMPTY)));
    CertVerified v = verdict(h.apply(verifyCert(signedNothing)));
    assertThat(v.getValid()).isFalse();
    assertThat(v.getErr()).contains("batch ID of 0 bytes");
  }

  @Test
  void concurrentRequestsGetTheirOwnBatchesAndCertificates() throws Exception {
    Harness h = new Harness(N0, PARAMS);
    h.submit(TXS);
    h.apply(AvailabilityEvents.requestCert(AVAIL, ORIGIN)); // request 0: TXS
    h.submit(OTHER_TXS);
    EventList out = h.apply(AvailabilityEvents.requestCert(AVAIL, ORIGIN2)); // request 1
    assertThat(out).isEqualTo(EventList.of(send(MscMessages.requestSig(OTHER_TXS, 1), NODES)));
    ByteString id0 = batchId(TXS);
    ByteString id1 = batchId(OTHER_TXS);
    h.apply(received(N1, MscMessages.sig(sig(N1, id1), 1)));
    h.apply(received(N1, MscMessages.sig(sig(N1, id0), 0)));
    assertThat(h.apply(received(N2, MscMessages.sig(sig(N2, id1), 1))))
        .isEqualTo(EventList.of(AvailabilityEvents.newCert(ORIGIN2, cert(id1, N1, N2))));
    assertThat(h.apply(received(N3, MscMessages.sig(sig(N3, id0), 0))))
        .isEqualTo(EventList.of(AvailabilityEvents.newCert(ORIGIN, cert(id0, N1, N3))));
  }

  @Test
  void aSignatureFromANonMemberIsDropped() throws Exception {
    Harness h = requesterAwaitingSignatures(TXS);
    ByteString id = batchId(TXS);
    assertThat(h.apply(received(OUTSIDER, MscMessages.sig(sig(OUTSIDER, id), 0))).isEmpty())
        .isTrue();
    assertThat(h.msc().droppedMessages()).isEqualTo(1);
    h.apply(received(N1, MscMessages.sig(sig(N1, id), 0)));
    assertThat(h.msc().pendingCertRequests()).isEqualTo(1); // the outsider did not count
  }

  @Test
  void aSignatureForAnUnknownRequestIsDroppedWithoutAnyCheck() throws Exception {
    Harness h = requesterAwaitingSignatures(TXS);
    MultisigCollector msc = h.msc();
    EventList out =
        msc.applyEvents(EventList.of(received(N1, MscMessages.sig(sig(N1, batchId(TXS)), 5))));
    assertThat(out.isEmpty()).isTrue(); // not even a crypto request
    assertThat(msc.droppedMessages()).isEqualTo(1);
  }

  @Test
  void aSignatureForARequestThatHasNotAskedForSignaturesIsDropped() throws Exception {
    MultisigCollector msc = new MultisigCollector(CONFIG, PARAMS, N0);
    msc.applyEvents(EventList.of(AvailabilityEvents.requestCert(AVAIL, ORIGIN))); // no answer
    EventList out =
        msc.applyEvents(EventList.of(received(N1, MscMessages.sig(sig(N1, batchId(TXS)), 0))));
    assertThat(out.isEmpty()).isTrue();
    assertThat(msc.droppedMessages()).isEqualTo(1);
  }

  @Test
  void onlyTheFirstSignatureOfEachMemberIsChecked() throws Exception {
    Harness h = requesterAwaitingSignatures(TXS);
    ByteString id = batchId(TXS);
    h.apply(received(N1, MscMessages.sig(ByteString.copyFromUtf8("garbage"), 0)));
    // N1's valid signature comes too late: Mir likewise looks at a member's first one only.
    h.apply(received(N1, MscMessages.sig(sig(N1, id), 0)));
    h.apply(received(N2, MscMessages.sig(sig(N2, id), 0)));
    assertThat(h.msc().pendingCertRequests()).isEqualTo(1);
    assertThat(h.msc().droppedMessages()).isEqualTo(2);
    assertThat(h.apply(received(N3, MscMessages.sig(sig(N3, id), 0))))
        .isEqualTo(EventList.of(AvailabilityEvents.newCert(ORIGIN, cert(id, N2, N3))));
  }

  @Test
  void invalidSignaturesDoNotCount() throws Exception {
    Harness h = requesterAwaitingSignatures(TXS);
    ByteString id = batchId(TXS);
    ByteString otherUid = ByteString.copyFromUtf8("another instance");
    h.apply(received(N1, MscMessages.sig(sig(N2, id), 0))); // someone else's signature
    h.apply(received(N2, MscMessages.sig(sig(N2, batchId(OTHER_TXS)), 0))); // another batch
    h.apply(received(N3, MscMessages.sig(sig(N3, otherUid, id), 0))); // another instance
    assertThat(h.msc().pendingCertRequests()).isEqualTo(1);
    assertThat(h.msc().droppedMessages()).isEqualTo(3);
    h.apply(received(N0, MscMessages.sig(sig(N0, id), 0)));
    assertThat(h.msc().pendingCertRequests()).isEqualTo(1); // one valid signature, f+1 = 2
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badSignatureSizes")
  void anEmptyOrOversizedSignatureIsDroppedWithoutACheck(ByteString signature) throws Exception {
    Harness h = requesterAwaitingSignatures(TXS);
    EventList out = h.msc().applyEvents(EventList.of(received(N1, MscMessages.sig(signature, 0))));
    assertThat(out.isEmpty()).isTrue();
    assertThat(h.msc().droppedMessages()).isEqualTo(1);
  }

  static Stream<Named<ByteString>> badSignatureSizes() {
    return Stream.of(
        Named.of("empty", ByteString.EMPTY),
        Named.of(
            "oversized", ByteString.copyFrom(new byte[MultisigCollector.MAX_SIGNATURE_BYTES + 1])));
  }

  @Test
  void aSignatureAfterTheCertificateIsOutIsDropped() throws Exception {
    Harness h = requesterAwaitingSignatures(TXS);
    ByteString id = batchId(TXS);
    h.apply(received(N1, MscMessages.sig(sig(N1, id), 0)));
    h.apply(received(N2, MscMessages.sig(sig(N2, id), 0)));
    assertThat(h.apply(received(N3, MscMessages.sig(sig(N3, id), 0))).isEmpty()).isTrue();
    assertThat(h.msc().droppedMessages()).isEqualTo(1);
  }

  @Test
  void anUndecodableMessageIsDroppedAndCounted() throws Exception {
    Harness h = requesterAwaitingSignatures(TXS);
    Any garbage =
        Any.newBuilder()
            .setTypeUrl(Any.pack(MscMessages.sig(ByteString.EMPTY, 0)).getTypeUrl())
            .setValue(ByteString.copyFrom(new byte[] {(byte) 0xff, (byte) 0xff, 0x01}))
            .build();
    NetMessage msg =
        NetMessage.newBuilder().setDestModule(AVAIL.value()).setPayload(garbage).build();
    assertThat(h.apply(Events.messageReceived(N1, msg)).isEmpty()).isTrue();
    assertThat(h.msc().droppedMessages()).isEqualTo(1);
  }

  // ---------------------------------------------------------------------------------------------
  // Certificate creation: a member

  @Test
  void aMemberStoresTheBatchAndSignsItsIdForTheRequester() throws Exception {
    Harness h = new Harness(N2);
    ByteString id = batchId(TXS);
    EventList out = h.apply(received(N0, MscMessages.requestSig(TXS, 7)));
    assertThat(out).isEqualTo(EventList.of(send(MscMessages.sig(sig(N2, id), 7), List.of(N0))));
    assertThat(h.batchDb.contains(id)).isTrue();
    assertThat(MscMessages.sigData(UID, id))
        .containsExactly(UID, ByteString.copyFromUtf8("BATCH_STORED"), id);
  }

  @Test
  void aMemberSignsWhatANonRequesterMemberAsksEvenTwiceAsInMir() throws Exception {
    Harness h = new Harness(N2);
    ByteString id = batchId(TXS);
    EventList first = h.apply(received(N3, MscMessages.requestSig(TXS, 1)));
    EventList again = h.apply(received(N3, MscMessages.requestSig(TXS, 1)));
    assertThat(first).isEqualTo(again);
    assertThat(first).isEqualTo(EventList.of(send(MscMessages.sig(sig(N2, id), 1), List.of(N3))));
    assertThat(h.batchDb.batchCount()).isEqualTo(1);
  }

  @Test
  void aRequestSigFromANonMemberIsDroppedAndNothingIsStored() throws Exception {
    Harness h = new Harness(N2);
    assertThat(h.apply(received(OUTSIDER, MscMessages.requestSig(TXS, 0))).isEmpty()).isTrue();
    assertThat(h.batchDb.batchCount()).isZero();
    assertThat(h.msc().droppedMessages()).isEqualTo(1);
  }

  // ---------------------------------------------------------------------------------------------
  // Certificate verification

  static CertVerified verdict(EventList out) {
    assertThat(out.size()).isEqualTo(1);
    assertThat(out.get(0).destination()).isEqualTo(ISS);
    CertVerified v = out.get(0).payload(CertVerified.class);
    assertThat(v.getOrigin()).isEqualTo(ORIGIN);
    return v;
  }

  @Test
  void aCertificateWithExactlyFPlusOneValidSignaturesIsValid() throws Exception {
    // Mir rejects this (it demands more than f+1 signers), although it creates such certificates.
    EventList out = new Harness(N3).apply(verifyCert(cert(batchId(TXS), N0, N1)));
    assertThat(out).isEqualTo(EventList.of(AvailabilityEvents.certVerified(ORIGIN, true, "")));
  }

  @Test
  void aCertificateSignedByAllMembersIsValid() throws Exception {
    CertVerified v = verdict(new Harness(N3).apply(verifyCert(cert(batchId(TXS), N0, N1, N2, N3))));
    assertThat(v.getValid()).isTrue();
    assertThat(v.getErr()).isEmpty();
  }

  @Test
  void aCertificateCreatedByTheModuleVerifiesAtAnotherNode() throws Exception {
    Harness requester = requesterAwaitingSignatures(TXS);
    ByteString id = batchId(TXS);
    requester.apply(received(N2, MscMessages.sig(sig(N2, id), 0)));
    EventList out = requester.apply(received(N3, MscMessages.sig(sig(N3, id), 0)));
    Cert created = out.get(0).payload(NewCert.class).getCert();
    assertThat(verdict(new Harness(N1).apply(verifyCert(created))).getValid()).isTrue();
  }

  static Stream<Arguments> illFormedCertificates() throws Exception {
    ByteString id = batchId(TXS);
    Cert good = cert(id, N0, N1);
    io.github.mirframework.availability.msc.pb.Cert msc = good.getMsc();
    return Stream.of(
        Arguments.of(Named.of("no certificate", Cert.getDefaultInstance()), "empty"),
        Arguments.of(Named.of("one signer, f+1 = 2 needed", cert(id, N0)), "insufficient"),
        Arguments.of(Named.of("no signer", cert(id)), "insufficient"),
        Arguments.of(
            Named.of("a non-member signer", cert(id, N0, OUTSIDER)), "signer 9 is not a member"),
        Arguments.of(Named.of("a signer twice", cert(id, N1, N1)), "more than once"),
        Arguments.of(
            Named.of(
                "more signers than signatures",
                Cert.newBuilder().setMsc(msc.toBuilder().addSigners("2")).build()),
            "3 signers but 2 signatures"),
        Arguments.of(
            Named.of(
                "a malformed signer ID",
                Cert.newBuilder().setMsc(msc.toBuilder().setSigners(1, "not an id")).build()),
            "malformed signer"),
        Arguments.of(
            Named.of(
                "an empty batch ID",
                Cert.newBuilder().setMsc(msc.toBuilder().setBatchId(ByteString.EMPTY)).build()),
            "batch ID of 0 bytes"),
        Arguments.of(
            Named.of(
                "an oversized batch ID",
                Cert.newBuilder()
                    .setMsc(msc.toBuilder().setBatchId(ByteString.copyFrom(new byte[65])))
                    .build()),
            "batch ID of 65 bytes"),
        Arguments.of(
            Named.of(
                "an empty signature",
                Cert.newBuilder()
                    .setMsc(msc.toBuilder().setSignatures(0, ByteString.EMPTY))
                    .build()),
            "signature of 0 has 0 bytes"),
        Arguments.of(
            Named.of(
                "an oversized signature",
                Cert.newBuilder()
                    .setMsc(msc.toBuilder().setSignatures(1, ByteString.copyFrom(new byte[1025])))
                    .build()),
            "signature of 1 has 1025 bytes"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("illFormedCertificates")
  void anIllFormedCertificateIsInvalidWithoutAnySignatureCheck(Cert cert, String reason)
      throws Exception {
    MultisigCollector msc = new MultisigCollector(CONFIG, PARAMS, N3);
    CertVerified v = verdict(msc.applyEvents(EventList.of(verifyCert(cert)))); // no crypto event
    assertThat(v.getValid()).isFalse();
    assertThat(v.getErr()).contains(reason);
  }

  static Stream<Arguments> forgedCertificates() throws Exception {
    ByteString id = batchId(TXS);
    ByteString otherUid = ByteString.copyFromUtf8("another instance");
    return Stream.of(
        Arguments.of(
            Named.of(
                "node 1's signature made with node 2's key",
                AvailabilityEvents.mscCert(id, List.of(N0, N1), List.of(sig(N0, id), sig(N2, id)))),
            "1: "),
        Arguments.of(
            Named.of(
                "signatures swapped",
                AvailabilityEvents.mscCert(id, List.of(N0, N1), List.of(sig(N1, id), sig(N0, id)))),
            "0: "),
        Arguments.of(
            Named.of(
                "signatures over another batch", withBatchId(cert(batchId(OTHER_TXS), N0, N1), id)),
            "invalid signatures"),
        Arguments.of(
            Named.of(
                "signatures of another instance",
                AvailabilityEvents.mscCert(
                    id, List.of(N0, N1), List.of(sig(N0, otherUid, id), sig(N1, otherUid, id)))),
            "invalid signatures"),
        Arguments.of(
            Named.of(
                "garbage signature",
                AvailabilityEvents.mscCert(
                    id, List.of(N0, N2), List.of(sig(N0, id), ByteString.copyFromUtf8("xyz")))),
            "2: "));
  }

  static Cert withBatchId(Cert c, ByteString id) {
    return Cert.newBuilder().setMsc(c.getMsc().toBuilder().setBatchId(id)).build();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("forgedCertificates")
  void aCertificateWithAnInvalidSignatureIsInvalid(Cert cert, String reason) throws Exception {
    CertVerified v = verdict(new Harness(N3).apply(verifyCert(cert)));
    assertThat(v.getValid()).isFalse();
    assertThat(v.getErr()).contains(reason);
  }

  // ---------------------------------------------------------------------------------------------
  // Batch reconstruction

  @Test
  void aBatchStoredLocallyIsProvidedWithoutAskingAnyone() throws Exception {
    Harness h = new Harness(N1);
    h.storeAsSigner(TXS);
    assertThat(h.apply(requestTransactions(cert(batchId(TXS), N1, N2))))
        .isEqualTo(EventList.of(AvailabilityEvents.provideTransactions(ORIGIN, TXS)));
  }

  /** Node 1 lacks the batch and asked the signers 0, 2 and 3 (its request 0). */
  static Harness fetcher() throws Exception {
    Harness h = new Harness(N1);
    EventList out = h.apply(requestTransactions(cert(batchId(TXS), N0, N1, N2, N3)));
    assertThat(out)
        .isEqualTo(
            EventList.of(send(MscMessages.requestBatch(batchId(TXS), 0), List.of(N0, N2, N3))));
    assertThat(h.msc().pendingFetches()).isEqualTo(1);
    return h;
  }

  @Test
  void aMissingBatchIsAskedForFromTheSignersOtherThanItself() throws Exception {
    fetcher();
  }

  @Test
  void aSignerAnswersARequestForABatchItStores() throws Exception {
    Harness h = new Harness(N2);
    h.storeAsSigner(TXS);
    assertThat(h.apply(received(N1, MscMessages.requestBatch(batchId(TXS), 4))))
        .isEqualTo(EventList.of(send(MscMessages.provideBatch(TXS, 4), List.of(N1))));
  }

  @Test
  void aRequestForAnUnknownBatchIsNotAnswered() throws Exception {
    Harness h = new Harness(N2);
    assertThat(h.apply(received(N1, MscMessages.requestBatch(batchId(TXS), 4))).isEmpty()).isTrue();
  }

  static Stream<Arguments> invalidBatchRequests() {
    ByteString id = ByteString.copyFromUtf8("some batch");
    return Stream.of(
        Arguments.of(Named.of("from a non-member", OUTSIDER), id),
        Arguments.of(Named.of("with an empty batch ID", N1), ByteString.EMPTY),
        Arguments.of(
            Named.of("with an oversized batch ID", N1), ByteString.copyFrom(new byte[65])));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidBatchRequests")
  void anInvalidRequestForABatchIsDroppedWithoutALookup(NodeId from, ByteString id)
      throws Exception {
    MultisigCollector msc = new MultisigCollector(CONFIG, PARAMS, N2);
    EventList out = msc.applyEvents(EventList.of(received(from, MscMessages.requestBatch(id, 0))));
    assertThat(out.isEmpty()).isTrue();
    assertThat(msc.droppedMessages()).isEqualTo(1);
  }

  @Test
  void aFetchedBatchIsStoredAndProvided() throws Exception {
    Harness h = fetcher();
    assertThat(h.apply(received(N2, MscMessages.provideBatch(TXS, 0))))
        .isEqualTo(EventList.of(AvailabilityEvents.provideTransactions(ORIGIN, TXS)));
    assertThat(h.batchDb.contains(batchId(TXS))).isTrue();
    assertThat(h.msc().pendingFetches()).isZero();
    // Another signer's answer comes too late.
    assertThat(h.apply(received(N3, MscMessages.provideBatch(TXS, 0))).isEmpty()).isTrue();
    assertThat(h.msc().droppedMessages()).isEqualTo(1);
    // The batch is now found locally.
    assertThat(h.apply(requestTransactions(cert(batchId(TXS), N0, N2))))
        .isEqualTo(EventList.of(AvailabilityEvents.provideTransactions(ORIGIN, TXS)));
  }

  @Test
  void aBatchThatDoesNotMatchTheCertifiedIdIsRejectedNeverStoredAndTheFetchGoesOn()
      throws Exception {
    Harness h = fetcher();
    assertThat(h.apply(received(N2, MscMessages.provideBatch(OTHER_TXS, 0))).isEmpty()).isTrue();
    List<Request> reordered = List.of(TXS.get(1), TXS.get(0), TXS.get(2));
    assertThat(h.apply(received(N3, MscMessages.provideBatch(reordered, 0))).isEmpty()).isTrue();
    assertThat(h.batchDb.batchCount()).isZero();
    assertThat(h.msc().droppedMessages()).isEqualTo(2);
    assertThat(h.msc().pendingFetches()).isEqualTo(1);
    assertThat(h.apply(received(N0, MscMessages.provideBatch(TXS, 0))))
        .isEqualTo(EventList.of(AvailabilityEvents.provideTransactions(ORIGIN, TXS)));
    assertThat(h.batchDb.batchCount()).isEqualTo(1);
  }

  @Test
  void whenEverySignerAnswersWronglyTheFetchStalls() throws Exception {
    Harness h = fetcher();
    for (NodeId n : List.of(N0, N2, N3)) {
      assertThat(h.apply(received(n, MscMessages.provideBatch(OTHER_TXS, 0))).isEmpty()).isTrue();
    }
    assertThat(h.msc().pendingFetches()).isEqualTo(1);
    assertThat(h.batchDb.batchCount()).isZero();
  }

  static Stream<Arguments> invalidBatchAnswers() {
    return Stream.of(
        Arguments.of(Named.of("from a non-member", OUTSIDER), 0L),
        Arguments.of(Named.of("for an unknown request", N2), 3L),
        Arguments.of(Named.of("from a node that was not asked", N1), 0L));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidBatchAnswers")
  void anInvalidBatchAnswerIsDroppedWithoutWork(NodeId from, long reqId) throws Exception {
    Harness h = fetcher();
    EventList out =
        h.msc().applyEvents(EventList.of(received(from, MscMessages.provideBatch(TXS, reqId))));
    assertThat(out.isEmpty()).isTrue(); // not even a request to the mempool
    assertThat(h.msc().droppedMessages()).isEqualTo(1);
    assertThat(h.msc().pendingFetches()).isEqualTo(1);
  }

  @Test
  void onlyTheFirstAnswerOfEachSignerIsConsidered() throws Exception {
    Harness h = fetcher();
    h.apply(received(N2, MscMessages.provideBatch(OTHER_TXS, 0)));
    EventList out =
        h.msc().applyEvents(EventList.of(received(N2, MscMessages.provideBatch(TXS, 0))));
    assertThat(out.isEmpty()).isTrue();
    assertThat(h.msc().droppedMessages()).isEqualTo(2);
  }

  @Test
  void anIllFormedCertificateGetsNoTransactionsInsteadOfFailingTheNode() throws Exception {
    Harness h = new Harness(N1);
    for (Cert c :
        List.of(
            Cert.getDefaultInstance(), cert(batchId(TXS), N0), cert(batchId(TXS), N0, OUTSIDER))) {
      assertThat(h.apply(requestTransactions(c)))
          .isEqualTo(EventList.of(AvailabilityEvents.provideTransactions(ORIGIN, List.of())));
    }
    assertThat(h.msc().pendingFetches()).isZero();
  }

  @Test
  void aCertificateWhoseSignaturesDoNotVerifyGetsNoTransactionsAndNoFetch() throws Exception {
    // Well-formed, but the signatures are not those of the named signers, or not over this batch:
    // a Byzantine proposer's made-up certificate. Even a node that stores the batch answers no
    // transactions, as every correct node does (the verdict must not depend on local storage).
    Harness h = new Harness(N1);
    h.storeAsSigner(TXS);
    Cert good = cert(batchId(TXS), N1, N2);
    List<Cert> forged =
        List.of(
            AvailabilityEvents.mscCert(
                batchId(TXS),
                List.of(N1, N2),
                List.of(sig(N1, batchId(TXS)), sig(N3, batchId(TXS)))),
            AvailabilityEvents.mscCert(
                batchId(TXS),
                List.of(N1, N2),
                List.of(sig(N1, batchId(TXS)), sig(N2, batchId(List.of())))));
    for (Cert c : forged) {
      assertThat(h.apply(requestTransactions(c)))
          .isEqualTo(EventList.of(AvailabilityEvents.provideTransactions(ORIGIN, List.of())));
    }
    assertThat(h.msc().pendingFetches()).isZero();
    assertThat(h.apply(requestTransactions(good)))
        .isEqualTo(EventList.of(AvailabilityEvents.provideTransactions(ORIGIN, TXS)));
  }

  // ---------------------------------------------------------------------------------------------
  // Parameters, configuration, the reconfigurable module

  @Test
  void paramsRequireNAtLeast2fPlus1AndValidMembers() {
    assertThat(new MultisigCollector.Params(UID, NodeId.range(3), 1).certificateSize())
        .isEqualTo(2);
    assertThatThrownBy(() -> new MultisigCollector.Params(UID, NodeId.range(4), 2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cannot tolerate 2 failures among 4 nodes");
    assertThatThrownBy(() -> new MultisigCollector.Params(UID, NodeId.range(4), -1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new MultisigCollector.Params(UID, List.of(), 0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new MultisigCollector.Params(UID, List.of(N1, N1), 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("duplicates");
    assertThatThrownBy(() -> new MultisigCollector.Params(ByteString.EMPTY, NODES, 1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(MultisigCollector.Params.withMaxFaults(UID, NodeId.range(4)).f()).isEqualTo(1);
    assertThat(MultisigCollector.Params.withMaxFaults(UID, NodeId.range(5)).f()).isEqualTo(2);
    assertThat(MultisigCollector.Params.withMaxFaults(UID, NodeId.range(1)).f()).isZero();
    assertThat(PARAMS.withF(0).certificateSize()).isEqualTo(1);
  }

  @Test
  void configDefaultsAreMirs() {
    assertThat(CONFIG)
        .isEqualTo(
            new MultisigCollector.Config(
                ModuleId.of("availability"),
                ModuleId.of("mempool"),
                ModuleId.of("batchdb"),
                ModuleId.of("net"),
                ModuleId.of("crypto")));
  }

  @Test
  void aNonMemberNodeCanStillVerifyCertificates() throws Exception {
    Harness h = new Harness(OUTSIDER);
    assertThat(verdict(h.apply(verifyCert(cert(batchId(TXS), N0, N1)))).getValid()).isTrue();
  }

  @Test
  void theReconfigurableModuleCreatesOneInstancePerEpochWithItsIdAsUidAndFOfHalf()
      throws Exception {
    ModuleId epoch3 = AVAIL.then("3");
    List<NodeId> five = NodeId.range(5);
    Map<NodeId, EcdsaCrypto> keys =
        five.stream()
            .collect(Collectors.toMap(Function.identity(), n -> PseudoCrypto.create(five, n)));
    MultisigCollectorFactory factory = MultisigCollector.reconfigurable(CONFIG, N0);
    Harness h = new Harness(factory, keys.get(N0));
    // Membership given unsorted, with addresses: the instance sorts the node IDs.
    Map<NodeId, NodeAddress> members = new java.util.LinkedHashMap<>();
    for (NodeId n : List.of(N3, N1, NodeId.of("4"), N0, N2)) {
      members.put(n, NodeAddress.loopback(10000 + Integer.parseInt(n.value())));
    }
    InstanceParams ip = MultisigCollector.instanceParams(Membership.of(members));
    assertThat(ip.getMembershipMap()).containsEntry("4", "127.0.0.1:10004");
    assertThat(h.apply(FactoryEvents.newModule(AVAIL, epoch3, RetentionIndex.of(3), ip)).isEmpty())
        .isTrue();
    assertThat(factory.submoduleIds()).containsExactly(epoch3);

    h.submit(TXS);
    EventList out = h.apply(AvailabilityEvents.requestCert(epoch3, ORIGIN));
    assertThat(out)
        .isEqualTo(
            EventList.of(Events.sendMessage(NET, epoch3, MscMessages.requestSig(TXS, 0), five)));

    // n = 5, so f = 2 and a certificate needs 3 signatures over [availability/3, ...].
    ByteString uid = ByteString.copyFromUtf8("availability/3");
    ByteString id = batchId(TXS);
    for (NodeId n : List.of(N1, N2)) {
      ByteString s = keys.get(n).sign(MscMessages.sigData(uid, id));
      assertThat(h.apply(received(n, epoch3, MscMessages.sig(s, 0))).isEmpty()).isTrue();
    }
    ByteString wrongUid = keys.get(N3).sign(MscMessages.sigData(UID, id));
    assertThat(h.apply(received(N3, epoch3, MscMessages.sig(wrongUid, 0))).isEmpty()).isTrue();
    ByteString s4 = keys.get(NodeId.of("4")).sign(MscMessages.sigData(uid, id));
    out = h.apply(received(NodeId.of("4"), epoch3, MscMessages.sig(s4, 0)));
    assertThat(out.size()).isEqualTo(1);
    assertThat(out.get(0).payload(NewCert.class).getCert().getMsc().getSignersList())
        .containsExactly("1", "2", "4");
  }

  @Test
  void messagesForAnInstanceNotCreatedYetAreHandledOnceItIs() throws Exception {
    ModuleId epoch1 = AVAIL.then("1");
    MultisigCollectorFactory factory = MultisigCollector.reconfigurable(CONFIG, N2);
    Harness h = new Harness(N2, factory);
    assertThat(h.apply(received(N0, epoch1, MscMessages.requestSig(TXS, 5))).isEmpty()).isTrue();
    assertThat(factory.bufferedMessages()).isEqualTo(1);
    EventList out =
        h.apply(
            FactoryEvents.newModule(
                AVAIL, epoch1, RetentionIndex.of(1), MultisigCollector.instanceParams(NODES)));
    ByteString s =
        KEYS.get(N2)
            .sign(MscMessages.sigData(ByteString.copyFromUtf8(epoch1.value()), batchId(TXS)));
    assertThat(out)
        .isEqualTo(
            EventList.of(Events.sendMessage(NET, epoch1, MscMessages.sig(s, 5), List.of(N0))));
  }

  @Test
  void aMessageAddressedToTheFactoryItselfIsDroppedInsteadOfFailingTheNode() throws Exception {
    MultisigCollectorFactory factory = MultisigCollector.reconfigurable(CONFIG, N2);
    Harness h = new Harness(N2, factory);
    h.apply(
        FactoryEvents.newModule(
            AVAIL, AVAIL.then("0"), RetentionIndex.of(0), MultisigCollector.instanceParams(NODES)));
    EventList out =
        factory.applyEvents(
            EventList.of(
                received(N1, AVAIL, MscMessages.requestSig(TXS, 0)),
                received(N1, AVAIL.then("0"), MscMessages.requestSig(TXS, 1)),
                received(N3, AVAIL, MscMessages.sig(ByteString.copyFromUtf8("x"), 0))));
    assertThat(factory.droppedMessages()).isEqualTo(2);
    // The message for the instance went through: it asks the mempool for transaction IDs.
    assertThat(out.size()).isEqualTo(1);
    assertThat(out.get(0).destination()).isEqualTo(MEMPOOL);
  }

  @Test
  void instanceParamsOfAnotherTypeFailTheFactory() {
    MultisigCollectorFactory factory = MultisigCollector.reconfigurable(CONFIG, N0);
    Event bad =
        FactoryEvents.newModule(
            AVAIL, AVAIL.then("0"), RetentionIndex.of(0), RequestSigMessage.getDefaultInstance());
    assertThatThrownBy(() -> factory.applyEvents(EventList.of(bad))).isInstanceOf(Exception.class);
    Event empty =
        FactoryEvents.newModule(
            AVAIL, AVAIL.then("0"), RetentionIndex.of(0), InstanceParams.getDefaultInstance());
    assertThatThrownBy(() -> factory.applyEvents(EventList.of(empty)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("allNodes");
  }

  @Test
  void payloadTypesListEveryMessage() {
    assertThat(
            MscMessages.payloadTypes().stream()
                .map(m -> m.getDescriptorForType().getName())
                .toList())
        .containsExactlyInAnyOrder(
            "RequestSigMessage",
            "SigMessage",
            "RequestBatchMessage",
            "ProvideBatchMessage",
            "InstanceParams",
            "RetryTick");
    assertThat(AvailabilityEvents.payloadTypes()).hasSize(6);
  }

  // ---------------------------------------------------------------------------------------------
  // Retransmission and bounded work for other members

  @Test
  void missingSignaturesAreAskedForAgainFromTheSilentMembersOnlyUntilTheCertificateIsOut()
      throws Exception {
    Harness h = requesterAwaitingSignatures(TXS);
    assertThat(h.timers).hasSize(1);
    ByteString id = batchId(TXS);
    h.apply(received(N2, MscMessages.sig(sig(N2, id), 0)));
    // The RequestSig to 1 and 3 was lost (and 0's own answer too): ask 0, 1 and 3 again.
    assertThat(h.fireTimers())
        .isEqualTo(EventList.of(send(MscMessages.requestSig(TXS, 0), List.of(N0, N1, N3))));
    assertThat(h.timers).hasSize(1);
    assertThat(h.msc().retransmissions()).isEqualTo(3);
    assertThat(h.apply(received(N3, MscMessages.sig(sig(N3, id), 0))))
        .isEqualTo(EventList.of(AvailabilityEvents.newCert(ORIGIN, cert(id, N2, N3))));
    // Nothing left to ask for: the next tick sends nothing and schedules no other.
    assertThat(h.fireTimers().isEmpty()).isTrue();
    assertThat(h.timers).isEmpty();
  }

  @Test
  void aRepeatedSignatureRequestIsAnsweredWithTheSameSignatureWithoutNewWork() throws Exception {
    Harness h = new Harness(N2);
    ByteString id = batchId(TXS);
    EventList first = h.apply(received(N1, MscMessages.requestSig(TXS, 7)));
    assertThat(first).isEqualTo(EventList.of(send(MscMessages.sig(sig(N2, id), 7), List.of(N1))));
    long stored = h.msc().storedBytesForOthers();
    EventList again = h.apply(received(N1, MscMessages.requestSig(TXS, 7)));
    assertThat(again).isEqualTo(first);
    assertThat(h.msc().storedBytesForOthers()).isEqualTo(stored);
    assertThat(h.batchDb.batchCount()).isEqualTo(1);
  }

  @Test
  void aFailedBatchFetchIsRetriedFromTheSignersThatHaveNotAnswered() throws Exception {
    Harness h = fetcher();
    // Signer 0 answers with other transactions; 2 and 3 stay silent (their messages were lost).
    h.apply(received(N0, MscMessages.provideBatch(OTHER_TXS, 0)));
    assertThat(h.fireTimers())
        .isEqualTo(EventList.of(send(MscMessages.requestBatch(batchId(TXS), 0), List.of(N2, N3))));
    EventList out = h.apply(received(N3, MscMessages.provideBatch(TXS, 0)));
    assertThat(out).isEqualTo(EventList.of(AvailabilityEvents.provideTransactions(ORIGIN, TXS)));
    assertThat(h.msc().pendingFetches()).isZero();
    assertThat(h.fireTimers().isEmpty()).isTrue();
    assertThat(h.timers).isEmpty();
  }

  @Test
  void aByzantineMemberFloodingSignatureRequestsIsBoundedInRequestsAndBytes() throws Exception {
    MultisigCollector.Params limited = PARAMS.withSenderLimits(50, 64 * 1024);
    Harness h = new Harness(N2, limited);
    long sent = 0;
    for (int i = 0; i < 2_000; i++) {
      List<Request> big =
          List.of(
              ClientEvents.request(
                  ClientId.of("flood"), i, ByteString.copyFrom(new byte[4 * 1024])));
      h.apply(received(N1, MscMessages.requestSig(big, i)));
      sent += MscMessages.requestSig(big, i).getSerializedSize();
    }
    assertThat(sent).isGreaterThan(8_000_000L);
    assertThat(h.msc().storedBytesForOthers()).isLessThanOrEqualTo(64 * 1024);
    assertThat(h.batchDb.storedBytes()).isLessThanOrEqualTo(64 * 1024);
    assertThat(h.batchDb.batchCount()).isLessThanOrEqualTo(50);
    assertThat(h.msc().refusedOverLimit()).isGreaterThanOrEqualTo(2_000 - 50);
    // Another member is not affected by the flooder.
    ByteString id = batchId(TXS);
    assertThat(h.apply(received(N3, MscMessages.requestSig(TXS, 0))))
        .isEqualTo(EventList.of(send(MscMessages.sig(sig(N2, id), 0), List.of(N3))));
  }

  @Test
  void aBoundInstanceNamesItsEpochToTheMempoolAndStoresWithItAsRetentionIndex() throws Exception {
    Harness h = new Harness(N2, new MultisigCollector(CONFIG, PARAMS.withEpoch(6), N2));
    EventList out =
        h.availability.applyEvents(EventList.of(AvailabilityEvents.requestCert(AVAIL, ORIGIN)));
    assertThat(out.get(0).payload(RequestBatch.class).getEpoch()).isEqualTo(6);
    h.apply(received(N1, MscMessages.requestSig(TXS, 0)));
    assertThat(h.batchDb.contains(batchId(TXS))).isTrue();
    h.batchDb.applyEvents(
        EventList.of(
            io.github.mirframework.availability.batchdb.BatchDbEvents.garbageCollect(
                BATCHDB, RetentionIndex.of(7))));
    assertThat(h.batchDb.contains(batchId(TXS))).isFalse();
    assertThat(MultisigCollector.epochOf(ModuleId.of("availability/12"))).isEqualTo(12);
    assertThat(MultisigCollector.epochOf(ModuleId.of("availability")))
        .isEqualTo(MultisigCollector.Params.NO_EPOCH);
  }

  @Test
  void theReconfigurableModuleForwardsItsGarbageCollectionToTheBatchDb() throws Exception {
    MultisigCollectorFactory f = MultisigCollector.reconfigurable(CONFIG, N0);
    EventList out =
        f.applyEvents(EventList.of(FactoryEvents.garbageCollect(AVAIL, RetentionIndex.of(3))));
    assertThat(out)
        .isEqualTo(
            EventList.of(
                io.github.mirframework.availability.batchdb.BatchDbEvents.garbageCollect(
                    BATCHDB, RetentionIndex.of(3))));
  }
}
