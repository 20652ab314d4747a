package io.github.mirframework.availability.msc;

import com.google.protobuf.ByteString;
import io.github.mirframework.types.NodeId;
import java.util.HashSet;
import java.util.Set;

/**
 * The batch signatures one multisig-collector instance already knows to be valid: those it verified
 * while collecting a certificate, and those this node made itself. Checking an ordered certificate
 * skips them (a valid signature stays valid), so the node that built a certificate verifies none of
 * its signatures again, and a signer does not verify its own.
 *
 * <p>Bounded: at most {@link #MAX_ENTRIES}; when full it is emptied, which only costs
 * verifications. Entries come from this node's own requests and signatures (themselves limited per
 * sender), and the instance lives one epoch. Not thread-safe; used by one module.
 */
final class KnownSignatures {
  static final int MAX_ENTRIES = 16_384;

  private record Entry(NodeId signer, ByteString batchId, ByteString signature) {}

  private final Set<Entry> entries = new HashSet<>();

  /** Records that {@code signature} is {@code signer}'s valid signature of {@code batchId}. */
  void add(NodeId signer, ByteString batchId, ByteString signature) {
    if (entries.size() >= MAX_ENTRIES) {
      entries.clear();
    }
    entries.add(new Entry(signer, batchId, signature));
  }

  /**
   * Whether {@code signature} is known to be {@code signer}'s valid signature of {@code batchId}.
   */
  boolean contains(NodeId signer, ByteString batchId, ByteString signature) {
    return entries.contains(new Entry(signer, batchId, signature));
  }

  int size() {
    return entries.size();
  }
}
