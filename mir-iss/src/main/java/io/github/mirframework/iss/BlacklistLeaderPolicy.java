package io.github.mirframework.iss;

import io.github.mirframework.checkpoint.pb.LeaderPolicy;
import io.github.mirframework.checkpoint.pb.Suspicion;
import io.github.mirframework.types.EpochNr;
import io.github.mirframework.types.NodeId;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A leader selection policy that stops choosing suspected leaders (Mir's later {@code
 * BlacklistLeaderPolicy}, with a configurable number of leaders).
 *
 * <p>ISS suspects the leader of a segment whenever it delivers an aborted sequence number of that
 * segment (a view change replaced the leader's proposal by nothing): the ordered log decides, so
 * every correct node suspects the same nodes in the same epochs. The leaders of an epoch are the
 * nodes never suspected, in node order, followed by the suspected ones from the least recently
 * suspected on, cut to {@code count} nodes, where
 *
 * <pre>count = min(maxLeaders, max(n − #suspected, strong quorum))</pre>
 *
 * <p>with the strong quorum ⌊(n+f)/2⌋+1, f = ⌊(n−1)/3⌋, as in Mir: a crashed node is dropped after
 * the epoch in which it was suspected and is not chosen again while enough other nodes are
 * unsuspected. Its state (the suspicions) is part of each epoch's configuration in checkpoints
 * ({@link #toProto}), so a node that restores a checkpoint chooses the same leaders.
 *
 * <p>Not thread-safe. {@link #reconfigure} returns an independent copy.
 */
public final class BlacklistLeaderPolicy implements LeaderSelectionPolicy {
  private final List<NodeId> nodes;
  private final TreeMap<NodeId, Long> suspected = new TreeMap<>();
  private final int maxLeaders;

  /**
   * A policy choosing among {@code nodes}, at most {@code maxLeaders} per epoch.
   *
   * @throws IllegalArgumentException if {@code nodes} is empty or has duplicates, or {@code
   *     maxLeaders} is not positive
   */
  public BlacklistLeaderPolicy(Collection<NodeId> nodes, int maxLeaders) {
    Objects.requireNonNull(nodes, "nodes");
    TreeSet<NodeId> sorted = new TreeSet<>(nodes);
    if (sorted.isEmpty()) {
      throw new IllegalArgumentException("a leader policy needs at least one node");
    }
    if (sorted.size() != nodes.size()) {
      throw new IllegalArgumentException("nodes contain duplicates: " + nodes);
    }
    if (maxLeaders < 1) {
      throw new IllegalArgumentException("maxLeaders must be at least 1: " + maxLeaders);
    }
    this.nodes = List.copyOf(sorted);
    this.maxLeaders = maxLeaders;
  }

  /**
   * A policy choosing up to all nodes as leaders, also after a reconfiguration adds nodes (the cap
   * is not the initial number of nodes, or an added node could never lead).
   */
  public static BlacklistLeaderPolicy allLeaders(Collection<NodeId> nodes) {
    return new BlacklistLeaderPolicy(nodes, Integer.MAX_VALUE);
  }

  /**
   * Reads the checkpoint form.
   *
   * @throws IllegalArgumentException if it is malformed: no nodes, a malformed or repeated node ID,
   *     nodes or suspicions not sorted, a suspected non-member, or no leader allowed
   */
  public static BlacklistLeaderPolicy fromProto(LeaderPolicy pb) {
    List<NodeId> ns = new ArrayList<>(pb.getNodesCount());
    for (String s : pb.getNodesList()) {
      NodeId id = NodeId.of(s);
      if (!ns.isEmpty() && ns.get(ns.size() - 1).compareTo(id) >= 0) {
        throw new IllegalArgumentException("leader policy nodes not strictly sorted at " + s);
      }
      ns.add(id);
    }
    BlacklistLeaderPolicy p = new BlacklistLeaderPolicy(ns, pb.getMaxLeaders());
    NodeId previous = null;
    for (Suspicion s : pb.getSuspectedList()) {
      NodeId id = NodeId.of(s.getNode());
      if (previous != null && previous.compareTo(id) >= 0) {
        throw new IllegalArgumentException("suspicions not strictly sorted at " + s.getNode());
      }
      if (!p.nodes.contains(id)) {
        throw new IllegalArgumentException("suspected node " + id + " is not a member");
      }
      if (s.getEpoch() < 0) {
        throw new IllegalArgumentException("suspicion epoch out of range: " + s.getEpoch());
      }
      p.suspected.put(id, s.getEpoch());
      previous = id;
    }
    return p;
  }

  /** Why {@code pb} cannot be read by {@link #fromProto}, or null if it can. */
  public static String check(LeaderPolicy pb) {
    try {
      fromProto(pb);
      return null;
    } catch (IllegalArgumentException e) {
      return e.getMessage();
    }
  }

  @Override
  public LeaderPolicy toProto() {
    LeaderPolicy.Builder b = LeaderPolicy.newBuilder().setMaxLeaders(maxLeaders);
    nodes.forEach(n -> b.addNodes(n.value()));
    suspected.forEach(
        (n, e) -> b.addSuspected(Suspicion.newBuilder().setNode(n.value()).setEpoch(e)));
    return b.build();
  }

  @Override
  public List<NodeId> leaders(EpochNr epoch) {
    List<NodeId> order = new ArrayList<>(nodes);
    // Never suspected first (node order), then by the epoch of the last suspicion, oldest first.
    order.sort(
        Comparator.comparingLong((NodeId n) -> suspected.getOrDefault(n, -1L))
            .thenComparing(Comparator.naturalOrder()));
    int n = nodes.size();
    int f = (n - 1) / 3;
    int strongQuorum = (n + f) / 2 + 1;
    int count = Math.min(maxLeaders, Math.max(n - suspected.size(), strongQuorum));
    return List.copyOf(order.subList(0, Math.max(1, Math.min(count, n))));
  }

  @Override
  public void suspect(EpochNr epoch, NodeId node) {
    if (!nodes.contains(node)) {
      return; // not a member (e.g. removed): nothing to remember
    }
    suspected.merge(node, epoch.value(), Math::max);
  }

  @Override
  public BlacklistLeaderPolicy reconfigure(List<NodeId> nodeIds) {
    BlacklistLeaderPolicy p = new BlacklistLeaderPolicy(nodeIds, maxLeaders);
    for (Map.Entry<NodeId, Long> e : suspected.entrySet()) {
      if (p.nodes.contains(e.getKey())) {
        p.suspected.put(e.getKey(), e.getValue());
      }
    }
    return p;
  }

  /** The most leaders per epoch. */
  public int maxLeaders() {
    return maxLeaders;
  }

  /** The suspected nodes and the epoch of their last suspicion. */
  public Map<NodeId, Long> suspected() {
    return Map.copyOf(suspected);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof BlacklistLeaderPolicy p
        && p.nodes.equals(nodes)
        && p.suspected.equals(suspected)
        && p.maxLeaders == maxLeaders;
  }

  @Override
  public int hashCode() {
    return Objects.hash(nodes, suspected, maxLeaders);
  }

  @Override
  public String toString() {
    return "BlacklistLeaderPolicy[nodes="
        + nodes
        + ", maxLeaders="
        + maxLeaders
        + ", suspected="
        + suspected
        + "]";
  }
}
