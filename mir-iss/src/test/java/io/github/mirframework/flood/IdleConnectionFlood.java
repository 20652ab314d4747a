package io.github.mirframework.flood;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
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
class IdleConnectionFlood implements Flood {
  /** Source addresses 127.0.1.1 to 127.0.1.{@value}. */
  static final int SOURCES = 32;

  private final String name;
  private final List<InetSocketAddress> targets;
  private final int count;
  private final Semaphore held;
  private final int maxHeld;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final AtomicInteger openCount = new AtomicInteger();
  private final AtomicLong opened = new AtomicLong();
  private final AtomicLong closedByServer = new AtomicLong();
  private final AtomicLong connectFailures = new AtomicLong();
  private final AtomicLong heldNanos = new AtomicLong();
  private final AtomicLong maxOpen = new AtomicLong();
  private final AtomicInteger claimed = new AtomicInteger();
  private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
  private volatile boolean stopped;
  private volatile boolean started;
  private final AtomicInteger openersLeft;

  IdleConnectionFlood(String name, List<InetSocketAddress> targets, int count, int maxHeld) {
    this.name = name;
    this.targets = List.copyOf(targets);
    this.count = count;
    this.maxHeld = maxHeld;
    this.held = new Semaphore(maxHeld);
    this.openersLeft = new AtomicInteger(targets.size());
  }

  @Override
  public String name() {
    return name;
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
          close(s);
          held.release();
          continue;
        }
        opened.incrementAndGet();
        open.add(s);
        maxOpen.accumulateAndGet(openCount.incrementAndGet(), Math::max);
        if (stopped) {
          close(s); // close() may have gone over `open` before s was in it
        }
        try {
          threads.execute(() -> hold(s));
        } catch (RejectedExecutionException e) {
          close(s); // stopping
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
      if (open.remove(s)) {
        openCount.decrementAndGet();
        close(s);
        held.release();
      }
    }
  }

  private static void close(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // Nothing to do.
    }
  }

  /** Whether all {@code count} connections were opened and the server has closed them all. */
  @Override
  public boolean finished() {
    return started && openersLeft.get() == 0 && openCount.get() == 0;
  }

  @Override
  public int openSockets() {
    return openCount.get();
  }

  @Override
  public Map<String, Long> counters() {
    Map<String, Long> m = new TreeMap<>();
    m.put("opened", opened.get());
    m.put("closed_by_server", closedByServer.get());
    m.put("connect_failures", connectFailures.get());
    m.put("attacker_peak_open", maxOpen.get());
    m.put("attacker_max_held", (long) maxHeld);
    long n = Math.max(1, opened.get() - openCount.get());
    m.put("mean_held_ms", TimeUnit.NANOSECONDS.toMillis(heldNanos.get() / n));
    return m;
  }

  @Override
  public void close() {
    stopped = true;
    held.release(count); // wakes openers waiting for a slot
    for (Socket s : open) {
      close(s);
    }
    Floods.shutdown(threads, name);
  }
}
