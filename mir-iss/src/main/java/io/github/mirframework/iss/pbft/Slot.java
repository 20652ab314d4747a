package io.github.mirframework.iss.pbft;

import com.google.protobuf.ByteString;
import io.github.mirframework.iss.pbft.pb.Preprepare;
import io.github.mirframework.types.NodeId;
import java.util.HashMap;
import java.util.Map;

/**
 * The agreement state of one sequence number in one view (Mir's {@code pbftSlot}).
 *
 * <p>Only the first Prepare and the first Commit of each sender count, whatever their digest; they
 * are kept as received (also before the Preprepare is known) and matched against the slot's digest
 * once the slot is preprepared.
 */
final class Slot {
  /** The Preprepare received for this slot (set before its digest is known). */
  Preprepare preprepare;

  /** The digest of {@link #preprepare}, once computed. */
  ByteString digest;

  final Map<NodeId, ByteString> prepares = new HashMap<>();
  final Map<NodeId, ByteString> commits = new HashMap<>();
  boolean preprepared;
  boolean prepared;
  boolean committed;

  /**
   * Whether {@link #preprepare} is this node's own, persisted proposal as the view's primary (it
   * came back from itself, or from its WAL): only such a Preprepare is retransmitted.
   */
  boolean ownPreprepare;

  /**
   * The resend tick at which this node last sent (or resent) its own messages for the slot; votes
   * are resent only once a whole resend period has passed since.
   */
  long sentTick;

  /** A fresh slot of a new view that keeps the outcome of {@code previous} if it was committed. */
  static Slot carriedOver(Slot previous, long view) {
    Slot s = new Slot();
    if (previous != null && previous.committed) {
      s.committed = true;
      s.digest = previous.digest;
      s.preprepare = PbftData.copyToView(previous.preprepare, view);
    }
    return s;
  }

  /** Whether the slot is preprepared and a strong quorum sent Prepares with its digest. */
  boolean checkPrepared(int strongQuorum) {
    return preprepared && matching(prepares) >= strongQuorum;
  }

  /** Whether the slot is prepared and a strong quorum sent Commits with its digest. */
  boolean checkCommitted(int strongQuorum) {
    return prepared && matching(commits) >= strongQuorum;
  }

  private int matching(Map<NodeId, ByteString> votes) {
    int n = 0;
    for (ByteString d : votes.values()) {
      if (d.equals(digest)) {
        n++;
      }
    }
    return n;
  }

  /** The Preprepare of this slot if it was preprepared with {@code wanted} as digest, else null. */
  Preprepare preprepareWithDigest(ByteString wanted) {
    return preprepared && wanted.equals(digest) ? preprepare : null;
  }

  /** Marks the slot committed with a Preprepare obtained by catch-up. */
  void catchUp(Preprepare p, ByteString d) {
    ownPreprepare = ownPreprepare && p.equals(preprepare);
    preprepare = p;
    digest = d;
    preprepared = true;
    prepared = true;
    committed = true;
  }
}
