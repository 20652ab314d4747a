package io.github.mirframework.crypto;

import com.google.protobuf.ByteString;
import io.github.mirframework.types.NodeId;
import java.util.List;

/**
 * Produces this node's signatures and verifies other nodes' signatures (Mir's {@code
 * crypto.Crypto}).
 *
 * <p>The signed data is always the concatenation of the given chunks, so {@code ["ab", "c"]} and
 * {@code ["a", "bc"]} have the same signature; callers that need an unambiguous layout must include
 * lengths or fixed-size fields themselves. How the private key is held is up to the implementation;
 * public keys of other nodes are registered with the implementation (see {@link
 * EcdsaCrypto#registerNodeKey}).
 *
 * <p>Implementations must be thread-safe: the {@link CryptoModule} may call both methods from
 * several threads at once. Neither method blocks on anything but computation.
 */
public interface Crypto {

  /**
   * Signs the concatenation of {@code data} with this node's private key.
   *
   * @param data the chunks to sign, in order
   * @return the signature, which {@link #verify} accepts for this node
   * @throws IllegalStateException if the implementation cannot sign (a fatal error of the node)
   */
  ByteString sign(List<ByteString> data);

  /**
   * Checks that {@code signature} is node {@code nodeId}'s signature over the concatenation of
   * {@code data}.
   *
   * <p>Never throws for bad input: a malformed signature, an unknown node or a wrong signature all
   * give an invalid result that says what was wrong.
   *
   * @param data the signed chunks, in order
   * @param signature the signature to check, possibly from an untrusted peer
   * @param nodeId the node that supposedly signed
   * @return {@link VerificationResult#ok()} or an invalid result with a reason
   */
  VerificationResult verify(List<ByteString> data, ByteString signature, NodeId nodeId);
}
