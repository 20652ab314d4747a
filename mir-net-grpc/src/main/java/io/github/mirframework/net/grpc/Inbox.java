package io.github.mirframework.net.grpc;

import io.github.mirframework.event.Event;
import io.github.mirframework.types.NodeId;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.EventExecutorGroup;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The queue between the threads that receive messages (Netty event loops, and senders of messages
 * to self) and the one thread that hands them to the node.
 *
 * <p>Waking a parked thread costs far more than queuing a message, so producers on an event loop do
 * not wake the consumer themselves: they schedule one wake-up task on their event loop, which runs
 * after the loop has processed everything it read in that round. Many messages then cost one
 * wake-up. Producers on other threads wake the consumer directly. Sizes (messages, bytes, and bytes
 * per sender) are kept separately, so reading them is cheap.
 */
final class Inbox {
  private record Entry(Event event, NodeId sender, int bytes) {}

  private final ConcurrentLinkedQueue<Entry> queue = new ConcurrentLinkedQueue<>();
  private final AtomicInteger size = new AtomicInteger();
  private final AtomicLong bytes = new AtomicLong();
  private final ConcurrentHashMap<NodeId, AtomicLong> bytesBySender = new ConcurrentHashMap<>();
  private final AtomicBoolean consumerIdle = new AtomicBoolean();
  private final AtomicBoolean wakeScheduled = new AtomicBoolean();
  private final Runnable wake =
      () -> {
        wakeScheduled.set(false);
        unparkConsumer();
      };
  private volatile Thread consumer;
  private volatile EventExecutor[] loops = new EventExecutor[0];

  /** The event loops whose threads defer their wake-ups (see the class comment). */
  void deferWakeUpsOn(EventExecutorGroup group) {
    List<EventExecutor> all = new ArrayList<>();
    group.forEach(all::add);
    loops = all.toArray(new EventExecutor[0]);
  }

  private EventExecutor currentLoop() {
    for (EventExecutor e : loops) {
      if (e.inEventLoop()) {
        return e;
      }
    }
    return null;
  }

  int size() {
    return size.get();
  }

  /** The bytes of all buffered messages. */
  long bytes() {
    return bytes.get();
  }

  /** The bytes of the buffered messages of {@code sender}. */
  long bytesOf(NodeId sender) {
    AtomicLong b = bytesBySender.get(sender);
    return b == null ? 0 : b.get();
  }

  /** Adds an event received from {@code sender} that took {@code size} bytes on the wire. */
  void add(Event e, NodeId sender, int size) {
    bytesBySender.computeIfAbsent(sender, k -> new AtomicLong()).addAndGet(size);
    bytes.addAndGet(size);
    queue.offer(new Entry(e, sender, size));
    this.size.incrementAndGet();
    if (!consumerIdle.get()) {
      return;
    }
    EventExecutor loop = currentLoop();
    if (loop == null) {
      unparkConsumer();
    } else if (wakeScheduled.compareAndSet(false, true)) {
      try {
        loop.execute(wake);
      } catch (RejectedExecutionException stopping) {
        wakeScheduled.set(false);
        unparkConsumer();
      }
    }
  }

  private void unparkConsumer() {
    Thread t = consumer;
    if (t != null) {
      LockSupport.unpark(t);
    }
  }

  /**
   * Moves up to {@code max} events into {@code out}, waiting while there are none. Called by the
   * one consumer thread only.
   *
   * @throws InterruptedException if the consumer is interrupted while waiting
   */
  void takeBatch(List<Event> out, int max) throws InterruptedException {
    consumer = Thread.currentThread();
    while (true) {
      Entry e;
      while (out.size() < max && (e = queue.poll()) != null) {
        out.add(e.event());
        release(e);
      }
      if (!out.isEmpty()) {
        size.addAndGet(-out.size());
        return;
      }
      // Announce the wait before the last look, so that a producer either sees it or the look
      // sees the producer's event.
      consumerIdle.set(true);
      try {
        if (queue.isEmpty()) {
          LockSupport.park(this);
        }
      } finally {
        consumerIdle.set(false);
      }
      if (Thread.interrupted()) {
        throw new InterruptedException();
      }
    }
  }

  private void release(Entry e) {
    bytes.addAndGet(-e.bytes());
    AtomicLong b = bytesBySender.get(e.sender());
    if (b != null) {
      b.addAndGet(-e.bytes());
    }
  }

  void clear() {
    int n = 0;
    Entry e;
    while ((e = queue.poll()) != null) {
      release(e);
      n++;
    }
    size.addAndGet(-n);
  }
}
