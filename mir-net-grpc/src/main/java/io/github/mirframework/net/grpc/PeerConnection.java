package io.github.mirframework.net.grpc;

import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.net.grpc.pb.ByeBye;
import io.github.mirframework.types.NodeId;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The outgoing side of the connection to one peer: a bounded queue of serialized frames and one
 * client stream that carries them, re-opened with capped exponential backoff whenever it fails.
 *
 * <p>Concurrency: all stream state is owned by a drain loop that runs on whichever thread triggers
 * it (a sender, a gRPC callback, the reconnection timer) but never on two at once ({@code wip}
 * counts requests; the thread that raises it from zero loops until no request is left). gRPC
 * callbacks only record what happened and trigger the loop, so the loop also serializes every call
 * into the non-thread-safe {@link ClientCall}.
 *
 * <p>Frames are written only after the receiver has accepted the stream (its response headers
 * arrived), so a stream refused at start-up (e.g. because the receiver does not know this node yet)
 * costs no messages. Frames written to a stream that later breaks are lost. When the peer opens a
 * stream to us ({@link #peerIsUp()}), a connection waiting out its backoff retries at once.
 */
final class PeerConnection {
  private static final Logger LOG = LoggerFactory.getLogger(PeerConnection.class);

  private final NodeId self;
  private final NodeId peer;
  private final GrpcTransport.Params params;
  private final MethodDescriptor<byte[], ByeBye> method;
  private final Function<NodeAddress, ManagedChannel> channels;
  private final Supplier<Metadata> headers;
  private final ScheduledExecutorService scheduler;
  private final Runnable onStateChange;
  private final AtomicLong droppedClosed;
  private final AtomicLong droppedQueueFullTotal;

  private final ConcurrentLinkedQueue<byte[]> queue = new ConcurrentLinkedQueue<>();
  private final AtomicInteger queuedMessages = new AtomicInteger();
  private final AtomicLong queuedBytes = new AtomicLong();
  private final AtomicInteger wip = new AtomicInteger();
  // Test seam: runs in enqueue() between the check for closing and the queuing.
  volatile Runnable enqueueHook;

  private final AtomicLong sent = new AtomicLong();
  private final AtomicLong droppedQueueFull = new AtomicLong();
  private final AtomicLong attempts = new AtomicLong();

  // Signals from other threads to the drain loop.
  private volatile boolean closing;
  private volatile NodeAddress address;
  private volatile ClientCall<byte[], ByeBye> endedCall;
  private volatile Status endedStatus;
  private volatile ClientCall<byte[], ByeBye> acceptedCall;
  private volatile boolean retryDue;
  // Set when the peer proved it is up (it opened a stream to us): the next attempt is not delayed.
  private volatile boolean peerSeenUp;

  // Owned by the drain loop (volatile where read by others).
  private volatile ClientCall<byte[], ByeBye> call;
  private ManagedChannel channel;
  private NodeAddress channelAddress;
  // Channels shut down (guarded by this), for awaitClosed().
  private final List<ManagedChannel> retired = new ArrayList<>();
  private boolean waitingToRetry;
  private ScheduledFuture<?> retryTask;
  private int failures;
  private boolean shutDown;
  private long lastComplaintNanos;
  private boolean complainedOnce;

  PeerConnection(
      NodeId self,
      NodeId peer,
      NodeAddress address,
      GrpcTransport.Params params,
      MethodDescriptor<byte[], ByeBye> method,
      Function<NodeAddress, ManagedChannel> channels,
      Supplier<Metadata> headers,
      ScheduledExecutorService scheduler,
      Runnable onStateChange,
      AtomicLong droppedClosed,
      AtomicLong droppedQueueFullTotal) {
    this.self = self;
    this.peer = peer;
    this.address = address;
    this.params = params;
    this.method = method;
    this.channels = channels;
    this.headers = headers;
    this.scheduler = scheduler;
    this.onStateChange = onStateChange;
    this.droppedClosed = droppedClosed;
    this.droppedQueueFullTotal = droppedQueueFullTotal;
  }

  NodeId peer() {
    return peer;
  }

  NodeAddress address() {
    return address;
  }

  /** Starts connecting in the background. */
  void open() {
    drain();
  }

  /**
   * Queues a frame.
   *
   * @return whether it was queued; {@code false} if the queue is full or the connection closed
   */
  boolean enqueue(byte[] frame) {
    if (closing) {
      droppedClosed.incrementAndGet();
      return false;
    }
    int n = queuedMessages.incrementAndGet();
    long bytes = queuedBytes.addAndGet(frame.length);
    if (n > params.sendQueueMessages() || bytes > params.sendQueueBytes()) {
      queuedMessages.decrementAndGet();
      queuedBytes.addAndGet(-frame.length);
      droppedQueueFull.incrementAndGet();
      droppedQueueFullTotal.incrementAndGet();
      return false;
    }
    Runnable hook = enqueueHook;
    if (hook != null) {
      hook.run();
    }
    queue.offer(frame);
    // If close() ran since the check above, this drain discards the frame (counted as closed)
    // rather than leaving it stranded in the queue.
    drain();
    return true;
  }

  /** Points the connection at a new address: the stream is re-opened there, the queue is kept. */
  void retarget(NodeAddress newAddress) {
    address = newAddress;
    drain();
  }

  /**
   * Tells the connection that the peer is up and knows this node (it has just opened a stream to
   * us), so that a connection waiting out its backoff (typically because the peer refused us before
   * it knew us) retries at once. The hint also covers an attempt still under way: if that one is
   * refused, the next follows without delay. Each hint allows one undelayed attempt.
   */
  void peerIsUp() {
    peerSeenUp = true;
    drain();
  }

  /** Closes the stream and the channel and discards the queue. Returns at once. */
  void close() {
    closing = true;
    drain();
  }

  /** Waits until the channel has terminated after {@link #close()}. */
  void awaitClosed(Duration timeout) {
    List<ManagedChannel> toWait;
    synchronized (this) {
      toWait = List.copyOf(retired);
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    for (ManagedChannel ch : toWait) {
      try {
        if (!ch.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
          LOG.warn("{}: the channel to {} did not terminate within {}", self, peer, timeout);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  boolean isConnected() {
    ClientCall<byte[], ByeBye> c = call;
    return c != null && c == acceptedCall && !closing;
  }

  TransportMetrics.Peer metrics() {
    return new TransportMetrics.Peer(
        queuedMessages.get(), sent.get(), droppedQueueFull.get(), isConnected(), attempts.get());
  }

  long sent() {
    return sent.get();
  }

  private void drain() {
    if (wip.getAndIncrement() != 0) {
      return;
    }
    int missed = 1;
    do {
      try {
        step();
      } catch (RuntimeException e) {
        // Never let a transport problem reach the caller (a node's module thread).
        LOG.warn("{}: unexpected error on the connection to {}", self, peer, e);
      }
      missed = wip.addAndGet(-missed);
    } while (missed != 0);
  }

  private void step() {
    if (closing) {
      shutDown();
      return;
    }
    ClientCall<byte[], ByeBye> current = call;
    if (current != null && endedCall == current) {
      complain(endedStatus);
      failures = acceptedCall == current ? 0 : failures + 1;
      call = null;
      current = null;
      onStateChange.run();
      scheduleRetry();
    }
    NodeAddress target = address;
    if (channel != null && !target.equals(channelAddress)) {
      // The peer moved: drop the old channel, connect to the new address at once.
      if (current != null) {
        current.cancel("peer address changed", null);
        call = null;
        current = null;
      }
      shutDownChannel();
      cancelRetry();
      failures = 0;
      onStateChange.run();
    }
    if (current == null) {
      if (waitingToRetry && !retryDue && !peerSeenUp) {
        return;
      }
      peerSeenUp = false;
      cancelRetry();
      current = openCall(target);
    }
    if (current != null && acceptedCall == current) {
      // Connected: a hint that the peer is up has nothing left to speed up.
      peerSeenUp = false;
      while (current.isReady()) {
        byte[] frame = queue.poll();
        if (frame == null) {
          break;
        }
        queuedMessages.decrementAndGet();
        queuedBytes.addAndGet(-frame.length);
        current.sendMessage(frame);
        sent.incrementAndGet();
      }
    }
  }

  private ClientCall<byte[], ByeBye> openCall(NodeAddress target) {
    if (channel == null) {
      channel = channels.apply(target);
      channelAddress = target;
    } else if (channel.getState(false) == ConnectivityState.TRANSIENT_FAILURE) {
      // We run our own backoff; do not wait for gRPC's (up to two minutes).
      channel.resetConnectBackoff();
    }
    attempts.incrementAndGet();
    ClientCall<byte[], ByeBye> c = channel.newCall(method, CallOptions.DEFAULT);
    call = c;
    c.start(new Listener(c), headers.get());
    c.request(1);
    return c;
  }

  private void scheduleRetry() {
    waitingToRetry = true;
    retryDue = false;
    long min = params.reconnectMinDelay().toNanos();
    long max = params.reconnectMaxDelay().toNanos();
    int shift = Math.min(failures, 30);
    long delay = Math.min(max, min << shift);
    if (delay < 0) {
      delay = max;
    }
    // +-20% jitter, so that nodes that lost each other do not retry in lockstep.
    delay = (long) (delay * (0.8 + 0.4 * ThreadLocalRandom.current().nextDouble()));
    try {
      retryTask =
          scheduler.schedule(
              () -> {
                retryDue = true;
                drain();
              },
              delay,
              TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      // The transport is stopping.
    }
  }

  private void cancelRetry() {
    waitingToRetry = false;
    retryDue = false;
    if (retryTask != null) {
      retryTask.cancel(false);
      retryTask = null;
    }
  }

  private void shutDown() {
    if (shutDown) {
      discardQueue();
      return;
    }
    shutDown = true;
    cancelRetry();
    ClientCall<byte[], ByeBye> c = call;
    call = null;
    if (c != null) {
      c.cancel("connection closed", null);
    }
    shutDownChannel();
    discardQueue();
    onStateChange.run();
  }

  private void discardQueue() {
    byte[] frame;
    while ((frame = queue.poll()) != null) {
      queuedMessages.decrementAndGet();
      queuedBytes.addAndGet(-frame.length);
      droppedClosed.incrementAndGet();
    }
  }

  private void shutDownChannel() {
    if (channel != null) {
      channel.shutdownNow();
      synchronized (this) {
        retired.add(channel);
      }
      channel = null;
      channelAddress = null;
    }
  }

  private void complain(Status status) {
    if (status == null) {
      return;
    }
    long now = System.nanoTime();
    if (complainedOnce && now - lastComplaintNanos < params.minComplainPeriod().toNanos()) {
      LOG.debug("{}: stream to {} ended: {}", self, peer, status);
      return;
    }
    complainedOnce = true;
    lastComplaintNanos = now;
    LOG.info(
        "{}: stream to {} at {} ended ({}), reconnecting with backoff; {} messages queued",
        self,
        peer,
        address,
        status.getCode() + (status.getDescription() == null ? "" : ": " + status.getDescription()),
        queuedMessages.get());
  }

  /** Records what happened to one stream and lets the drain loop react. */
  private final class Listener extends ClientCall.Listener<ByeBye> {
    private final ClientCall<byte[], ByeBye> owner;

    Listener(ClientCall<byte[], ByeBye> owner) {
      this.owner = owner;
    }

    @Override
    public void onHeaders(Metadata responseHeaders) {
      acceptedCall = owner;
      onStateChange.run();
      drain();
    }

    @Override
    public void onReady() {
      drain();
    }

    @Override
    public void onClose(Status status, Metadata trailers) {
      endedStatus = status;
      endedCall = owner;
      drain();
    }
  }
}
