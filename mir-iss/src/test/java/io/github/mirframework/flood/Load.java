package io.github.mirframework.flood;

import com.google.protobuf.ByteString;
import io.github.mirframework.client.MirClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Correct clients at a steady rate: one thread ({@code flood-load}, ended by {@link #stop()})
 * submits signed requests round-robin over the clients so that {@code rate} requests per second
 * have been submitted at any time since {@link #start()} (open loop: a slow system does not slow
 * the load down). Each request's latency is recorded when its future completes, i.e. when f+1
 * replicas sent its result.
 */
final class Load {
  /** A completed request: when it completed and how long it took. */
  record Completion(long atNanos, long latencyNanos) {}

  private final List<MirClient> clients;
  private final double rate;
  private final List<CompletableFuture<ByteString>> futures = new ArrayList<>();
  private final List<Completion> completions = new ArrayList<>();
  private final AtomicLong failed = new AtomicLong();
  private final Map<String, Long> submittedPerClient = new TreeMap<>();
  private volatile boolean stopped;
  private Thread thread;
  private long submitted;

  Load(List<MirClient> clients, double rate) {
    this.clients = List.copyOf(clients);
    this.rate = rate;
  }

  synchronized void start() {
    thread = new Thread(this::run, "flood-load");
    thread.setDaemon(true);
    thread.start();
  }

  private void run() {
    long start = System.nanoTime();
    long n = 0;
    while (!stopped) {
      long due = (long) ((System.nanoTime() - start) * rate / 1e9);
      while (n < due && !stopped) {
        MirClient c = clients.get((int) (n % clients.size()));
        long at = System.nanoTime();
        CompletableFuture<ByteString> f =
            c.submitAsync(ByteString.copyFromUtf8(c.id().value() + " request " + n));
        f.whenComplete(
            (r, e) -> {
              if (e != null) {
                failed.incrementAndGet();
              } else {
                long now = System.nanoTime();
                synchronized (completions) {
                  completions.add(new Completion(now, now - at));
                }
              }
            });
        synchronized (this) {
          futures.add(f);
          submitted++;
          submittedPerClient.merge(c.id().value(), 1L, Long::sum);
        }
        n++;
      }
      LockSupport.parkNanos(2_000_000);
    }
  }

  /** Stops submitting and waits for the submitting thread to end. */
  void stop() {
    stopped = true;
    Thread t;
    synchronized (this) {
      t = thread;
    }
    if (t != null) {
      Floods.join(t);
    }
  }

  synchronized long submitted() {
    return submitted;
  }

  /** Requests submitted per client ID (each client numbers its requests from 0). */
  synchronized Map<String, Long> submittedPerClient() {
    return new TreeMap<>(submittedPerClient);
  }

  /** Requests whose future failed (given up, timed out or rejected). */
  long failed() {
    return failed.get();
  }

  /** Whether every submitted request's future has completed. */
  synchronized boolean allDone() {
    return futures.stream().allMatch(CompletableFuture::isDone);
  }

  /** Futures not completed yet. */
  synchronized long pending() {
    return futures.stream().filter(f -> !f.isDone()).count();
  }

  /** Latencies (ns) of the requests completed between {@code from} and {@code to}, sorted. */
  long[] latencies(long from, long to) {
    synchronized (completions) {
      return completions.stream()
          .filter(c -> c.atNanos() >= from && c.atNanos() <= to)
          .mapToLong(Completion::latencyNanos)
          .sorted()
          .toArray();
    }
  }

  /** The {@code q} quantile of sorted values, or -1 if there are none. */
  static long quantile(long[] sorted, double q) {
    if (sorted.length == 0) {
      return -1;
    }
    return sorted[Math.min(sorted.length - 1, (int) Math.floor(q * sorted.length))];
  }
}
