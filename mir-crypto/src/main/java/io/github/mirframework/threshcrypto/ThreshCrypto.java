package io.github.mirframework.threshcrypto;

import com.google.protobuf.ByteString;
import io.github.mirframework.crypto.VerificationResult;
import io.github.mirframework.types.NodeId;
import java.util.List;

/**
 * Threshold signatures of a fixed group of nodes (Mir's {@code threshcrypto.ThreshCrypto}): any
 * {@code t} of the group's {@code n} members can together produce the group's signature; fewer
 * cannot.
 *
 * <p>An instance belongs to one member: it holds that member's private key share and the public
 * information of the whole group. The signed data is always the concatenation of the given chunks.
 * Only {@link #signShare} may fail with an exception (a fatal error of the node); the other methods
 * report bad input, possibly from Byzantine peers, as an unsuccessful result with a reason.
 *
 * <p>Implementations must be thread-safe: the {@link ThreshCryptoModule} may call them from several
 * threads at once.
 */
public interface ThreshCrypto {

  /**
   * Signs the concatenation of {@code data} with this member's key share.
   *
   * @return a signature share that {@link #verifyShare} accepts for this member
   * @throws IllegalStateException if signing is impossible
   */
  ByteString signShare(List<ByteString> data);

  /**
   * Checks that {@code signatureShare} is member {@code nodeId}'s valid share over the
   * concatenation of {@code data}.
   */
  VerificationResult verifyShare(List<ByteString> data, ByteString signatureShare, NodeId nodeId);

  /**
   * Combines signature shares into the group's signature over the concatenation of {@code data}.
   *
   * <p>The shares should have been checked with {@link #verifyShare} and come from distinct
   * members. A result that is a success always holds a signature that {@link #verifyFull} accepts.
   *
   * @return the full signature, or a failure that says why it could not be recovered (too few
   *     shares from distinct members, malformed or invalid shares)
   */
  RecoveryResult recover(List<ByteString> data, List<ByteString> signatureShares);

  /**
   * Checks that {@code signature} is the group's valid signature over the concatenation of {@code
   * data}.
   */
  VerificationResult verifyFull(List<ByteString> data, ByteString signature);
}
