package io.github.mirframework.net.grpc;

import io.github.mirframework.types.NodeId;
import java.util.Map;

/**
 * A snapshot of a gRPC transport's counters.
 *
 * @param sent messages written to peer streams (not necessarily received: a message in flight is
 *     lost if the connection breaks)
 * @param received messages received from peers and handed towards the node
 * @param deliveredLocally messages the node sent to itself
 * @param dropped messages dropped, by reason (every reason present, zero or more)
 * @param refusedStreams incoming streams refused because their sender was not authenticated or not
 *     a known node, or had no room left in the inbox
 * @param peers per known peer: queue length, messages sent and dropped, connection state
 */
public record TransportMetrics(
    long sent,
    long received,
    long deliveredLocally,
    Map<DropReason, Long> dropped,
    long refusedStreams,
    Map<NodeId, Peer> peers) {

  /** Copies the maps. */
  public TransportMetrics {
    dropped = Map.copyOf(dropped);
    peers = Map.copyOf(peers);
  }

  /** The number of messages dropped for {@code reason}. */
  public long dropped(DropReason reason) {
    return dropped.getOrDefault(reason, 0L);
  }

  /** The number of messages dropped for any reason. */
  public long droppedTotal() {
    return dropped.values().stream().mapToLong(Long::longValue).sum();
  }

  /**
   * Counters of one peer.
   *
   * @param queued messages waiting in the send queue
   * @param sent messages written to the peer's stream
   * @param droppedQueueFull messages dropped because the queue was full
   * @param connected whether a stream to the peer is established
   * @param connectAttempts streams opened so far (the first one and every reconnection)
   */
  public record Peer(
      int queued, long sent, long droppedQueueFull, boolean connected, long connectAttempts) {}
}
