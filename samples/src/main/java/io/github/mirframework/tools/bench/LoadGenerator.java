package io.github.mirframework.tools.bench;

import com.google.protobuf.ByteString;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Recorder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Generates the load and measures latency: a closed loop (each client keeps {@code outstanding}
 * requests in flight and submits the next when one is applied) or an open loop (a fixed total rate,
 * the clients in turn). Latency is the time from submission to the notice that the observed replica
 * applied the request.
 *
 * <p>Threads: one submitter thread ({@code bench-load}), started by {@link #start()} and ended by
 * {@link #stop()}. {@link #applied} may be called from any thread.
 */
final class LoadGenerator implements Cluster.AppliedListener {
  private static final Logger LOG = LoggerFactory.getLogger(LoadGenerator.class);
  private static final long HIGHEST_MICROS = TimeUnit.HOURS.toMicros(1);

  /** One client's requests in flight. Guarded by itself. */
  private static final class ClientState {
    final Map<Long, Long> submittedAt = new HashMap<>();
    long nextReqNo;
  }

  private final BenchParams params;
  private final ByteString payload;
  private final ClientState[] clients;
  private final LinkedBlockingQueue<Integer> ready = new LinkedBlockingQueue<>();
  private final Recorder perSecond = new Recorder(HIGHEST_MICROS, 3);
  private final Recorder window = new Recorder(HIGHEST_MICROS, 3);
  private final AtomicLong submitted = new AtomicLong();
  private final AtomicLong applied = new AtomicLong();
  // Batches the observed replica applied with at least one of our requests; flush() is called by
  // one thread at a time (the replica's application, or the report connection's reader).
  private final AtomicLong batches = new AtomicLong();
  private long appliedAtLastFlush;
  private final AtomicLong inFlight = new AtomicLong();
  private volatile boolean measuring;
  private volatile boolean running;
  private volatile Throwable failure;
  private Cluster.Submitter submitter;
  private Thread thread;

  LoadGenerator(BenchParams params) {
    this.params = params;
    this.payload = ByteString.copyFrom(new byte[params.requestSize()]);
    this.clients = new ClientState[params.clients()];
    for (int i = 0; i < clients.length; i++) {
      clients[i] = new ClientState();
    }
  }

  /** Starts submitting through {@code s}. */
  synchronized void start(Cluster.Submitter s, long firstReqNo) {
    if (thread != null) {
      throw new IllegalStateException("already started");
    }
    submitter = s;
    for (ClientState c : clients) {
      c.nextReqNo = firstReqNo;
    }
    running = true;
    if (!params.openLoop()) {
      for (int k = 0; k < params.outstanding(); k++) {
        for (int c = 0; c < clients.length; c++) {
          ready.add(c);
        }
      }
    }
    thread = new Thread(params.openLoop() ? this::openLoop : this::closedLoop, "bench-load");
    thread.setDaemon(true);
    thread.start();
  }

  private void closedLoop() {
    try {
      while (running) {
        Integer c = ready.poll(100, TimeUnit.MILLISECONDS);
        if (c != null && running) {
          submitOne(c);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      fail(e);
    }
  }

  private void openLoop() {
    long period = Math.max(1, 1_000_000_000L / params.rate());
    long next = System.nanoTime();
    int c = 0;
    try {
      while (running) {
        long wait = next - System.nanoTime();
        if (wait > 0) {
          LockSupport.parkNanos(wait);
          continue;
        }
        submitOne(c);
        c = (c + 1) % clients.length;
        next += period;
      }
    } catch (RuntimeException e) {
      fail(e);
    }
  }

  private void fail(RuntimeException e) {
    if (running) {
      failure = e;
      LOG.error("load generator failed", e);
      running = false;
    }
  }

  private void submitOne(int c) {
    ClientState s = clients[c];
    synchronized (s) {
      long reqNo = s.nextReqNo++;
      s.submittedAt.put(reqNo, System.nanoTime());
      inFlight.incrementAndGet();
      submitted.incrementAndGet();
      submitter.submit(c, reqNo, payload);
    }
  }

  @Override
  public void applied(int client, long reqNo) {
    if (client >= clients.length) {
      return;
    }
    ClientState s = clients[client];
    Long at;
    synchronized (s) {
      at = s.submittedAt.remove(reqNo);
    }
    if (at == null) {
      return; // not ours (another run) or already counted
    }
    long micros = Math.max(0, (System.nanoTime() - at) / 1000);
    inFlight.decrementAndGet();
    applied.incrementAndGet();
    perSecond.recordValue(Math.min(micros, HIGHEST_MICROS));
    if (measuring) {
      window.recordValue(Math.min(micros, HIGHEST_MICROS));
    }
    if (running && !params.openLoop()) {
      ready.add(client);
    }
  }

  /** The end of one batch applied by the observed replica. */
  @Override
  public void flush() {
    long a = applied.get();
    if (a != appliedAtLastFlush) {
      appliedAtLastFlush = a;
      batches.incrementAndGet();
    }
  }

  /** Starts or ends the measured window. */
  void measuring(boolean on) {
    if (on) {
      window.reset();
    }
    measuring = on;
  }

  /** Stops submitting (requests in flight may still be applied) and joins the thread. */
  void stop() throws InterruptedException {
    running = false;
    Thread t;
    synchronized (this) {
      t = thread;
    }
    if (t != null) {
      t.join();
    }
  }

  /** Latencies recorded since the last call (microseconds). */
  org.HdrHistogram.Histogram takeInterval() {
    return perSecond.getIntervalHistogram();
  }

  /** Latencies of the measured window (microseconds). */
  org.HdrHistogram.Histogram windowHistogram() {
    return window.getIntervalHistogram();
  }

  long submitted() {
    return submitted.get();
  }

  long applied() {
    return applied.get();
  }

  /** Batches applied so far that carried at least one request of this load. */
  long batches() {
    return batches.get();
  }

  long inFlight() {
    return inFlight.get();
  }

  /** Why the load stopped early, if it did. */
  Throwable failure() {
    return failure;
  }
}
