package io.github.mirframework.net.inprocess;

import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.pb.Init;
import io.github.mirframework.event.pb.MessageReceived;
import io.github.mirframework.event.pb.NetMessage;
import io.github.mirframework.event.pb.SendMessage;
import io.github.mirframework.metrics.TransportStats;
import io.github.mirframework.module.EventSink;
import io.github.mirframework.net.Membership;
import io.github.mirframework.net.Transport;
import io.github.mirframework.types.NodeId;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transport of one node of an {@link InProcessNetwork}: an active module (usually registered as
 * {@code "net"}) that handles {@code SendMessage} and emits {@code MessageReceived}. The sender of
 * a delivered message is the node this transport belongs to, never taken from the message. Each
 * transport has one delivery thread ({@code mir-inproc-<node>}) that moves its inbox into its node;
 * a full inbox drops (and counts) messages instead of blocking the sender.
 *
 * <p>As a {@link Transport}: there is nothing to start or connect, so {@link #start()} does nothing
 * and a node counts as connected while its transport exists and is open. Until {@link #connect} is
 * first called, every member of the network is a valid destination; from then on only the nodes
 * made known by {@code connect} (and not forgotten by {@link #closeOldConnections}) are.
 */
public final class InProcessTransport implements Transport, TransportStats {
  private static final Logger LOG = LoggerFactory.getLogger(InProcessTransport.class);

  private final NodeId self;
  private final InProcessNetwork network;
  private final BlockingQueue<EventList> inbox;
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong received = new AtomicLong();
  private final ConcurrentHashMap<NodeId, PeerCounters> peers = new ConcurrentHashMap<>();

  /** Counters of one peer: messages and payload bytes each way, drops of messages to it. */
  private static final class PeerCounters {
    final AtomicLong sent = new AtomicLong();
    final AtomicLong sentBytes = new AtomicLong();
    final AtomicLong received = new AtomicLong();
    final AtomicLong receivedBytes = new AtomicLong();
    final AtomicLong dropped = new AtomicLong();
  }

  private PeerCounters peer(NodeId id) {
    return peers.computeIfAbsent(id, k -> new PeerCounters());
  }

  private volatile boolean closed;
  private Thread thread;
  // null: every member of the network (connect() was never called). Replaced, never mutated.
  private volatile Set<NodeId> known;

  InProcessTransport(NodeId self, InProcessNetwork network, int inboxCapacity) {
    this.self = self;
    this.network = network;
    this.inbox = new ArrayBlockingQueue<>(inboxCapacity);
  }

  /** The node this transport belongs to. */
  @Override
  public NodeId self() {
    return self;
  }

  /** Does nothing: an in-process transport has no network services. */
  @Override
  public void start() {}

  @Override
  public synchronized void connect(Membership membership) {
    Set<NodeId> next = known == null ? new HashSet<>() : new HashSet<>(known);
    next.addAll(membership.ids());
    known = Set.copyOf(next);
  }

  @Override
  public synchronized void closeOldConnections(Membership newMembership) {
    Set<NodeId> next = new HashSet<>(known == null ? network.members() : known);
    next.retainAll(newMembership.ids());
    known = Set.copyOf(next);
  }

  private boolean isKnown(NodeId id) {
    Set<NodeId> k = known;
    return k == null ? network.members().contains(id) : k.contains(id);
  }

  @Override
  public boolean waitFor(int n, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      if (closed) {
        return false;
      }
      int up = 0;
      for (NodeId id : network.members()) {
        InProcessTransport t = network.lookup(id);
        if (isKnown(id) && t != null && !t.closed) {
          up++;
        }
      }
      if (up >= n) {
        return true;
      }
      if (System.nanoTime() - deadline >= 0) {
        return false;
      }
      // Peers appear when their transports are created; there is nothing to be notified of.
      Thread.sleep(1);
    }
  }

  @Override
  public synchronized void start(EventSink sink) {
    if (thread != null) {
      throw new IllegalStateException("transport of " + self + " already started");
    }
    thread = new Thread(() -> deliverLoop(sink), "mir-inproc-" + self);
    thread.setDaemon(true);
    thread.start();
  }

  private void deliverLoop(EventSink sink) {
    try {
      while (!closed) {
        EventList batch = inbox.poll(100, TimeUnit.MILLISECONDS);
        if (batch == null) {
          continue;
        }
        EventList more;
        while ((more = inbox.poll()) != null && batch.size() < 4096) {
          batch.addAll(more);
        }
        if (more != null) {
          batch.addAll(more);
        }
        if (!sink.emit(batch)) {
          return;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void applyEvents(EventList events) {
    for (Event e : events) {
      switch (e.payload()) {
        case SendMessage s -> send(s);
        case Init i -> {}
        default ->
            throw new IllegalArgumentException(
                "the in-process transport cannot handle events of type " + e.typeName());
      }
    }
  }

  private void send(SendMessage s) {
    NetMessage msg = s.getMsg();
    Event received = receivedEvent(msg, s.getDestinationsCount());
    if (received == null) {
      return;
    }
    for (String d : s.getDestinationsList()) {
      NodeId id;
      try {
        id = NodeId.of(d);
      } catch (IllegalArgumentException e) {
        dropped.incrementAndGet();
        continue;
      }
      deliver(id, received);
    }
  }

  private Event receivedEvent(NetMessage msg, int destinations) {
    try {
      return Events.messageReceived(self, msg);
    } catch (IllegalArgumentException e) {
      LOG.warn("{}: dropping message with bad destination module '{}'", self, msg.getDestModule());
      dropped.addAndGet(destinations);
      return null;
    }
  }

  private boolean deliver(NodeId id, Event received) {
    InProcessTransport dest = isKnown(id) ? network.lookup(id) : null;
    if (closed || dest == null || dest.closed || !dest.inbox.offer(EventList.of(received))) {
      dropped.incrementAndGet();
      if (dest != null) {
        peer(id).dropped.incrementAndGet();
      }
      return false;
    }
    long bytes = ((MessageReceived) received.payload()).getMsg().getSerializedSize();
    PeerCounters to = peer(id);
    to.sent.incrementAndGet();
    to.sentBytes.addAndGet(bytes);
    PeerCounters from = dest.peer(self);
    from.received.incrementAndGet();
    from.receivedBytes.addAndGet(bytes);
    dest.received.incrementAndGet();
    return true;
  }

  /**
   * Per peer: messages and payload bytes sent and received, messages to it dropped. An in-process
   * transport has no connections, so reconnects are always 0.
   */
  @Override
  public Map<NodeId, PeerStats> peerStats() {
    Map<NodeId, PeerStats> out = new TreeMap<>(Comparator.comparing(NodeId::value));
    peers.forEach(
        (id, c) ->
            out.put(
                id,
                new PeerStats(
                    c.sent.get(),
                    c.received.get(),
                    c.sentBytes.get(),
                    c.receivedBytes.get(),
                    c.dropped.get(),
                    0,
                    network.lookup(id) != null && !network.lookup(id).closed)));
    return out;
  }

  @Override
  public long messagesReceived() {
    return received.get();
  }

  @Override
  public Map<String, Long> droppedByReason() {
    return Map.of("undeliverable", dropped.get());
  }

  @Override
  public boolean send(NodeId destination, NetMessage msg) {
    Event received = receivedEvent(msg, 1);
    return received != null && deliver(destination, received);
  }

  /** Number of messages this transport could not hand over. */
  public long droppedMessages() {
    return dropped.get();
  }

  @Override
  public void stop() {
    Thread t;
    synchronized (this) {
      closed = true;
      t = thread;
    }
    if (t != null) {
      t.interrupt();
      boolean interrupted = false;
      while (true) {
        try {
          t.join();
          break;
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
