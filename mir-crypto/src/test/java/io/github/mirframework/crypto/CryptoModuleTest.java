package io.github.mirframework.crypto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.github.mirframework.crypto.pb.NodeSigsVerified;
import io.github.mirframework.crypto.pb.SigVerItem;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.pb.Origin;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

class CryptoModuleTest {
  private static final ModuleId CRYPTO = CryptoModule.DEFAULT_ID;
  private static final ModuleId CHECKPOINT = ModuleId.of("checkpoint");
  private static final List<NodeId> NODES = NodeId.range(4);
  private static final List<ByteString> DATA =
      List.of(ByteString.copyFromUtf8("epoch"), ByteString.copyFromUtf8("7"));

  private static final EcdsaCrypto NODE0 = PseudoCrypto.create(NODES, NodeId.of("0"));

  private static ByteString signedBy(int node, List<ByteString> data) {
    return PseudoCrypto.create(NODES, NodeId.of(node)).sign(data);
  }

  @Test
  void signRequestIsAnsweredWithTheSignatureToTheOriginModule() {
    Origin origin = CryptoEvents.dslOrigin(CHECKPOINT, 42);
    EventList out =
        new CryptoModule(NODE0)
            .applyEvents(EventList.of(CryptoEvents.signRequest(CRYPTO, DATA, origin)));
    assertEquals(EventList.of(CryptoEvents.signResult(origin, NODE0.sign(DATA))), out);
    assertEquals(CHECKPOINT, out.get(0).destination());
  }

  @Test
  void verifyNodeSigsReportsEachSignatureInRequestOrder() {
    Origin origin = CryptoEvents.contextStoreOrigin(CHECKPOINT, 5);
    List<SigVerItem> items =
        List.of(
            CryptoEvents.sigVerItem(DATA, signedBy(1, DATA), NodeId.of("1")),
            CryptoEvents.sigVerItem(DATA, signedBy(1, DATA), NodeId.of("2")),
            CryptoEvents.sigVerItem(DATA, signedBy(3, DATA), NodeId.of("3")),
            CryptoEvents.sigVerItem(DATA, ByteString.copyFromUtf8("garbage"), NodeId.of("2")),
            CryptoEvents.sigVerItem(DATA, signedBy(2, DATA), NodeId.of("9")),
            SigVerItem.newBuilder()
                .addAllData(DATA)
                .setSignature(signedBy(1, DATA))
                .setNodeId("")
                .build(),
            CryptoEvents.sigVerItem(List.of(), signedBy(0, DATA), NodeId.of("0")));

    EventList out =
        new CryptoModule(NODE0)
            .applyEvents(EventList.of(CryptoEvents.verifyNodeSigs(CRYPTO, items, origin)));

    assertEquals(1, out.size());
    assertEquals(CHECKPOINT, out.get(0).destination());
    NodeSigsVerified result = out.get(0).payload(NodeSigsVerified.class);
    assertEquals(origin, result.getOrigin());
    assertEquals(List.of("1", "2", "3", "2", "9", "", "0"), result.getNodeIdsList());
    assertEquals(List.of(true, false, true, false, false, false, false), result.getValidList());
    assertFalse(result.getAllOk());
    List<String> errors = result.getErrorsList();
    assertEquals("", errors.get(0));
    assertEquals("", errors.get(2));
    assertTrue(errors.get(1).contains("verification failed"), errors.get(1));
    assertTrue(errors.get(3).contains("malformed ECDSA signature"), errors.get(3));
    assertTrue(errors.get(4).contains("no public key registered for node 9"), errors.get(4));
    assertTrue(errors.get(5).contains("invalid node ID"), errors.get(5));
    assertTrue(errors.get(6).contains("verification failed"), errors.get(6));
  }

  @Test
  void allOkWhenEverySignatureIsValidOrTheBatchIsEmpty() {
    Origin origin = CryptoEvents.origin(CHECKPOINT);
    List<SigVerItem> items = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      items.add(CryptoEvents.sigVerItem(DATA, signedBy(i, DATA), NodeId.of(i)));
    }
    EventList out =
        new CryptoModule(NODE0)
            .applyEvents(
                EventList.of(
                    CryptoEvents.verifyNodeSigs(CRYPTO, items, origin),
                    CryptoEvents.verifyNodeSigs(CRYPTO, List.of(), origin)));
    NodeSigsVerified all = out.get(0).payload(NodeSigsVerified.class);
    assertTrue(all.getAllOk());
    assertEquals(List.of("", "", "", ""), all.getErrorsList());
    NodeSigsVerified none = out.get(1).payload(NodeSigsVerified.class);
    assertTrue(none.getAllOk());
    assertEquals(0, none.getValidCount());
  }

  @Test
  void answersMixedRequestsInInputOrderAndIgnoresInit() {
    Origin a = CryptoEvents.dslOrigin(CHECKPOINT, 1);
    Origin b =
        CryptoEvents.customOrigin(
            ModuleId.of("iss"), Origin.newBuilder().setModule("inner").build());
    Origin c = CryptoEvents.dslOrigin(CHECKPOINT, 3);
    CryptoModule module = new CryptoModule(new DummyCrypto(ByteString.copyFromUtf8("sig")));
    EventList out =
        module.applyEvents(
            EventList.of(
                CryptoEvents.signRequest(CRYPTO, DATA, a),
                Events.init(CRYPTO),
                CryptoEvents.verifyNodeSig(
                    CRYPTO, DATA, ByteString.copyFromUtf8("sig"), NodeId.of("1"), b),
                CryptoEvents.signRequest(CRYPTO, List.of(), c)));
    assertEquals(
        EventList.of(
            CryptoEvents.signResult(a, ByteString.copyFromUtf8("sig")),
            CryptoEvents.nodeSigsVerified(b, List.of("1"), List.of(VerificationResult.ok())),
            CryptoEvents.signResult(c, ByteString.copyFromUtf8("sig"))),
        out);
  }

  @Test
  void aCryptoThatThrowsWhileVerifyingGivesAnInvalidResult() {
    Crypto throwing =
        new Crypto() {
          @Override
          public ByteString sign(List<ByteString> data) {
            return ByteString.EMPTY;
          }

          @Override
          public VerificationResult verify(
              List<ByteString> data, ByteString signature, NodeId nodeId) {
            throw new IllegalStateException("boom");
          }
        };
    EventList out =
        new CryptoModule(throwing)
            .applyEvents(
                EventList.of(
                    CryptoEvents.verifyNodeSig(
                        CRYPTO,
                        DATA,
                        ByteString.EMPTY,
                        NodeId.of("1"),
                        CryptoEvents.origin(CHECKPOINT))));
    NodeSigsVerified r = out.get(0).payload(NodeSigsVerified.class);
    assertFalse(r.getValid(0));
    assertTrue(r.getErrors(0).contains("boom"), r.getErrors(0));
  }

  @Test
  void unexpectedEventsAndRequestsWithoutOriginAreErrors() {
    CryptoModule module = new CryptoModule(NODE0);
    var e =
        assertThrows(
            IllegalArgumentException.class,
            () -> module.applyEvents(EventList.of(Events.testingUint(CRYPTO, 1))));
    assertTrue(e.getMessage().contains("TestingUint"), e.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () ->
            module.applyEvents(
                EventList.of(CryptoEvents.signRequest(CRYPTO, DATA, Origin.getDefaultInstance()))));
  }

  @Test
  void parallelVerificationGivesTheSameOutputAsSequential() throws Exception {
    List<SigVerItem> items = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      List<ByteString> data = List.of(ByteString.copyFromUtf8("msg " + i));
      int signer = i % 4;
      // Every fifth signature is claimed for the wrong node.
      NodeId claimed = NodeId.of(i % 5 == 0 ? (signer + 1) % 4 : signer);
      items.add(CryptoEvents.sigVerItem(data, signedBy(signer, data), claimed));
    }
    Origin origin = CryptoEvents.origin(CHECKPOINT);
    List<Event> requests = new ArrayList<>();
    for (int k = 0; k < 4; k++) {
      requests.add(CryptoEvents.verifyNodeSigs(CRYPTO, items.subList(k * 10, k * 10 + 10), origin));
      requests.add(
          CryptoEvents.signRequest(CRYPTO, List.of(ByteString.copyFromUtf8("s" + k)), origin));
    }

    EventList sequential = new CryptoModule(NODE0).applyEvents(EventList.of(requests));
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      CryptoModule parallel =
          new CryptoModule(NODE0, Parallelism.using(pool, 3).withMinBatchSize(2));
      for (int round = 0; round < 3; round++) {
        assertEquals(sequential, parallel.applyEvents(EventList.of(requests)));
      }
      // A shut-down pool refuses helpers: the calling thread does everything.
      pool.shutdown();
      assertEquals(sequential, parallel.applyEvents(EventList.of(requests)));
    } finally {
      pool.shutdownNow();
      assertTrue(pool.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS));
    }
    assertEquals(8, sequential.size());
    int valid = 0;
    for (Event e : sequential) {
      if (e.is(NodeSigsVerified.class)) {
        for (boolean v : e.payload(NodeSigsVerified.class).getValidList()) {
          valid += v ? 1 : 0;
        }
      }
    }
    assertEquals(32, valid);
  }

  @Test
  void payloadTypesAreListed() {
    assertEquals(6, CryptoEvents.payloadTypes().size());
  }
}
