package io.github.mirframework.iss.pbft;

import com.google.protobuf.ByteString;
import io.github.mirframework.types.NodeId;
import io.github.mirframework.types.SeqNr;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The segment-local checkpoint (Mir's {@code pbftSegmentChkp}): Done messages received, grouped by
 * identical digest lists.
 *
 * <p>Without it, nodes that finished a segment would stop helping, and a minority that missed some
 * commits could be stuck in ever higher views. A weak quorum of identical Done messages proves the
 * digests (one of the senders is correct) and tells whom to ask for the missing Preprepares; a
 * strong quorum plus this node's own completion makes the segment <i>stable</i>, after which this
 * node no longer starts view changes.
 */
final class SegmentCheckpoint {
  private final Segment segment;
  private final Map<NodeId, List<ByteString>> doneMessages = new HashMap<>();
  private final Map<List<ByteString>, List<NodeId>> byDigests = new LinkedHashMap<>();
  private boolean done;
  private List<ByteString> agreed;
  private TreeMap<SeqNr, ByteString> digests;
  boolean catchingUp;

  SegmentCheckpoint(Segment segment) {
    this.segment = segment;
  }

  /** Marks this node as having committed every slot of the segment. */
  void setDone() {
    done = true;
  }

  boolean isDone() {
    return done;
  }

  /** Whether this node is done and a strong quorum sent identical Done messages. */
  boolean stable() {
    if (!done) {
      return false;
    }
    for (List<NodeId> nodes : byDigests.values()) {
      if (nodes.size() >= segment.strongQuorum()) {
        return true;
      }
    }
    return false;
  }

  /**
   * Records the Done message of {@code from} (only its first one counts).
   *
   * @return whether it was recorded
   */
  boolean nodeDone(NodeId from, List<ByteString> doneDigests) {
    if (doneMessages.containsKey(from)) {
      return false;
    }
    List<ByteString> key = List.copyOf(doneDigests);
    doneMessages.put(from, key);
    List<NodeId> senders = byDigests.computeIfAbsent(key, k -> new ArrayList<>());
    senders.add(from);
    if (digests == null && senders.size() >= segment.weakQuorum()) {
      agreed = key;
      digests = new TreeMap<>();
      for (int i = 0; i < segment.seqNrs().size(); i++) {
        digests.put(segment.seqNrs().get(i), key.get(i));
      }
    }
    return true;
  }

  /** The digest of every slot, once a weak quorum of identical Done messages arrived; else null. */
  TreeMap<SeqNr, ByteString> digests() {
    return digests;
  }

  /** The nodes that sent the Done message with {@link #digests()} (empty before). */
  List<NodeId> doneNodes() {
    return agreed == null ? List.of() : List.copyOf(byDigests.get(agreed));
  }
}
