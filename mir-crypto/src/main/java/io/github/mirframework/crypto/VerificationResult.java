package io.github.mirframework.crypto;

import java.util.Objects;

/**
 * The outcome of a signature check: valid, or invalid with a reason for humans (Mir returns a Go
 * {@code error}).
 *
 * @param valid whether the signature is valid
 * @param error why the signature is invalid; empty exactly when {@code valid} is true
 */
public record VerificationResult(boolean valid, String error) {
  private static final VerificationResult VALID = new VerificationResult(true, "");

  /** Validates that {@code error} is empty exactly for valid results. */
  public VerificationResult {
    Objects.requireNonNull(error, "error");
    if (valid != error.isEmpty()) {
      throw new IllegalArgumentException(
          valid
              ? "a valid result has no error, got '" + error + "'"
              : "an invalid result needs a non-empty error");
    }
  }

  /** The valid result. */
  public static VerificationResult ok() {
    return VALID;
  }

  /**
   * An invalid result.
   *
   * @param reason what was wrong, e.g. {@code "no public key registered for node 7"}; must not be
   *     empty
   */
  public static VerificationResult invalid(String reason) {
    return new VerificationResult(false, reason);
  }

  @Override
  public String toString() {
    return valid ? "valid" : "invalid: " + error;
  }
}
