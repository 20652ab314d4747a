package io.github.mirframework.flood;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Plain TCP connections that never send a byte, opened as fast as the machine allows until {@code
 * count} were opened, spread over the {@code targets} and over many source addresses of 127/8 (so
 * that the per-address cap does not stop them before the total cap does). Each stays open until the
 * server closes it (refused at accept, or after the handshake or idle timeout) or the flood is
 * closed; when the server closes one, the attacker's side is closed too and the next connection
 * takes its place. The attacker's own descriptors are bounded by {@code maxHeld}. Threads: virtual
 * threads (one per open connection, one per target opening them), all joined by {@link #close()}.
 */
class IdleConnectionFlood extends SocketFlood {
  /** Source addresses 127.0.1.1 to 127.0.1.{@value}. */
  static final int SOURCES = 32;

  private final AtomicLong opened = new AtomicLong();
  private final AtomicLong heldNanos = new AtomicLong();
  private final AtomicInteger claimed = new AtomicInteger();
  private final AtomicInteger openersLeft;

  IdleConnectionFlood(String name, List<InetSocketAddress> targets, int count, int maxHeld) {
    super(name, targets, count, maxHeld);
    this.openersLeft = new AtomicInteger(targets.size());
  }

  @Override
  public void start() {
    started = true;
    for (InetSocketAddress t : targets) {
      threads.execute(() -> openTo(t));
    }
  }

  private void openTo(InetSocketAddress target) {
    try {
      int i;
      while (!stopped && (i = claimed.getAndIncrement()) < count) {
        held.acquire();
        if (stopped) {
          held.release();
          return;
        }
        Socket s = new Socket();
        try {
          s.bind(new InetSocketAddress(source(i), 0));
          s.connect(target, 5_000);
        } catch (IOException e) {
          connectFailures.incrementAndGet();
          Floods.closeQuietly(s);
          held.release();
          continue;
        }
        opened.incrementAndGet();
        register(s);
        try {
          threads.execute(() -> hold(s));
        } catch (RejectedExecutionException e) {
          Floods.closeQuietly(s); // stopping
          return;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      openersLeft.decrementAndGet();
    }
  }

  /** Source address {@code i} of 127.0.1.1 ... 127.0.1.SOURCES. */
  static InetAddress source(int i) throws IOException {
    return InetAddress.getByAddress(new byte[] {127, 0, 1, (byte) (1 + i % SOURCES)});
  }

  /** Holds {@code s} until the server closes it or the flood stops. */
  private void hold(Socket s) {
    long at = System.nanoTime();
    try (InputStream in = s.getInputStream()) {
      byte[] buf = new byte[4096];
      while (in.read(buf) >= 0) {
        // Discard whatever the server sends (e.g. TLS alerts or HTTP/2 GOAWAY).
      }
      if (!stopped) {
        closedByServer.incrementAndGet();
      }
    } catch (IOException e) {
      if (!stopped) {
        closedByServer.incrementAndGet(); // reset by the server
      }
    } finally {
      heldNanos.addAndGet(System.nanoTime() - at);
      if (unregister(s)) {
        Floods.closeQuietly(s);
        held.release();
      }
    }
  }

  /** Whether all {@code count} connections were opened and the server has closed them all. */
  @Override
  public boolean finished() {
    return started && openersLeft.get() == 0 && openCount.get() == 0;
  }

  @Override
  public Map<String, Long> counters() {
    Map<String, Long> m = new TreeMap<>();
    m.put("opened", opened.get());
    putSocketCounters(m);
    long n = Math.max(1, opened.get() - openCount.get());
    m.put("mean_held_ms", TimeUnit.NANOSECONDS.toMillis(heldNanos.get() / n));
    return m;
  }
}
