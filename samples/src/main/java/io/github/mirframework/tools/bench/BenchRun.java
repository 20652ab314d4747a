package io.github.mirframework.tools.bench;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import jdk.jfr.Configuration;
import jdk.jfr.Recording;
import org.HdrHistogram.Histogram;

/**
 * One bench run: warm-up, measured window, drain; a progress line per second; the results.
 * Single-threaded (the caller's thread), besides the load generator's thread.
 */
final class BenchRun {
  /** Phases of a run, as shown in the progress lines and the time series. */
  enum Phase {
    WARMUP,
    MEASURE,
    DRAIN
  }

  /**
   * One second of the run.
   *
   * @param second seconds since the load started (end of the interval)
   * @param phase the phase at the end of the interval
   * @param throughput requests applied per second in the interval
   * @param p50Ms median latency in the interval, or NaN without samples
   * @param p99Ms 99th percentile in the interval
   * @param maxMs longest latency in the interval
   * @param inFlight requests submitted and not yet applied at the end of the interval
   * @param cpuCores CPU cores busy (replicas, and clients if in the same JVM) in the interval
   * @param heapUsedBytes heap in use at the end of the interval (summed over replica processes)
   * @param heapAfterGcBytes heap in use right after the most recent garbage collection, which no
   *     sample forces (see {@link JvmUsage#heapAfterLastGc()}); -1 if unknown (replicas in other
   *     processes)
   */
  record Sample(
      double second,
      Phase phase,
      double throughput,
      double p50Ms,
      double p99Ms,
      double maxMs,
      long inFlight,
      double cpuCores,
      long heapUsedBytes,
      long heapAfterGcBytes) {}

  private static final long SECOND = 1_000_000_000L;
  private static final java.time.Duration CONNECT_TIMEOUT = java.time.Duration.ofMinutes(5);

  private BenchRun() {}

  /** Runs the load against {@code cluster} (already started) and returns the results. */
  static BenchResults run(BenchParams params, Cluster cluster, LoadGenerator load, PrintStream out)
      throws Exception {
    List<Sample> samples = new ArrayList<>();
    double loadBefore = JvmUsage.loadAverage();
    Cluster.Submitter submitter = cluster.submitter();
    long connecting = System.nanoTime();
    long firstReqNo = submitter.awaitReady(CONNECT_TIMEOUT);
    out.printf(
        Locale.ROOT,
        "%d clients connected to %d replicas in %.1f s%n",
        params.clients(),
        params.nodes(),
        (System.nanoTime() - connecting) / 1e9);
    long t0 = System.nanoTime();
    long measureStart = t0 + params.warmup().toNanos();
    long measureEnd = measureStart + params.duration().toNanos();
    long drainEnd = measureEnd + params.drain().toNanos();
    load.start(submitter, firstReqNo);
    Phase phase = params.warmup().isZero() ? Phase.MEASURE : Phase.WARMUP;
    long windowAppliedStart = 0;
    long windowBatchesStart = 0;
    long windowT0 = t0;
    Cluster.Usage windowUsageStart = null;
    Map<Long, Long> threadsAtStart = Map.of();
    Map<String, Long> threadCpu = Map.of();
    Recording jfr = null;
    long heapAfterWarmup = -1;
    if (phase == Phase.MEASURE) {
      heapAfterWarmup = cluster.heapAfterGc();
      load.measuring(true);
      windowUsageStart = cluster.usage();
      threadsAtStart = ThreadCpu.snapshot();
      jfr = startJfr(params);
    }
    Cluster.Usage windowUsage = null;
    long windowApplied = 0;
    long windowBatches = 0;
    long windowNanos = 0;
    double loadDuring = -1;
    long lastTick = t0;
    long lastApplied = 0;
    Cluster.Usage lastUsage = cluster.usage();
    long nextTick = t0 + SECOND;
    while (true) {
      long boundary =
          switch (phase) {
            case WARMUP -> measureStart;
            case MEASURE -> measureEnd;
            case DRAIN -> drainEnd;
          };
      long wake = Math.min(nextTick, boundary);
      long now;
      while ((now = System.nanoTime()) < wake) {
        LockSupport.parkNanos(wake - now);
        if (load.failure() != null) {
          break;
        }
      }
      if (load.failure() != null) {
        throw new IllegalStateException("the load generator failed", load.failure());
      }
      if (now >= boundary) {
        switch (phase) {
          case WARMUP -> {
            // The retained heap after warm-up, before the window so that the forced collection
            // counts in neither the window's CPU nor its GC time.
            heapAfterWarmup = cluster.heapAfterGc();
            out.printf(
                Locale.ROOT,
                "heap after warm-up: %,.1f MB after a full GC%n",
                heapAfterWarmup / 1e6);
            windowUsageStart = cluster.usage();
            threadsAtStart = ThreadCpu.snapshot();
            jfr = startJfr(params);
            windowAppliedStart = load.applied();
            windowBatchesStart = load.batches();
            windowT0 = System.nanoTime();
            // Starting JFR can take a while: the window has its full length from here.
            measureEnd = windowT0 + params.duration().toNanos();
            drainEnd = measureEnd + params.drain().toNanos();
            load.measuring(true);
            phase = Phase.MEASURE;
          }
          case MEASURE -> {
            load.measuring(false);
            windowNanos = System.nanoTime() - windowT0;
            windowApplied = load.applied() - windowAppliedStart;
            windowBatches = load.batches() - windowBatchesStart;
            windowUsage = cluster.usage().minus(windowUsageStart);
            threadCpu = ThreadCpu.since(threadsAtStart);
            stopJfr(jfr, params, out);
            jfr = null;
            loadDuring = JvmUsage.loadAverage();
            load.stop();
            phase = Phase.DRAIN;
          }
          case DRAIN -> {}
        }
        if (phase == Phase.DRAIN && (now >= drainEnd || load.inFlight() == 0)) {
          break;
        }
        if (now < nextTick) {
          continue;
        }
      }
      if (phase == Phase.DRAIN && load.inFlight() == 0) {
        break;
      }
      // A tick: one progress line and one sample.
      long applied = load.applied();
      Cluster.Usage usage = cluster.usage();
      double secs = (now - lastTick) / 1e9;
      Histogram h = load.takeInterval();
      Sample s =
          new Sample(
              (now - t0) / 1e9,
              phase,
              (applied - lastApplied) / secs,
              h.getTotalCount() == 0 ? Double.NaN : h.getValueAtPercentile(50) / 1000.0,
              h.getTotalCount() == 0 ? Double.NaN : h.getValueAtPercentile(99) / 1000.0,
              h.getTotalCount() == 0 ? Double.NaN : h.getMaxValue() / 1000.0,
              load.inFlight(),
              (usage.replicaCpuNanos()
                      - lastUsage.replicaCpuNanos()
                      + usage.clientCpuNanos()
                      - lastUsage.clientCpuNanos())
                  / (double) (now - lastTick),
              usage.heapUsedBytes(),
              // The replicas run in this JVM exactly when its CPU includes the clients.
              cluster.cpuIncludesClients() ? JvmUsage.heapAfterLastGc() : -1);
      samples.add(s);
      out.println(progressLine(s));
      lastTick = now;
      lastApplied = applied;
      lastUsage = usage;
      nextTick += SECOND;
    }
    if (phase != Phase.DRAIN || windowUsage == null) {
      throw new IllegalStateException("the run ended before its measured window did");
    }
    long lost = load.inFlight();
    long heap = cluster.heapAfterGc();
    return new BenchResults(
        params,
        windowApplied,
        windowBatches,
        windowNanos,
        load.windowHistogram(),
        windowUsage,
        cluster.cpuIncludesClients(),
        heapAfterWarmup,
        heap,
        load.submitted(),
        load.applied(),
        lost,
        loadBefore,
        loadDuring,
        samples,
        threadCpu);
  }

  /** Starts a JFR recording of this JVM for the measured window if asked to. */
  private static Recording startJfr(BenchParams params) throws Exception {
    if (!params.jfr()) {
      return null;
    }
    Recording r = new Recording(Configuration.getConfiguration("profile"));
    r.setName("bench-window");
    r.start();
    return r;
  }

  private static void stopJfr(Recording r, BenchParams params, PrintStream out)
      throws java.io.IOException {
    if (r == null) {
      return;
    }
    try (r) {
      r.stop();
      java.nio.file.Files.createDirectories(params.out());
      Path file = params.out().resolve("window.jfr");
      r.dump(file);
      out.println("JFR recording of the measured window: " + file);
    }
  }

  static String progressLine(Sample s) {
    return String.format(
        Locale.ROOT,
        "[%6.1fs %-7s] %9.0f req/s  p50 %7.2f ms  p99 %7.2f ms  max %8.2f ms  in flight %6d  cpu %4.2f cores  heap %s",
        s.second(),
        s.phase().name().toLowerCase(Locale.ROOT),
        s.throughput(),
        s.p50Ms(),
        s.p99Ms(),
        s.maxMs(),
        s.inFlight(),
        s.cpuCores(),
        s.heapAfterGcBytes() >= 0
            ? String.format(Locale.ROOT, "%,.0f MB after GC", s.heapAfterGcBytes() / 1e6)
            : String.format(Locale.ROOT, "%,.0f MB used", s.heapUsedBytes() / 1e6));
  }
}
