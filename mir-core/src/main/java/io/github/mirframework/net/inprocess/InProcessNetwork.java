package io.github.mirframework.net.inprocess;

import io.github.mirframework.types.NodeId;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A network of nodes in one JVM (Mir's fake transport layer): each node gets an {@link
 * InProcessTransport}; messages are handed between transports through bounded per-node inboxes,
 * without serialization of the payload.
 *
 * <p>Thread-safe. The transports own their threads; close them (their nodes do) to stop everything.
 */
public final class InProcessNetwork {
  /** Default capacity of a node's inbox, in message batches (Mir's fake transport uses 10,000). */
  public static final int DEFAULT_INBOX_CAPACITY = 10_000;

  private final Map<NodeId, InProcessTransport> transports = new ConcurrentHashMap<>();
  private final List<NodeId> members;
  private final int inboxCapacity;

  /** Creates a network of the given nodes with the default inbox capacity. */
  public InProcessNetwork(Collection<NodeId> members) {
    this(members, DEFAULT_INBOX_CAPACITY);
  }

  /**
   * Creates a network of the given nodes whose inboxes hold at most {@code inboxCapacity} batches
   * each.
   */
  public InProcessNetwork(Collection<NodeId> members, int inboxCapacity) {
    if (inboxCapacity < 1) {
      throw new IllegalArgumentException("inbox capacity must be at least 1, got " + inboxCapacity);
    }
    this.members = List.copyOf(members);
    this.inboxCapacity = inboxCapacity;
  }

  /**
   * Returns the transport of node {@code id}, creating it on first use.
   *
   * @throws IllegalArgumentException if the node is not a member
   */
  public InProcessTransport transport(NodeId id) {
    Objects.requireNonNull(id);
    if (!members.contains(id)) {
      throw new IllegalArgumentException("node " + id + " is not a member of " + members);
    }
    return transports.computeIfAbsent(id, i -> new InProcessTransport(i, this, inboxCapacity));
  }

  /** The members, in the order given. */
  public List<NodeId> members() {
    return members;
  }

  InProcessTransport lookup(NodeId id) {
    return transports.get(id);
  }

  /**
   * Messages dropped so far by all transports, by node (full inboxes, unknown or stopped
   * destinations).
   */
  public Map<NodeId, Long> droppedMessages() {
    Map<NodeId, Long> out = new LinkedHashMap<>();
    for (NodeId id : members) {
      InProcessTransport t = transports.get(id);
      out.put(id, t == null ? 0L : t.droppedMessages());
    }
    return out;
  }
}
