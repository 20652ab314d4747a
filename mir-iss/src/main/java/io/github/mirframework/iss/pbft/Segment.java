package io.github.mirframework.iss.pbft;

import io.github.mirframework.types.EpochNr;
import io.github.mirframework.types.NodeId;
import io.github.mirframework.types.SeqNr;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;

/**
 * The part of an ISS epoch that one PBFT orderer is responsible for: its leader, the nodes that run
 * it and the sequence numbers it orders.
 *
 * <p>Quorums follow Mir: with n members and f = (n−1)/3, a <i>strong</i> quorum is (n+f)/2+1 nodes
 * and a <i>weak</i> quorum f+1 nodes (n = 4: f = 1, strong 3, weak 2).
 *
 * @param epoch the ISS epoch the segment belongs to (also the retention index of everything the
 *     orderer persists or repeats)
 * @param instance the index of the orderer within its epoch
 * @param leader the node that proposes in view 0; one of {@code membership}
 * @param membership the nodes running the orderer, in the order that defines the primary of each
 *     view ({@code membership[(index of leader + view) mod n]}); no duplicates
 * @param seqNrs the sequence numbers of the segment, strictly ascending, not empty
 */
public record Segment(
    EpochNr epoch, long instance, NodeId leader, List<NodeId> membership, List<SeqNr> seqNrs) {

  /** Validates the segment; messages name the bad value. */
  public Segment {
    Objects.requireNonNull(epoch, "epoch");
    Objects.requireNonNull(leader, "leader");
    membership = List.copyOf(Objects.requireNonNull(membership, "membership"));
    seqNrs = List.copyOf(Objects.requireNonNull(seqNrs, "seqNrs"));
    if (instance < 0) {
      throw new IllegalArgumentException("instance must not be negative: " + instance);
    }
    if (membership.isEmpty()) {
      throw new IllegalArgumentException("membership must not be empty");
    }
    if (new HashSet<>(membership).size() != membership.size()) {
      throw new IllegalArgumentException("membership contains duplicates: " + membership);
    }
    if (!membership.contains(leader)) {
      throw new IllegalArgumentException(
          "leader " + leader + " is not in the membership " + membership);
    }
    if (seqNrs.isEmpty()) {
      throw new IllegalArgumentException("a segment needs at least one sequence number");
    }
    for (int i = 1; i < seqNrs.size(); i++) {
      if (seqNrs.get(i).compareTo(seqNrs.get(i - 1)) <= 0) {
        throw new IllegalArgumentException("seqNrs must be strictly ascending: " + seqNrs);
      }
    }
  }

  /** The number of members. */
  public int n() {
    return membership.size();
  }

  /** The number of Byzantine members tolerated: (n−1)/3. */
  public int f() {
    return (n() - 1) / 3;
  }

  /** The size of a strong quorum: (n+f)/2+1. */
  public int strongQuorum() {
    return (n() + f()) / 2 + 1;
  }

  /** The size of a weak quorum: f+1. */
  public int weakQuorum() {
    return f() + 1;
  }

  /** The primary of {@code view}: the member {@code view} places after the leader, cyclically. */
  public NodeId primary(long view) {
    if (view < 0) {
      throw new IllegalArgumentException("view must not be negative: " + view);
    }
    int leaderIndex = membership.indexOf(leader);
    return membership.get((int) ((leaderIndex + view % n()) % n()));
  }

  /** Whether {@code sn} is one of the segment's sequence numbers. */
  public boolean contains(SeqNr sn) {
    return java.util.Collections.binarySearch(seqNrs, sn) >= 0;
  }

  /** Whether {@code sn} (a raw, possibly hostile number) is one of the segment's numbers. */
  boolean containsRaw(long sn) {
    return sn >= 0 && contains(SeqNr.of(sn));
  }
}
