package io.github.mirframework.threshcrypto;

import com.google.protobuf.ByteString;
import java.util.Objects;

/**
 * The outcome of {@link ThreshCrypto#recover}: the full signature, or the reason it could not be
 * recovered.
 *
 * @param ok whether a signature was recovered
 * @param signature the recovered signature; empty when {@code ok} is false
 * @param error why recovery failed; empty exactly when {@code ok} is true
 */
public record RecoveryResult(boolean ok, ByteString signature, String error) {

  /** Validates that exactly one of signature and error is meaningful. */
  public RecoveryResult {
    Objects.requireNonNull(signature, "signature");
    Objects.requireNonNull(error, "error");
    if (ok != error.isEmpty()) {
      throw new IllegalArgumentException(
          ok
              ? "a successful result has no error, got '" + error + "'"
              : "a failure needs an error");
    }
    if (!ok && !signature.isEmpty()) {
      throw new IllegalArgumentException("a failure has no signature");
    }
  }

  /** A successful recovery of {@code signature}. */
  public static RecoveryResult success(ByteString signature) {
    return new RecoveryResult(true, signature, "");
  }

  /** A failed recovery; {@code reason} must not be empty. */
  public static RecoveryResult failure(String reason) {
    return new RecoveryResult(false, ByteString.EMPTY, reason);
  }

  @Override
  public String toString() {
    return ok ? "recovered " + signature.size() + "-byte signature" : "recovery failed: " + error;
  }
}
