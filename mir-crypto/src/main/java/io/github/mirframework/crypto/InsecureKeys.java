package io.github.mirframework.crypto;

import com.google.protobuf.ByteString;
import io.github.mirframework.crypto.internal.Digests;
import io.github.mirframework.types.NodeId;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Deterministic P-256 key pairs derived from a seed and a node ID. <b>Insecure, for tests and demos
 * only:</b> anyone who knows the seed knows every private key.
 *
 * <p>Every node that derives keys from the same seed gets the same key pairs for all nodes, so a
 * test cluster needs no key exchange (Mir's {@code InsecureCryptoForTestingOnly}). Unlike Mir,
 * which draws the keys one after the other from a seeded Go PRNG in membership order, a node's key
 * depends only on the seed and its own ID: adding, removing or reordering nodes does not change the
 * other nodes' keys. The keys differ from the ones Go Mir derives from the same seed.
 *
 * <p>Derivation: the private scalar is the first candidate {@code SHA-256(label ‖ seed ‖ counter ‖
 * node ID)}, read as an unsigned big-endian number, that lies in {@code [1, n-1]}; {@code label} is
 * the ASCII string {@code "mir-java insecure P-256 key"}, {@code seed} 8 bytes and {@code counter}
 * (0, 1, ...) 4 bytes, both little-endian, and the node ID is UTF-8. Stateless and thread-safe.
 */
public final class InsecureKeys {
  private static final byte[] LABEL =
      "mir-java insecure P-256 key".getBytes(StandardCharsets.US_ASCII);

  private InsecureKeys() {}

  /** Returns the key pair of {@code node} for {@code seed}. */
  public static EncodedKeyPair keyPair(NodeId node, long seed) {
    return P256Keys.encodedPair(scalar(node, seed));
  }

  /**
   * Returns the key pairs of all {@code nodes} for {@code seed}, in iteration order of {@code
   * nodes}.
   */
  public static Map<NodeId, EncodedKeyPair> keyPairs(Collection<NodeId> nodes, long seed) {
    Map<NodeId, EncodedKeyPair> pairs = new LinkedHashMap<>();
    for (NodeId node : nodes) {
      pairs.computeIfAbsent(node, n -> keyPair(n, seed));
    }
    return pairs;
  }

  /** Returns the public key of {@code node} for {@code seed} (SubjectPublicKeyInfo DER). */
  public static ByteString publicKey(NodeId node, long seed) {
    return keyPair(node, seed).publicKey();
  }

  private static BigInteger scalar(NodeId node, long seed) {
    BigInteger n = P256Keys.order();
    byte[] id = node.value().getBytes(StandardCharsets.UTF_8);
    MessageDigest sha256 = Digests.newSha256();
    for (int counter = 0; ; counter++) {
      sha256.update(LABEL);
      sha256.update(
          ByteBuffer.allocate(12)
              .order(ByteOrder.LITTLE_ENDIAN)
              .putLong(seed)
              .putInt(counter)
              .array());
      sha256.update(id);
      BigInteger d = new BigInteger(1, sha256.digest());
      // For P-256 a candidate is out of range with probability about 2^-32.
      if (d.signum() > 0 && d.compareTo(n) < 0) {
        return d;
      }
    }
  }
}
