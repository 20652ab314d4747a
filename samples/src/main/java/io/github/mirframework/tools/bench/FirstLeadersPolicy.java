package io.github.mirframework.tools.bench;

import io.github.mirframework.iss.LeaderSelectionPolicy;
import io.github.mirframework.types.EpochNr;
import io.github.mirframework.types.NodeId;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A leader policy with a fixed number of leaders: the first {@code count} nodes in the given order
 * lead a segment in every epoch (all of them if there are fewer). Suspicions are ignored, as in the
 * simple policy: the bench measures the failure-free case. Immutable, thread-safe.
 *
 * @param nodes the candidate nodes in order
 * @param count how many of them lead, at least 1
 */
record FirstLeadersPolicy(List<NodeId> nodes, int count) implements LeaderSelectionPolicy {

  FirstLeadersPolicy {
    nodes = List.copyOf(Objects.requireNonNull(nodes, "nodes"));
    if (nodes.isEmpty()) {
      throw new IllegalArgumentException("a leader policy needs at least one node");
    }
    if (count < 1) {
      throw new IllegalArgumentException("leader count must be at least 1, got " + count);
    }
  }

  @Override
  public List<NodeId> leaders(EpochNr epoch) {
    return nodes.size() <= count ? nodes : List.copyOf(new ArrayList<>(nodes.subList(0, count)));
  }

  @Override
  public void suspect(EpochNr epoch, NodeId node) {}

  @Override
  public LeaderSelectionPolicy reconfigure(List<NodeId> nodeIds) {
    return new FirstLeadersPolicy(nodeIds, count);
  }
}
