package io.github.mirframework.iss;

import io.github.mirframework.iss.pbft.PbftOrderer;
import io.github.mirframework.iss.pbft.Segment;
import io.github.mirframework.types.EpochNr;
import io.github.mirframework.types.NodeId;
import io.github.mirframework.types.SeqNr;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What ISS keeps about one epoch (Mir's {@code epochInfo}): its nodes, its segments and, if this
 * node is one of the epoch's nodes, one orderer per segment (a node removed by a reconfiguration
 * has none: it does not take part in the epoch).
 */
final class EpochState {
  final EpochNr nr;
  final SeqNr firstSn;
  final List<NodeId> nodeIds;
  final Set<NodeId> nodeSet;
  final LeaderSelectionPolicy leaderPolicy;
  // The policy's state when the epoch started (null for a stateless policy): goes into checkpoints.
  final io.github.mirframework.checkpoint.pb.LeaderPolicy leaderPolicyAtStart;
  final List<Segment> segments = new ArrayList<>();
  final List<PbftOrderer> orderers = new ArrayList<>();

  EpochState(EpochNr nr, SeqNr firstSn, List<NodeId> nodeIds, LeaderSelectionPolicy leaderPolicy) {
    this.nr = nr;
    this.firstSn = firstSn;
    this.nodeIds = List.copyOf(nodeIds);
    this.nodeSet = new TreeSet<>(nodeIds);
    this.leaderPolicy = leaderPolicy;
    this.leaderPolicyAtStart = leaderPolicy.toProto();
  }

  /** The number of sequence numbers of the epoch: the sum of its segments' lengths. */
  long length() {
    long l = 0;
    for (Segment s : segments) {
      l += s.seqNrs().size();
    }
    return l;
  }

  /**
   * Why a message for orderer {@code instance} of this epoch from {@code from} must be rejected, or
   * null if it may go to the orderer.
   */
  String validate(long instance, NodeId from) {
    if (instance < 0 || instance >= segments.size()) {
      return "no orderer " + Long.toUnsignedString(instance) + " in epoch " + nr;
    }
    if (!nodeSet.contains(from)) {
      return "sender " + from + " is not a member of epoch " + nr;
    }
    return null;
  }
}
