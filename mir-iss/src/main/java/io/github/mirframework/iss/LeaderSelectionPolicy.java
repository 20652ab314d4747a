package io.github.mirframework.iss;

import io.github.mirframework.checkpoint.pb.LeaderPolicy;
import io.github.mirframework.types.EpochNr;
import io.github.mirframework.types.NodeId;
import java.util.List;

/**
 * Decides which nodes lead a segment in each epoch (Mir's {@code LeaderSelectionPolicy}). All nodes
 * must hold policies in the same state when they ask for the leaders of an epoch: ISS changes the
 * state only through {@link #suspect} for what the ordered log shows, and a policy with state puts
 * it into checkpoints ({@link #toProto}).
 *
 * <p>Implementations need not be thread-safe.
 */
public interface LeaderSelectionPolicy {

  /** The leaders of {@code epoch}, one per segment, in segment order; members of the epoch. */
  List<NodeId> leaders(EpochNr epoch);

  /** Reports that {@code node} is suspected of misbehaving in {@code epoch}. */
  void suspect(EpochNr epoch, NodeId node);

  /** The policy to use for an epoch whose nodes are {@code nodeIds}. */
  LeaderSelectionPolicy reconfigure(List<NodeId> nodeIds);

  /**
   * The policy's state for checkpoints, or null for a stateless policy (the default): a node that
   * restores a checkpoint without a policy state uses its configured policy, reconfigured for the
   * checkpoint's nodes.
   */
  default LeaderPolicy toProto() {
    return null;
  }
}
