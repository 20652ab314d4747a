package io.github.mirframework.threshcrypto;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.github.mirframework.crypto.CryptoEvents;
import io.github.mirframework.crypto.VerificationResult;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.pb.Origin;
import io.github.mirframework.threshcrypto.pb.Recover;
import io.github.mirframework.threshcrypto.pb.RecoverResult;
import io.github.mirframework.threshcrypto.pb.SignShare;
import io.github.mirframework.threshcrypto.pb.SignShareResult;
import io.github.mirframework.threshcrypto.pb.VerifyFull;
import io.github.mirframework.threshcrypto.pb.VerifyFullResult;
import io.github.mirframework.threshcrypto.pb.VerifyShare;
import io.github.mirframework.threshcrypto.pb.VerifyShareResult;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.util.List;

/**
 * Factories for the events of the {@link ThreshCryptoModule} (Mir's {@code threshcrypto/events}).
 * Requests carry an {@link Origin} (built with {@link CryptoEvents}); results are addressed to the
 * origin's module and carry the origin back unchanged.
 */
public final class ThreshCryptoEvents {
  private ThreshCryptoEvents() {}

  /**
   * Asks module {@code threshCrypto} for this node's signature share over the concatenation of
   * {@code data}.
   */
  public static Event signShare(ModuleId threshCrypto, List<ByteString> data, Origin origin) {
    return Event.of(
        threshCrypto, SignShare.newBuilder().addAllData(data).setOrigin(origin).build());
  }

  /** The answer to a {@code SignShare} request. */
  public static Event signShareResult(Origin origin, ByteString signatureShare) {
    return Event.of(
        CryptoEvents.originModule(origin),
        SignShareResult.newBuilder().setSignatureShare(signatureShare).setOrigin(origin).build());
  }

  /**
   * Asks module {@code threshCrypto} whether {@code share} is node {@code nodeId}'s valid share
   * over {@code data}.
   */
  public static Event verifyShare(
      ModuleId threshCrypto,
      List<ByteString> data,
      ByteString share,
      NodeId nodeId,
      Origin origin) {
    return Event.of(
        threshCrypto,
        VerifyShare.newBuilder()
            .addAllData(data)
            .setSignatureShare(share)
            .setNodeId(nodeId.value())
            .setOrigin(origin)
            .build());
  }

  /** The answer to a {@code VerifyShare} request. */
  public static Event verifyShareResult(Origin origin, VerificationResult result) {
    return Event.of(
        CryptoEvents.originModule(origin),
        VerifyShareResult.newBuilder()
            .setOk(result.valid())
            .setError(result.error())
            .setOrigin(origin)
            .build());
  }

  /**
   * Asks module {@code threshCrypto} whether {@code signature} is the group's valid signature over
   * {@code data}.
   */
  public static Event verifyFull(
      ModuleId threshCrypto, List<ByteString> data, ByteString signature, Origin origin) {
    return Event.of(
        threshCrypto,
        VerifyFull.newBuilder()
            .addAllData(data)
            .setFullSignature(signature)
            .setOrigin(origin)
            .build());
  }

  /** The answer to a {@code VerifyFull} request. */
  public static Event verifyFullResult(Origin origin, VerificationResult result) {
    return Event.of(
        CryptoEvents.originModule(origin),
        VerifyFullResult.newBuilder()
            .setOk(result.valid())
            .setError(result.error())
            .setOrigin(origin)
            .build());
  }

  /**
   * Asks module {@code threshCrypto} to combine {@code shares} into the group's signature over
   * {@code data}.
   */
  public static Event recover(
      ModuleId threshCrypto, List<ByteString> data, List<ByteString> shares, Origin origin) {
    return Event.of(
        threshCrypto,
        Recover.newBuilder()
            .addAllData(data)
            .addAllSignatureShares(shares)
            .setOrigin(origin)
            .build());
  }

  /** The answer to a {@code Recover} request. */
  public static Event recoverResult(Origin origin, RecoveryResult result) {
    return Event.of(
        CryptoEvents.originModule(origin),
        RecoverResult.newBuilder()
            .setFullSignature(result.signature())
            .setOk(result.ok())
            .setError(result.error())
            .setOrigin(origin)
            .build());
  }

  /**
   * Prototypes of all event payload types defined here, for registration with a {@code
   * PayloadRegistry}.
   */
  public static List<Message> payloadTypes() {
    return List.of(
        SignShare.getDefaultInstance(),
        SignShareResult.getDefaultInstance(),
        VerifyShare.getDefaultInstance(),
        VerifyShareResult.getDefaultInstance(),
        VerifyFull.getDefaultInstance(),
        VerifyFullResult.getDefaultInstance(),
        Recover.getDefaultInstance(),
        RecoverResult.getDefaultInstance());
  }
}
