package io.github.mirframework.crypto;

import io.github.mirframework.types.NodeId;
import java.security.InvalidKeyException;
import java.util.Collection;

/**
 * Builds an {@link EcdsaCrypto} whose keys every node derives from a shared seed, with {@link
 * InsecureKeys} (Mir's {@code InsecureCryptoForTestingOnly}). <b>Insecure, for tests and demos
 * only.</b>
 */
public final class PseudoCrypto {
  /** Mir's default seed for pseudo keys ({@code DefaultPseudoSeed}). */
  public static final long DEFAULT_SEED = 12345;

  private PseudoCrypto() {}

  /**
   * Returns the crypto of node {@code ownId}: it signs with its own derived key and knows the
   * derived public keys of all {@code nodes}.
   *
   * @throws IllegalArgumentException if {@code ownId} is not among {@code nodes}
   */
  public static EcdsaCrypto create(Collection<NodeId> nodes, NodeId ownId, long seed) {
    if (!nodes.contains(ownId)) {
      throw new IllegalArgumentException("own ID " + ownId + " is not among the nodes " + nodes);
    }
    try {
      EcdsaCrypto crypto =
          EcdsaCrypto.fromPrivateKey(InsecureKeys.keyPair(ownId, seed).privateKey());
      for (var entry : InsecureKeys.keyPairs(nodes, seed).entrySet()) {
        crypto.registerNodeKey(entry.getKey(), entry.getValue().publicKey());
      }
      return crypto;
    } catch (InvalidKeyException e) {
      throw new IllegalStateException("a derived key does not decode", e);
    }
  }

  /** Like {@link #create(Collection, NodeId, long)} with {@link #DEFAULT_SEED}. */
  public static EcdsaCrypto create(Collection<NodeId> nodes, NodeId ownId) {
    return create(nodes, ownId, DEFAULT_SEED);
  }
}
