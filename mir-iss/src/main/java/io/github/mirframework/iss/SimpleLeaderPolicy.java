package io.github.mirframework.iss;

import io.github.mirframework.types.EpochNr;
import io.github.mirframework.types.NodeId;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;

/**
 * Every node leads one segment in every epoch, in the order given (Mir's {@code
 * SimpleLeaderPolicy}; ISS gives it the sorted node IDs). Suspicions are ignored.
 *
 * @param membership the leaders, without duplicates, not empty
 */
public record SimpleLeaderPolicy(List<NodeId> membership) implements LeaderSelectionPolicy {

  /** Validates the membership. */
  public SimpleLeaderPolicy {
    membership = List.copyOf(Objects.requireNonNull(membership, "membership"));
    if (membership.isEmpty()) {
      throw new IllegalArgumentException("a leader policy needs at least one node");
    }
    if (new HashSet<>(membership).size() != membership.size()) {
      throw new IllegalArgumentException("membership contains duplicates: " + membership);
    }
  }

  @Override
  public List<NodeId> leaders(EpochNr epoch) {
    return membership;
  }

  @Override
  public void suspect(EpochNr epoch, NodeId node) {
    // As in Mir: the simple policy never changes its leaders.
  }

  @Override
  public LeaderSelectionPolicy reconfigure(List<NodeId> nodeIds) {
    return new SimpleLeaderPolicy(nodeIds);
  }
}
