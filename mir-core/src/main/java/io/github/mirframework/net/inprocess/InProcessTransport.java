package io.github.mirframework.net.inprocess;

import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.pb.Init;
import io.github.mirframework.event.pb.NetMessage;
import io.github.mirframework.event.pb.SendMessage;
import io.github.mirframework.module.ActiveModule;
import io.github.mirframework.module.EventSink;
import io.github.mirframework.types.NodeId;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
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
 */
public final class InProcessTransport implements ActiveModule {
  private static final Logger LOG = LoggerFactory.getLogger(InProcessTransport.class);

  private final NodeId self;
  private final InProcessNetwork network;
  private final BlockingQueue<EventList> inbox;
  private final AtomicLong dropped = new AtomicLong();
  private volatile boolean closed;
  private Thread thread;

  InProcessTransport(NodeId self, InProcessNetwork network, int inboxCapacity) {
    this.self = self;
    this.network = network;
    this.inbox = new ArrayBlockingQueue<>(inboxCapacity);
  }

  /** The node this transport belongs to. */
  public NodeId self() {
    return self;
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
    Event received;
    try {
      received = Events.messageReceived(self, msg);
    } catch (IllegalArgumentException e) {
      LOG.warn("{}: dropping message with bad destination module '{}'", self, msg.getDestModule());
      dropped.incrementAndGet();
      return;
    }
    for (String d : s.getDestinationsList()) {
      InProcessTransport dest;
      try {
        dest = network.lookup(NodeId.of(d));
      } catch (IllegalArgumentException e) {
        dest = null;
      }
      if (dest == null || dest.closed || !dest.inbox.offer(EventList.of(received))) {
        dropped.incrementAndGet();
      }
    }
  }

  /** Number of messages this transport could not hand over. */
  public long droppedMessages() {
    return dropped.get();
  }

  @Override
  public void close() {
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
