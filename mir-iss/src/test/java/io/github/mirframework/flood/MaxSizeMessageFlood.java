package io.github.mirframework.flood;

import com.google.protobuf.ByteString;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.net.grpc.NodeIdentity;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * A Byzantine member sends {@code count} frames of the largest size the transport accepts (junk,
 * see {@link PeerChannel#junkFrames}) as fast as the node lets it: one stream, written whenever
 * gRPC's flow control says it is ready (so the attacker itself buffers at most one frame). When the
 * node ends the stream (e.g. the member's own node replaced it, or the node refused it while its
 * inbox had no room for this sender), a new one is opened, after 10 ms if it was refused. Threads:
 * the connection's event loop only.
 */
class MaxSizeMessageFlood extends MemberStreamFlood {
  private final LongSupplier received;
  private final AtomicLong streams = new AtomicLong();
  // Guarded by this.
  private ClientCall<byte[], byte[]> call;
  private long sent;
  private boolean done;

  MaxSizeMessageFlood(
      String name,
      NodeAddress to,
      NodeIdentity as,
      ByteString serverKey,
      int count,
      LongSupplier received,
      int frameBytes) {
    super(name, to, as, serverKey, count, frameBytes, 11);
    this.received = received;
  }

  @Override
  public void start() {
    openStream();
  }

  private synchronized void openStream() {
    if (stopped || done) {
      return;
    }
    ClientCall<byte[], byte[]> c = peer.channel.newCall(PeerChannel.LISTEN, CallOptions.DEFAULT);
    call = c;
    streams.incrementAndGet();
    c.start(
        new ClientCall.Listener<>() {
          @Override
          public void onReady() {
            pump(c);
          }

          @Override
          public void onClose(Status status, Metadata trailers) {
            ended(c, status);
          }
        },
        new Metadata());
    c.request(1);
    pump(c);
  }

  private synchronized void pump(ClientCall<byte[], byte[]> c) {
    if (c != call) {
      return;
    }
    while (!stopped && !enough() && c.isReady()) {
      c.sendMessage(frames.get((int) (sent % frames.size())));
      sent++;
    }
    if (enough() && !done) {
      done = true;
      c.halfClose();
    }
  }

  private void ended(ClientCall<byte[], byte[]> c, Status status) {
    countEnding(status);
    synchronized (this) {
      if (c != call) {
        return;
      }
      call = null;
      if (done || stopped) {
        return;
      }
    }
    try {
      if (status.getCode() == Status.Code.RESOURCE_EXHAUSTED) {
        peer.loop().schedule(this::openStream, 10, TimeUnit.MILLISECONDS);
      } else {
        peer.loop().execute(this::openStream);
      }
    } catch (RejectedExecutionException e) {
      // Closing.
    }
  }

  private boolean enough() {
    return received.getAsLong() >= count || sent >= 3L * count;
  }

  /** Whether enough frames were sent and the last stream has ended. */
  @Override
  public synchronized boolean finished() {
    return done && call == null;
  }

  @Override
  public Map<String, Long> counters() {
    Map<String, Long> m = new TreeMap<>();
    synchronized (this) {
      m.put("frames_written", sent);
    }
    m.put("frames_received", received.getAsLong());
    m.put("streams", streams.get());
    putStreamCounters(m);
    return m;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    ClientCall<byte[], byte[]> c;
    synchronized (this) {
      stopped = true;
      c = call;
    }
    if (c != null) {
      c.cancel("flood over", null);
    }
    peer.close();
    closed = true;
  }
}
