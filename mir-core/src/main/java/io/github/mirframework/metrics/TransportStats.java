package io.github.mirframework.metrics;

import io.github.mirframework.types.NodeId;
import java.util.Map;

/**
 * Counters a transport offers for metrics. A transport module that implements this interface is
 * registered with the node's {@link NodeMetrics} automatically. Every method is thread-safe and
 * cheap enough to be called on each scrape; a counter the transport does not keep is {@link
 * #UNKNOWN}.
 */
public interface TransportStats {

  /** The value of a counter a transport does not keep. */
  long UNKNOWN = -1;

  /** A snapshot of the counters of each known peer. */
  Map<NodeId, PeerStats> peerStats();

  /** Messages received from all peers together (or {@link #UNKNOWN}). */
  default long messagesReceived() {
    return UNKNOWN;
  }

  /** Messages dropped, by reason (all peers together); empty if the transport does not say. */
  default Map<String, Long> droppedByReason() {
    return Map.of();
  }

  /**
   * Counters of one peer; each is {@link #UNKNOWN} if the transport does not keep it.
   *
   * @param messagesSent messages sent to the peer
   * @param messagesReceived messages received from the peer
   * @param bytesSent bytes sent to the peer (message payloads)
   * @param bytesReceived bytes received from the peer (message payloads)
   * @param dropped messages to or from the peer that were dropped
   * @param reconnects connections re-established after the first one
   * @param connected whether the peer is connected now
   */
  record PeerStats(
      long messagesSent,
      long messagesReceived,
      long bytesSent,
      long bytesReceived,
      long dropped,
      long reconnects,
      boolean connected) {}
}
