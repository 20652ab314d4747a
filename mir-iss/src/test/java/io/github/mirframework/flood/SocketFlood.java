package io.github.mirframework.flood;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the floods of raw sockets ({@link IdleConnectionFlood}, {@link TlsHandshakeFlood}) share:
 * {@code count} attempts spread over the {@code targets}, at most {@code maxHeld} sockets held at a
 * time, the sockets held now, the counters every such flood reports, and {@link #close()}. Threads:
 * the virtual threads of {@link #threads}, joined by {@link #close()}.
 */
abstract class SocketFlood implements Flood {
  final String name;
  final List<InetSocketAddress> targets;
  final int count;
  final int maxHeld;
  final Semaphore held;
  final Set<Socket> open = ConcurrentHashMap.newKeySet();
  final AtomicInteger openCount = new AtomicInteger();
  final AtomicLong maxOpen = new AtomicLong();
  final AtomicLong closedByServer = new AtomicLong();
  final AtomicLong connectFailures = new AtomicLong();
  final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
  volatile boolean stopped;
  volatile boolean started;

  SocketFlood(String name, List<InetSocketAddress> targets, int count, int maxHeld) {
    this.name = name;
    this.targets = List.copyOf(targets);
    this.count = count;
    this.maxHeld = maxHeld;
    this.held = new Semaphore(maxHeld);
  }

  @Override
  public String name() {
    return name;
  }

  /**
   * Counts {@code s} as held (and in the peak); closes it at once if the flood is stopping, since
   * {@link #close()} may have gone over the held sockets before {@code s} was among them.
   */
  void register(Socket s) {
    open.add(s);
    maxOpen.accumulateAndGet(openCount.incrementAndGet(), Math::max);
    if (stopped) {
      Floods.closeQuietly(s);
    }
  }

  /** Stops counting {@code s} as held; whether it was (false if it was already unregistered). */
  boolean unregister(Socket s) {
    if (open.remove(s)) {
      openCount.decrementAndGet();
      return true;
    }
    return false;
  }

  @Override
  public int openSockets() {
    return openCount.get();
  }

  /** Puts the counters every socket flood has into {@code m}. */
  void putSocketCounters(Map<String, Long> m) {
    m.put("closed_by_server", closedByServer.get());
    m.put("connect_failures", connectFailures.get());
    m.put("attacker_peak_open", maxOpen.get());
    m.put("attacker_max_held", (long) maxHeld);
  }

  @Override
  public void close() {
    stopped = true;
    held.release(count); // wakes the threads waiting for a slot
    for (Socket s : open) {
      Floods.closeQuietly(s);
    }
    Floods.shutdown(threads, name);
  }
}
