package io.github.mirframework.net;

import io.github.mirframework.event.pb.NetMessage;
import io.github.mirframework.module.ActiveModule;
import io.github.mirframework.module.EventSink;
import io.github.mirframework.types.NodeId;
import java.io.IOException;
import java.time.Duration;
import java.util.Collection;

/**
 * The network module of a node (Mir's {@code net.Transport}), usually registered as {@code "net"}.
 *
 * <p>As a module it handles {@code SendMessage} events and emits {@code MessageReceived} events
 * whose {@code from} is the sender as established by the transport (for an authenticated transport,
 * by the connection, never by the message). Messages to the node itself are delivered locally.
 *
 * <p>Life cycle: {@link #start()} starts the network services (e.g. binds the listening socket),
 * {@link #connect} tells the transport which nodes exist, {@link #start(EventSink)} (called by the
 * node) starts delivering received messages to the node, {@link #stop()} (or {@link #close()},
 * called by the node) ends everything and joins every thread the transport started. Messages that
 * arrive before {@code start(EventSink)} are kept (within the transport's limits) until then.
 *
 * <p>Delivery is best effort: a message may be lost (e.g. when a connection breaks, or a queue
 * overflows; transports count what they drop), but it is never corrupted, never delivered twice by
 * the transport, and messages between two nodes are delivered in the order sent while their
 * connection lasts. A peer that is down or slow never blocks or fails the node.
 *
 * <p>Thread-safety: every method may be called from any thread.
 */
public interface Transport extends ActiveModule {

  /**
   * A transport produces received messages but never takes them: messages that a peer addresses to
   * the transport's own module ID are dropped by the node.
   */
  @Override
  default boolean receivesMessages() {
    return false;
  }

  /** The node this transport belongs to. */
  NodeId self();

  /**
   * Starts the network services. Idempotent. {@link #start(EventSink)} calls it if it was not
   * called before.
   *
   * @throws IOException if the services cannot start (e.g. the listening port is taken)
   * @throws IllegalStateException if the transport has been stopped
   */
  void start() throws IOException;

  /**
   * Makes the nodes of {@code membership} known, so that messages can be sent to them and are
   * accepted from them. Connections are established in the background; this method never blocks on
   * the network and is idempotent: nodes already known keep their connection unless their address
   * changed. Nodes that are known but not in {@code membership} stay known (see {@link
   * #closeOldConnections}).
   */
  void connect(Membership membership);

  /**
   * Sends {@code msg} to node {@code destination} without blocking.
   *
   * @return {@code true} if the message was delivered locally or queued for sending; {@code false}
   *     if it was dropped (unknown destination, full queue, too large, transport stopped), which
   *     the transport counts
   */
  boolean send(NodeId destination, NetMessage msg);

  /**
   * Sends {@code msg} to each of {@code destinations} (see {@link #send(NodeId, NetMessage)}).
   *
   * @return the number of destinations for which the message was delivered or queued
   */
  default int send(Collection<NodeId> destinations, NetMessage msg) {
    int accepted = 0;
    for (NodeId d : destinations) {
      if (send(d, msg)) {
        accepted++;
      }
    }
    return accepted;
  }

  /**
   * Waits until connections to at least {@code n} known nodes are established, counting the node
   * itself (always connected) if it is known.
   *
   * @return {@code true} when {@code n} connections are up; {@code false} if the timeout passed or
   *     the transport stopped first
   */
  boolean waitFor(int n, Duration timeout) throws InterruptedException;

  /**
   * Forgets every known node that is not in {@code newMembership}: closes the connections to it,
   * discards the messages queued for it and stops accepting messages from it.
   */
  void closeOldConnections(Membership newMembership);

  /**
   * Stops the transport: closes every connection and network service and joins every thread the
   * transport started. Idempotent; never throws.
   */
  void stop();

  /** Same as {@link #stop()}. */
  @Override
  default void close() {
    stop();
  }
}
