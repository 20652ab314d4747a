package io.github.mirframework.crypto;

import com.google.protobuf.ByteString;
import io.github.mirframework.types.NodeId;
import java.util.List;
import java.util.Objects;

/**
 * A stand-in for tests and demos (Mir's {@code DummyCrypto}): every signature is the same constant,
 * and a signature verifies exactly when it equals that constant, whatever the data and node.
 * Provides no security at all. Immutable and thread-safe.
 */
public final class DummyCrypto implements Crypto {
  private final ByteString dummySignature;

  /** Returns a dummy crypto that signs everything with {@code dummySignature}. */
  public DummyCrypto(ByteString dummySignature) {
    this.dummySignature = Objects.requireNonNull(dummySignature, "dummySignature");
  }

  /** The only signature this instance produces and accepts. */
  public ByteString dummySignature() {
    return dummySignature;
  }

  /** Returns the constant signature, ignoring {@code data}. */
  @Override
  public ByteString sign(List<ByteString> data) {
    return dummySignature;
  }

  /**
   * Valid exactly when {@code signature} equals the constant; {@code data} and {@code nodeId} are
   * ignored.
   */
  @Override
  public VerificationResult verify(List<ByteString> data, ByteString signature, NodeId nodeId) {
    return dummySignature.equals(signature)
        ? VerificationResult.ok()
        : VerificationResult.invalid("dummy signature mismatch");
  }

  @Override
  public String toString() {
    return "DummyCrypto";
  }
}
