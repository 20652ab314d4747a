package io.github.mirframework.flood;

import com.google.protobuf.ByteString;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.net.grpc.NodeIdentity;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Stream churn by a Byzantine member: over one authenticated connection it opens {@code count}
 * streams, one after the other (at most {@value #IN_FLIGHT} open at a time), and sends one frame of
 * about {@code frameBytes} on each (junk, see {@link PeerChannel#junkFrames}), hoping that each new
 * stream gets one more frame into the node past its limits. The streams the node replaces or
 * refuses end; the last one is cancelled by {@link #close()}. Threads: one virtual thread that
 * opens the streams, and the connection's event loop.
 */
class StreamChurnFlood extends MemberStreamFlood {
  static final int IN_FLIGHT = 16;

  private final Semaphore inFlight = new Semaphore(IN_FLIGHT);
  private final Set<ClientCall<byte[], byte[]>> open = ConcurrentHashMap.newKeySet();
  private final AtomicInteger opened = new AtomicInteger();
  private final AtomicInteger ended = new AtomicInteger();
  private final ExecutorService driver = Executors.newVirtualThreadPerTaskExecutor();
  private volatile boolean started;

  StreamChurnFlood(
      String name,
      NodeAddress to,
      NodeIdentity as,
      ByteString serverKey,
      int count,
      int frameBytes) {
    super(name, to, as, serverKey, count, frameBytes, 7);
  }

  @Override
  public void start() {
    started = true;
    driver.execute(this::drive);
  }

  private void drive() {
    try {
      for (int i = 0; i < count && !stopped; i++) {
        inFlight.acquire();
        if (stopped) {
          return;
        }
        ClientCall<byte[], byte[]> call =
            peer.channel.newCall(PeerChannel.LISTEN, CallOptions.DEFAULT);
        open.add(call);
        call.start(
            new ClientCall.Listener<>() {
              @Override
              public void onClose(Status status, Metadata trailers) {
                if (open.remove(call)) {
                  countEnding(status);
                  ended.incrementAndGet();
                  inFlight.release();
                }
              }
            },
            new Metadata());
        call.request(1);
        call.sendMessage(frames.get(i % frames.size()));
        opened.incrementAndGet();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Whether all streams were opened and all but the newest have ended. */
  @Override
  public boolean finished() {
    return started && opened.get() == count && open.size() <= 1;
  }

  @Override
  public Map<String, Long> counters() {
    Map<String, Long> m = new TreeMap<>();
    m.put("streams", (long) opened.get());
    putStreamCounters(m);
    return m;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    stopped = true;
    inFlight.release(count);
    Floods.shutdown(driver, name);
    for (ClientCall<byte[], byte[]> c : open) {
      c.cancel("flood over", null);
    }
    peer.close();
    closed = true;
  }
}
