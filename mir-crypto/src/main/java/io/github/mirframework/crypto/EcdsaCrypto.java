package io.github.mirframework.crypto;

import com.google.protobuf.ByteString;
import io.github.mirframework.crypto.internal.Digests;
import io.github.mirframework.types.NodeId;
import java.io.IOException;
import java.math.BigInteger;
import java.security.InvalidKeyException;
import java.security.SecureRandom;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.params.ECPrivateKeyParameters;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.signers.ECDSASigner;
import org.bouncycastle.crypto.signers.HMacDSAKCalculator;
import org.bouncycastle.crypto.signers.StandardDSAEncoding;
import org.bouncycastle.util.BigIntegers;

/**
 * ECDSA on NIST P-256 with SHA-256 (Mir's {@code crypto.DefaultImpl} with an ECDSA key).
 *
 * <p><b>Signing.</b> The message is SHA-256 of the concatenation of the data chunks. The nonce is
 * derived deterministically from the key and the message (RFC 6979 with HMAC-SHA-256), so signing
 * needs no randomness and the same key and data always give the same signature. Signatures are DER
 * {@code SEQUENCE { INTEGER r, INTEGER s }}, the format of Go's {@code crypto/ecdsa} and the JDK's
 * {@code SHA256withECDSA}, so signatures interoperate both ways. {@code s} is <em>not</em>
 * normalized to the lower half of the group order (the output is the plain RFC 6979 value), and
 * verification accepts both {@code s} and {@code n - s}, as Go does. Signatures are therefore
 * malleable: a valid signature can be turned into a second valid one without the key. Mir never
 * uses a signature as an identifier, so this does not matter here.
 *
 * <p><b>Verification</b> requires strict DER with {@code 0 < r, s < n} and no trailing bytes (Go
 * ignores trailing bytes; we reject them). Public keys are decoded once, when registered, and
 * cached per node, which also keeps BouncyCastle's per-point precomputation between verifications.
 * RSA keys, which Mir also accepts, are not supported.
 *
 * <p>Thread-safe: signing and verification may run concurrently, also with {@link #registerNodeKey}
 * and {@link #deleteNodeKey}. A verification that races with a key change uses either the old or
 * the new key.
 */
public final class EcdsaCrypto implements Crypto {
  /** Longest DER encoding of a P-256 signature: two 33-byte integers plus headers. */
  private static final int MAX_SIGNATURE_LENGTH = 72;

  private final ECPrivateKeyParameters privateKey;
  private final ByteString publicKey;
  private final ConcurrentHashMap<NodeId, ECPublicKeyParameters> nodeKeys =
      new ConcurrentHashMap<>();

  private EcdsaCrypto(ECPrivateKeyParameters privateKey) {
    this.privateKey = privateKey;
    this.publicKey = ByteString.copyFrom(P256Keys.encodePublic(P256Keys.publicKey(privateKey)));
  }

  /**
   * Returns an instance that signs with the given private key and knows no node keys yet (Mir's
   * {@code NewDefaultImpl}).
   *
   * @param pkcs8 a PKCS#8 DER private key on P-256, e.g. from {@link #generateKeyPair} or {@link
   *     KeyFiles#readPrivateKey}
   * @throws InvalidKeyException if the key cannot be decoded or is not a P-256 key; the message
   *     says why
   */
  public static EcdsaCrypto fromPrivateKey(ByteString pkcs8) throws InvalidKeyException {
    return new EcdsaCrypto(P256Keys.decodePrivate(pkcs8.toByteArray()));
  }

  /**
   * Generates a fresh P-256 key pair (Mir's {@code GenerateKeyPair}).
   *
   * @param random the source of the private scalar; use a {@link SecureRandom} seeded by the system
   */
  public static EncodedKeyPair generateKeyPair(SecureRandom random) {
    BigInteger n = P256Keys.order();
    BigInteger d =
        BigIntegers.createRandomInRange(BigInteger.ONE, n.subtract(BigInteger.ONE), random);
    return P256Keys.encodedPair(d);
  }

  /**
   * Decodes and checks a public key without registering it.
   *
   * @param spki a SubjectPublicKeyInfo DER public key
   * @throws InvalidKeyException if it is not a valid P-256 public key; the message says why
   */
  public static void checkPublicKey(ByteString spki) throws InvalidKeyException {
    P256Keys.decodePublic(spki.toByteArray());
  }

  /**
   * This instance's own public key (SubjectPublicKeyInfo DER), which others register for this node.
   */
  public ByteString publicKey() {
    return publicKey;
  }

  /**
   * Registers (or replaces) the public key of {@code nodeId}; until then {@link #verify} rejects
   * that node's signatures.
   *
   * @param nodeId the node
   * @param spki its public key as SubjectPublicKeyInfo DER
   * @throws InvalidKeyException if the key is not a valid P-256 public key; nothing is registered
   *     then
   */
  public void registerNodeKey(NodeId nodeId, ByteString spki) throws InvalidKeyException {
    Objects.requireNonNull(nodeId, "nodeId");
    ECPublicKeyParameters key;
    try {
      key = P256Keys.decodePublic(spki.toByteArray());
    } catch (InvalidKeyException e) {
      throw new InvalidKeyException("public key of node " + nodeId + ": " + e.getMessage(), e);
    }
    nodeKeys.put(nodeId, key);
  }

  /**
   * Forgets the public key of {@code nodeId}, if any; later signatures of that node are rejected.
   */
  public void deleteNodeKey(NodeId nodeId) {
    nodeKeys.remove(Objects.requireNonNull(nodeId, "nodeId"));
  }

  /** Whether a public key is registered for {@code nodeId}. */
  public boolean hasNodeKey(NodeId nodeId) {
    return nodeKeys.containsKey(nodeId);
  }

  @Override
  public ByteString sign(List<ByteString> data) {
    byte[] digest = Digests.sha256(data);
    ECDSASigner signer = new ECDSASigner(new HMacDSAKCalculator(new SHA256Digest()));
    signer.init(true, privateKey);
    BigInteger[] rs = signer.generateSignature(digest);
    try {
      return ByteString.copyFrom(
          StandardDSAEncoding.INSTANCE.encode(P256Keys.order(), rs[0], rs[1]));
    } catch (IOException e) {
      throw new IllegalStateException("cannot DER-encode an ECDSA signature", e);
    }
  }

  @Override
  public VerificationResult verify(List<ByteString> data, ByteString signature, NodeId nodeId) {
    ECPublicKeyParameters key = nodeId == null ? null : nodeKeys.get(nodeId);
    if (key == null) {
      return VerificationResult.invalid("no public key registered for node " + nodeId);
    }
    if (signature.size() > MAX_SIGNATURE_LENGTH) {
      return VerificationResult.invalid(
          "malformed ECDSA signature: "
              + signature.size()
              + " bytes, at most "
              + MAX_SIGNATURE_LENGTH
              + " expected");
    }
    BigInteger[] rs;
    try {
      // Rejects non-DER encodings, trailing bytes and r or s outside [1, n-1].
      rs = StandardDSAEncoding.INSTANCE.decode(P256Keys.order(), signature.toByteArray());
    } catch (IOException | RuntimeException e) {
      return VerificationResult.invalid("malformed ECDSA signature: " + P256Keys.describe(e));
    }
    byte[] digest = Digests.sha256(data);
    try {
      ECDSASigner verifier = new ECDSASigner();
      verifier.init(false, key);
      if (verifier.verifySignature(digest, rs[0], rs[1])) {
        return VerificationResult.ok();
      }
    } catch (RuntimeException e) {
      return VerificationResult.invalid("ECDSA verification failed: " + P256Keys.describe(e));
    }
    return VerificationResult.invalid("signature verification failed for node " + nodeId);
  }

  @Override
  public String toString() {
    return "EcdsaCrypto[P-256, " + nodeKeys.size() + " node keys]";
  }
}
