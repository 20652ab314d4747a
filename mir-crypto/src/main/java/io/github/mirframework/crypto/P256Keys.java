package io.github.mirframework.crypto;

import com.google.protobuf.ByteString;
import java.io.IOException;
import java.math.BigInteger;
import java.security.InvalidKeyException;
import java.util.Locale;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.params.ECDomainParameters;
import org.bouncycastle.crypto.params.ECNamedDomainParameters;
import org.bouncycastle.crypto.params.ECPrivateKeyParameters;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.util.PrivateKeyFactory;
import org.bouncycastle.crypto.util.PrivateKeyInfoFactory;
import org.bouncycastle.crypto.util.PublicKeyFactory;
import org.bouncycastle.crypto.util.SubjectPublicKeyInfoFactory;
import org.bouncycastle.math.ec.FixedPointCombMultiplier;

/** Decoding, encoding and derivation of NIST P-256 keys with BouncyCastle's lightweight API. */
final class P256Keys {
  /**
   * P-256 (secp256r1, prime256v1) under its OID, so encoded keys name the curve instead of spelling
   * it out.
   */
  static final ECNamedDomainParameters DOMAIN =
      ECNamedDomainParameters.lookup(SECObjectIdentifiers.secp256r1);

  private P256Keys() {}

  /** The order of the P-256 base point. */
  static BigInteger order() {
    return DOMAIN.getN();
  }

  /**
   * Decodes a PKCS#8 DER private key.
   *
   * @throws InvalidKeyException if the bytes are not PKCS#8 or the key is not an EC key on P-256
   */
  static ECPrivateKeyParameters decodePrivate(byte[] pkcs8) throws InvalidKeyException {
    AsymmetricKeyParameter key;
    try {
      key = PrivateKeyFactory.createKey(pkcs8);
    } catch (IOException | RuntimeException e) {
      throw new InvalidKeyException("not a PKCS#8 private key: " + describe(e), e);
    }
    if (!(key instanceof ECPrivateKeyParameters ec)) {
      throw new InvalidKeyException(
          "unsupported private key type " + keyType(key) + ": only ECDSA P-256 keys are supported");
    }
    requireP256(ec.getParameters());
    try {
      return new ECPrivateKeyParameters(ec.getD(), DOMAIN);
    } catch (IllegalArgumentException e) {
      throw new InvalidKeyException("invalid P-256 private key: " + describe(e), e);
    }
  }

  /**
   * Decodes a SubjectPublicKeyInfo DER public key.
   *
   * @throws InvalidKeyException if the bytes are not SubjectPublicKeyInfo, the key is not an EC key
   *     on P-256, or the point is not a valid public point
   */
  static ECPublicKeyParameters decodePublic(byte[] spki) throws InvalidKeyException {
    AsymmetricKeyParameter key;
    try {
      key = PublicKeyFactory.createKey(spki);
    } catch (IOException | RuntimeException e) {
      throw new InvalidKeyException("not a SubjectPublicKeyInfo public key: " + describe(e), e);
    }
    if (!(key instanceof ECPublicKeyParameters ec)) {
      throw new InvalidKeyException(
          "unsupported public key type " + keyType(key) + ": only ECDSA P-256 keys are supported");
    }
    requireP256(ec.getParameters());
    try {
      // Re-created on the named domain so that re-encoding names the curve; the constructor
      // validates the point.
      return new ECPublicKeyParameters(ec.getQ().normalize(), DOMAIN);
    } catch (IllegalArgumentException e) {
      throw new InvalidKeyException("invalid P-256 public point: " + describe(e), e);
    }
  }

  /** Returns the PKCS#8 DER encoding of {@code key}. */
  static byte[] encodePrivate(ECPrivateKeyParameters key) {
    try {
      return PrivateKeyInfoFactory.createPrivateKeyInfo(key).getEncoded("DER");
    } catch (IOException e) {
      throw new IllegalStateException("cannot encode a P-256 private key", e);
    }
  }

  /** Returns the SubjectPublicKeyInfo DER encoding of {@code key}. */
  static byte[] encodePublic(ECPublicKeyParameters key) {
    try {
      return SubjectPublicKeyInfoFactory.createSubjectPublicKeyInfo(key).getEncoded("DER");
    } catch (IOException e) {
      throw new IllegalStateException("cannot encode a P-256 public key", e);
    }
  }

  /** Returns the private key with scalar {@code d}, which must be in {@code [1, n-1]}. */
  static ECPrivateKeyParameters privateKey(BigInteger d) {
    return new ECPrivateKeyParameters(d, DOMAIN);
  }

  /** Returns the public key of {@code key}. */
  static ECPublicKeyParameters publicKey(ECPrivateKeyParameters key) {
    return new ECPublicKeyParameters(
        new FixedPointCombMultiplier().multiply(DOMAIN.getG(), key.getD()).normalize(), DOMAIN);
  }

  /** Returns the encoded key pair whose private scalar is {@code d}. */
  static EncodedKeyPair encodedPair(BigInteger d) {
    ECPrivateKeyParameters priv = privateKey(d);
    return new EncodedKeyPair(
        ByteString.copyFrom(encodePrivate(priv)),
        ByteString.copyFrom(encodePublic(publicKey(priv))));
  }

  private static void requireP256(ECDomainParameters params) throws InvalidKeyException {
    // Compares curve, base point and order, so keys that spell the P-256 parameters out explicitly
    // are accepted too.
    if (!DOMAIN.equals(params)) {
      String name =
          params instanceof ECNamedDomainParameters named
              ? "curve " + named.getName()
              : "a " + params.getCurve().getFieldSize() + "-bit curve";
      throw new InvalidKeyException(
          "unsupported EC key on " + name + ": only P-256 (secp256r1) is supported");
    }
  }

  private static String keyType(AsymmetricKeyParameter key) {
    String name = key.getClass().getSimpleName();
    return name.replace("KeyParameters", "")
        .replace("Private", "")
        .replace("Public", "")
        .replace("Crt", "")
        .toUpperCase(Locale.ROOT);
  }

  static String describe(Throwable e) {
    String msg = e.getMessage();
    return msg == null || msg.isBlank() ? e.getClass().getSimpleName() : msg;
  }
}
