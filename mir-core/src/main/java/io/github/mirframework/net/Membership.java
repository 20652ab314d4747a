package io.github.mirframework.net;

import io.github.mirframework.types.NodeId;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The nodes a transport talks to and their addresses (Mir's membership as seen by the network).
 * Immutable; iteration is in node ID order.
 *
 * @param nodes the address of every node, by node ID
 */
public record Membership(Map<NodeId, NodeAddress> nodes) {

  private static final Membership EMPTY = new Membership(Map.of());

  /** Copies and validates the map (no null keys or values). */
  public Membership {
    Objects.requireNonNull(nodes, "nodes");
    TreeMap<NodeId, NodeAddress> copy = new TreeMap<>();
    nodes.forEach(
        (id, addr) ->
            copy.put(
                Objects.requireNonNull(id, "node ID"),
                Objects.requireNonNull(addr, () -> "address of node " + id)));
    nodes = Collections.unmodifiableMap(copy);
  }

  /** The membership without nodes. */
  public static Membership empty() {
    return EMPTY;
  }

  /** Returns a membership of the given nodes. */
  public static Membership of(Map<NodeId, NodeAddress> nodes) {
    return new Membership(nodes);
  }

  /** The node IDs, sorted. */
  public Set<NodeId> ids() {
    return nodes.keySet();
  }

  /** Whether {@code id} is a member. */
  public boolean contains(NodeId id) {
    return nodes.containsKey(id);
  }

  /** The address of {@code id}, if it is a member. */
  public Optional<NodeAddress> address(NodeId id) {
    return Optional.ofNullable(nodes.get(id));
  }

  /** The number of nodes. */
  public int size() {
    return nodes.size();
  }

  /** A copy with {@code id} added (or its address replaced). */
  public Membership with(NodeId id, NodeAddress address) {
    TreeMap<NodeId, NodeAddress> copy = new TreeMap<>(nodes);
    copy.put(id, address);
    return new Membership(copy);
  }

  /** A copy without {@code id}. */
  public Membership without(NodeId id) {
    TreeMap<NodeId, NodeAddress> copy = new TreeMap<>(nodes);
    copy.remove(id);
    return new Membership(copy);
  }
}
