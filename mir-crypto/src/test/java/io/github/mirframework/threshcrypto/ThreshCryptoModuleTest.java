package io.github.mirframework.threshcrypto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.github.mirframework.crypto.CryptoEvents;
import io.github.mirframework.crypto.VerificationResult;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.pb.Origin;
import io.github.mirframework.threshcrypto.pb.RecoverResult;
import io.github.mirframework.threshcrypto.pb.SignShareResult;
import io.github.mirframework.threshcrypto.pb.VerifyShare;
import io.github.mirframework.threshcrypto.pb.VerifyShareResult;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.util.List;
import org.junit.jupiter.api.Test;

class ThreshCryptoModuleTest {
  private static final ModuleId TC = ThreshCryptoModule.DEFAULT_ID;
  private static final ModuleId APP = ModuleId.of("app");
  private static final List<ByteString> DATA = List.of(ByteString.copyFromUtf8("block 7"));
  private static final ByteString SUFFIX = ByteString.copyFromUtf8("-share");
  private static final ByteString FULL = ByteString.copyFromUtf8("full");

  private static DummyThreshCrypto dummy(String self) {
    return new DummyThreshCrypto(SUFFIX, NodeId.of(self), FULL);
  }

  @Test
  void dummyEventsInAndOut() {
    Origin o1 = CryptoEvents.dslOrigin(APP, 1);
    Origin o2 = CryptoEvents.dslOrigin(APP, 2);
    Origin o3 = CryptoEvents.dslOrigin(APP, 3);
    Origin o4 = CryptoEvents.dslOrigin(APP, 4);
    Origin o5 = CryptoEvents.dslOrigin(APP, 5);
    ByteString share1 = ByteString.copyFromUtf8("1-share");
    EventList out =
        new ThreshCryptoModule(dummy("0"))
            .applyEvents(
                EventList.of(
                    Events.init(TC),
                    ThreshCryptoEvents.signShare(TC, DATA, o1),
                    ThreshCryptoEvents.verifyShare(TC, DATA, share1, NodeId.of("1"), o2),
                    ThreshCryptoEvents.verifyShare(TC, DATA, share1, NodeId.of("2"), o3),
                    ThreshCryptoEvents.verifyFull(TC, DATA, FULL, o4),
                    ThreshCryptoEvents.recover(
                        TC, DATA, List.of(share1, ByteString.copyFromUtf8("x")), o5)));
    assertEquals(
        EventList.of(
            ThreshCryptoEvents.signShareResult(o1, ByteString.copyFromUtf8("0-share")),
            ThreshCryptoEvents.verifyShareResult(o2, VerificationResult.ok()),
            ThreshCryptoEvents.verifyShareResult(
                o3, VerificationResult.invalid("dummy signature share mismatch")),
            ThreshCryptoEvents.verifyFullResult(o4, VerificationResult.ok()),
            ThreshCryptoEvents.recoverResult(
                o5, RecoveryResult.failure("dummy signature share 1 mismatch"))),
        out);
    for (var e : out) {
      assertEquals(APP, e.destination());
    }
  }

  @Test
  void tblsRoundTripThroughEvents() {
    List<NodeId> members = NodeId.range(4);
    List<TblsCrypto> keys = TblsCrypto.keygen(3, members, 5);
    Origin origin = CryptoEvents.origin(APP);
    List<ByteString> shares =
        keys.stream()
            .limit(3)
            .map(
                k ->
                    new ThreshCryptoModule(k)
                        .applyEvents(EventList.of(ThreshCryptoEvents.signShare(TC, DATA, origin)))
                        .get(0)
                        .payload(SignShareResult.class)
                        .getSignatureShare())
            .toList();

    ThreshCryptoModule node3 = new ThreshCryptoModule(keys.get(3));
    EventList verified =
        node3.applyEvents(
            EventList.of(
                ThreshCryptoEvents.verifyShare(TC, DATA, shares.get(1), NodeId.of("1"), origin),
                Event.of(
                    TC,
                    VerifyShare.newBuilder()
                        .addAllData(DATA)
                        .setSignatureShare(shares.get(1))
                        .setNodeId(" bad")
                        .setOrigin(origin)
                        .build())));
    assertTrue(verified.get(0).payload(VerifyShareResult.class).getOk());
    VerifyShareResult bad = verified.get(1).payload(VerifyShareResult.class);
    assertFalse(bad.getOk());
    assertTrue(bad.getError().contains("invalid node ID"), bad.getError());

    RecoverResult recovered =
        node3
            .applyEvents(EventList.of(ThreshCryptoEvents.recover(TC, DATA, shares, origin)))
            .get(0)
            .payload(RecoverResult.class);
    assertTrue(recovered.getOk(), recovered.getError());
    assertEquals(
        EventList.of(ThreshCryptoEvents.verifyFullResult(origin, VerificationResult.ok())),
        node3.applyEvents(
            EventList.of(
                ThreshCryptoEvents.verifyFull(TC, DATA, recovered.getFullSignature(), origin))));

    RecoverResult failed =
        node3
            .applyEvents(
                EventList.of(ThreshCryptoEvents.recover(TC, DATA, shares.subList(0, 2), origin)))
            .get(0)
            .payload(RecoverResult.class);
    assertFalse(failed.getOk());
    assertTrue(failed.getFullSignature().isEmpty());
    assertFalse(failed.getError().isEmpty());
  }

  @Test
  void unexpectedEventsAndRequestsWithoutOriginAreErrors() {
    ThreshCryptoModule module = new ThreshCryptoModule(dummy("0"));
    assertThrows(
        IllegalArgumentException.class,
        () -> module.applyEvents(EventList.of(Events.testingString(TC, "x"))));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            module.applyEvents(
                EventList.of(ThreshCryptoEvents.signShare(TC, DATA, Origin.getDefaultInstance()))));
    assertEquals(8, ThreshCryptoEvents.payloadTypes().size());
  }

  @Test
  void recoveryResultsAreConsistent() {
    assertThrows(IllegalArgumentException.class, () -> RecoveryResult.failure(""));
    assertThrows(IllegalArgumentException.class, () -> new RecoveryResult(false, FULL, "failed"));
    assertTrue(RecoveryResult.success(FULL).ok());
  }
}
