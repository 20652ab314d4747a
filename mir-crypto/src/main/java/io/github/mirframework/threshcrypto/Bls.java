package io.github.mirframework.threshcrypto;

import java.math.BigInteger;
import supranational.blst.BLST_ERROR;
import supranational.blst.P1;
import supranational.blst.P1_Affine;
import supranational.blst.P2;
import supranational.blst.P2_Affine;
import supranational.blst.SecretKey;

/**
 * The BLS12-381 operations of {@link TblsCrypto}, on blst (jblst): the "minimal public key"
 * variant, with public keys in G1 (48 bytes compressed) and signatures in G2 (96 bytes compressed),
 * and the hash-to-curve suite of the IETF BLS signature draft's basic scheme.
 *
 * <p>blst's {@code P1}/{@code P2} methods ({@code mult}, {@code add}, {@code hash_to}, {@code
 * sign_with}) change the point they are called on; this class only calls them on points it has just
 * created, so the affine points and keys kept by a {@link TblsCrypto} are never changed and may be
 * read by several threads at once.
 */
final class Bls {
  /** The domain separation tag of the basic scheme with signatures in G2. */
  static final String DST = "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_";

  /** The order r of the BLS12-381 groups: private keys and shares are numbers mod r. */
  static final BigInteger R =
      new BigInteger("73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001", 16);

  static final int SCALAR_LENGTH = 32;
  static final int PUBLIC_KEY_LENGTH = 48;
  static final int SIGNATURE_LENGTH = 96;

  private Bls() {}

  /** Returns the secret key with value {@code x}, which must be in {@code [1, r-1]}. */
  static SecretKey secretKey(BigInteger x) {
    SecretKey sk = new SecretKey();
    sk.from_bendian(toBytes32(x));
    return sk;
  }

  /** Returns {@code x · G1}, the public key of secret {@code x}. */
  static P1_Affine publicKey(BigInteger x) {
    return new P1(secretKey(x)).to_affine();
  }

  /** Returns the 32-byte big-endian encoding of {@code 0 <= x < 2^256}. */
  static byte[] toBytes32(BigInteger x) {
    byte[] raw = x.toByteArray();
    if (raw.length == SCALAR_LENGTH) {
      return raw;
    }
    byte[] out = new byte[SCALAR_LENGTH];
    int skip = raw.length > SCALAR_LENGTH ? raw.length - SCALAR_LENGTH : 0;
    System.arraycopy(raw, skip, out, SCALAR_LENGTH - (raw.length - skip), raw.length - skip);
    return out;
  }

  /**
   * Decodes a compressed G1 public key, checking that it is in the prime-order subgroup and not the
   * identity.
   *
   * @throws IllegalArgumentException saying what is wrong
   */
  static P1_Affine decodePublicKey(byte[] compressed) {
    if (compressed.length != PUBLIC_KEY_LENGTH) {
      throw new IllegalArgumentException(
          compressed.length + " bytes, a compressed G1 point has " + PUBLIC_KEY_LENGTH);
    }
    P1_Affine p;
    try {
      p = new P1_Affine(compressed);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
    if (p.is_inf()) {
      throw new IllegalArgumentException("the point at infinity is not a valid key");
    }
    if (!p.in_group()) {
      throw new IllegalArgumentException("point is not in the G1 subgroup");
    }
    return p;
  }

  /**
   * Decodes a compressed G2 signature, checking that it is in the prime-order subgroup and not the
   * identity.
   *
   * @throws IllegalArgumentException saying what is wrong
   */
  static P2_Affine decodeSignature(byte[] compressed) {
    if (compressed.length != SIGNATURE_LENGTH) {
      throw new IllegalArgumentException(
          compressed.length + " bytes, a compressed G2 point has " + SIGNATURE_LENGTH);
    }
    P2_Affine p;
    try {
      p = new P2_Affine(compressed);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
    if (p.is_inf()) {
      throw new IllegalArgumentException("the point at infinity is not a valid signature");
    }
    if (!p.in_group()) {
      throw new IllegalArgumentException("point is not in the G2 subgroup");
    }
    return p;
  }

  /** Signs the message {@code msg} with {@code sk}. */
  static P2_Affine sign(SecretKey sk, byte[] msg) {
    return new P2().hash_to(msg, DST).sign_with(sk).to_affine();
  }

  /**
   * Whether {@code sig} is a valid signature on {@code msg} under {@code pk}; null on success, else
   * blst's error.
   */
  static BLST_ERROR verify(P2_Affine sig, P1_Affine pk, byte[] msg) {
    BLST_ERROR err = sig.core_verify(pk, true, msg, DST);
    return err == BLST_ERROR.BLST_SUCCESS ? null : err;
  }

  /**
   * Evaluates, in the exponent, the polynomial whose coefficient commitments are {@code
   * commitments} at {@code x}: returns {@code Σ commitments[j] · x^j} (Horner's rule).
   */
  static P1_Affine evalCommitments(P1_Affine[] commitments, long x) {
    BigInteger bx = BigInteger.valueOf(x);
    P1 acc = commitments[commitments.length - 1].to_jacobian();
    for (int j = commitments.length - 2; j >= 0; j--) {
      acc = acc.mult(bx).add(commitments[j]);
    }
    return acc.to_affine();
  }

  /**
   * Evaluates the polynomial with coefficients {@code coefficients} (constant term first) at {@code
   * x}, mod r.
   */
  static BigInteger evalPolynomial(BigInteger[] coefficients, long x) {
    BigInteger bx = BigInteger.valueOf(x);
    BigInteger acc = BigInteger.ZERO;
    for (int j = coefficients.length - 1; j >= 0; j--) {
      acc = acc.multiply(bx).add(coefficients[j]).mod(R);
    }
    return acc;
  }

  /**
   * Interpolates, in the exponent, the value at 0 of the polynomial through the points {@code
   * (xs[i], ys[i])}: returns {@code Σ λ_i · ys[i]} with the Lagrange coefficients {@code λ_i =
   * Π_{j≠i} x_j / (x_j − x_i) mod r}. The {@code xs} must be distinct and non-zero mod r.
   */
  static P2_Affine interpolateAtZero(long[] xs, P2_Affine[] ys) {
    P2 acc = null;
    for (int i = 0; i < xs.length; i++) {
      BigInteger num = BigInteger.ONE;
      BigInteger den = BigInteger.ONE;
      for (int j = 0; j < xs.length; j++) {
        if (j != i) {
          num = num.multiply(BigInteger.valueOf(xs[j])).mod(R);
          den = den.multiply(BigInteger.valueOf(xs[j] - xs[i])).mod(R);
        }
      }
      BigInteger lambda = num.multiply(den.modInverse(R)).mod(R);
      P2 term = ys[i].to_jacobian().mult(lambda);
      acc = acc == null ? term : acc.add(term);
    }
    return acc.to_affine();
  }
}
