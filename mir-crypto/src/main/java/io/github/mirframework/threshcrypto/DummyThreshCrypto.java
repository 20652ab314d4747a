package io.github.mirframework.threshcrypto;

import com.google.protobuf.ByteString;
import io.github.mirframework.crypto.VerificationResult;
import io.github.mirframework.types.NodeId;
import java.util.List;
import java.util.Objects;

/**
 * A stand-in for tests (Mir's {@code threshcrypto.DummyCrypto}): a node's signature share is its ID
 * (UTF-8) followed by a fixed suffix, and the full signature is a constant. The data is ignored
 * everywhere. Provides no security. Immutable and thread-safe.
 */
public final class DummyThreshCrypto implements ThreshCrypto {
  private final ByteString shareSuffix;
  private final NodeId self;
  private final ByteString fullSignature;

  /**
   * Returns the dummy of node {@code self}.
   *
   * @param shareSuffix appended to a node's ID to form its signature share
   * @param self this node
   * @param fullSignature the only accepted full signature
   */
  public DummyThreshCrypto(ByteString shareSuffix, NodeId self, ByteString fullSignature) {
    this.shareSuffix = Objects.requireNonNull(shareSuffix, "shareSuffix");
    this.self = Objects.requireNonNull(self, "self");
    this.fullSignature = Objects.requireNonNull(fullSignature, "fullSignature");
  }

  /** Returns this node's ID followed by the suffix. */
  @Override
  public ByteString signShare(List<ByteString> data) {
    return shareOf(self);
  }

  /** Valid exactly when the share is {@code nodeId}'s ID followed by the suffix. */
  @Override
  public VerificationResult verifyShare(
      List<ByteString> data, ByteString signatureShare, NodeId nodeId) {
    return shareOf(nodeId).equals(signatureShare)
        ? VerificationResult.ok()
        : VerificationResult.invalid("dummy signature share mismatch");
  }

  /** Valid exactly when {@code signature} is the constant full signature. */
  @Override
  public VerificationResult verifyFull(List<ByteString> data, ByteString signature) {
    return fullSignature.equals(signature)
        ? VerificationResult.ok()
        : VerificationResult.invalid("dummy signature mismatch");
  }

  /**
   * Returns the constant full signature if every share is some node's ID followed by the suffix (as
   * in Mir, the number of shares is not checked).
   */
  @Override
  public RecoveryResult recover(List<ByteString> data, List<ByteString> signatureShares) {
    for (int k = 0; k < signatureShares.size(); k++) {
      ByteString share = signatureShares.get(k);
      int idLength = share.size() - shareSuffix.size();
      if (idLength <= 0 || !share.substring(idLength).equals(shareSuffix)) {
        return RecoveryResult.failure("dummy signature share " + k + " mismatch");
      }
    }
    return RecoveryResult.success(fullSignature);
  }

  private ByteString shareOf(NodeId nodeId) {
    return ByteString.copyFromUtf8(nodeId.value()).concat(shareSuffix);
  }

  @Override
  public String toString() {
    return "DummyThreshCrypto[" + self + "]";
  }
}
