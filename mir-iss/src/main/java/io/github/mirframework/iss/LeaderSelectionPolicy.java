package io.github.mirframework.iss;

import io.github.mirframework.types.EpochNr;
import io.github.mirframework.types.NodeId;
import java.util.List;

/**
 * Decides which nodes lead a segment in each epoch (Mir's {@code LeaderSelectionPolicy}). All nodes
 * must hold policies in the same state when they ask for the leaders of an epoch.
 */
public interface LeaderSelectionPolicy {

  /** The leaders of {@code epoch}, one per segment, in segment order; members of the epoch. */
  List<NodeId> leaders(EpochNr epoch);

  /** Reports that {@code node} is suspected of misbehaving in {@code epoch}. */
  void suspect(EpochNr epoch, NodeId node);

  /** The policy to use for an epoch whose nodes are {@code nodeIds}. */
  LeaderSelectionPolicy reconfigure(List<NodeId> nodeIds);
}
