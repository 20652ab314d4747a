package io.github.mirframework.tools.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * The results of a run: the summary figures of the measured window, and the time series. Writes
 * {@code results.json}, {@code results.csv} (one row), {@code timeseries.csv} and the plots.
 * Immutable after construction.
 */
final class BenchResults {
  final BenchParams params;
  final long windowApplied;

  /** Batches the observed replica applied in the window that carried requests of the load. */
  final long windowBatches;

  final long windowNanos;
  final Histogram latencyMicros;
  final Cluster.Usage windowUsage;
  final boolean cpuIncludesClients;

  /** Heap in use after a full collection at the end of the warm-up (summed over replicas). */
  final long heapAfterWarmupBytes;

  /** Heap in use after a full collection at the end of the run (summed over replicas). */
  final long heapAfterGcBytes;

  final long submitted;
  final long applied;
  final long lost;
  final double loadAverageBefore;
  final double loadAverageAtEnd;
  final List<BenchRun.Sample> samples;
  final Instant finishedAt = Instant.now();

  /** CPU time of this JVM's threads in the window by thread group, largest first. */
  final Map<String, Long> threadCpuNanos;

  BenchResults(
      BenchParams params,
      long windowApplied,
      long windowBatches,
      long windowNanos,
      Histogram latencyMicros,
      Cluster.Usage windowUsage,
      boolean cpuIncludesClients,
      long heapAfterWarmupBytes,
      long heapAfterGcBytes,
      long submitted,
      long applied,
      long lost,
      double loadAverageBefore,
      double loadAverageAtEnd,
      List<BenchRun.Sample> samples,
      Map<String, Long> threadCpuNanos) {
    this.params = params;
    this.windowApplied = windowApplied;
    this.windowBatches = windowBatches;
    this.windowNanos = windowNanos;
    this.latencyMicros = latencyMicros;
    this.windowUsage = windowUsage;
    this.cpuIncludesClients = cpuIncludesClients;
    this.heapAfterWarmupBytes = heapAfterWarmupBytes;
    this.heapAfterGcBytes = heapAfterGcBytes;
    this.submitted = submitted;
    this.applied = applied;
    this.lost = lost;
    this.loadAverageBefore = loadAverageBefore;
    this.loadAverageAtEnd = loadAverageAtEnd;
    this.samples = List.copyOf(samples);
    this.threadCpuNanos = new LinkedHashMap<>(threadCpuNanos);
  }

  double throughput() {
    return windowApplied / (windowNanos / 1e9);
  }

  double percentileMs(double p) {
    return latencyMicros.getTotalCount() == 0
        ? Double.NaN
        : latencyMicros.getValueAtPercentile(p) / 1000.0;
  }

  double maxMs() {
    return latencyMicros.getTotalCount() == 0 ? Double.NaN : latencyMicros.getMaxValue() / 1000.0;
  }

  /** Mean requests per applied batch in the window (NaN without batches). */
  double requestsPerBatch() {
    return windowBatches == 0 ? Double.NaN : windowApplied / (double) windowBatches;
  }

  /** Replica CPU per applied request in the window (ms); in one JVM, including the clients. */
  double cpuMsPerRequest() {
    return windowApplied == 0 ? Double.NaN : windowUsage.replicaCpuNanos() / 1e6 / windowApplied;
  }

  /** Client-process CPU per applied request (ms), 0 when the clients share the replicas' JVM. */
  double clientCpuMsPerRequest() {
    return windowApplied == 0 ? Double.NaN : windowUsage.clientCpuNanos() / 1e6 / windowApplied;
  }

  /**
   * How much the retained heap grew from the end of the warm-up to the end of the run, in percent
   * of the former (both after a full collection); NaN if unknown.
   */
  double heapGrowthPercent() {
    return heapAfterWarmupBytes <= 0
        ? Double.NaN
        : (heapAfterGcBytes - heapAfterWarmupBytes) * 100.0 / heapAfterWarmupBytes;
  }

  /** The summary figures by name, in a stable order. */
  Map<String, Object> summary() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("throughput_req_per_s", throughput());
    m.put("latency_p50_ms", percentileMs(50));
    m.put("latency_p90_ms", percentileMs(90));
    m.put("latency_p99_ms", percentileMs(99));
    m.put("latency_max_ms", maxMs());
    m.put(
        "latency_mean_ms",
        latencyMicros.getTotalCount() == 0 ? Double.NaN : latencyMicros.getMean() / 1000.0);
    m.put("latency_samples", latencyMicros.getTotalCount());
    m.put("measured_s", windowNanos / 1e9);
    m.put("applied_in_window", windowApplied);
    m.put("batches_in_window", windowBatches);
    m.put("requests_per_batch", requestsPerBatch());
    m.put("cpu_ms_per_req", cpuMsPerRequest());
    m.put("cpu_includes_clients", cpuIncludesClients);
    m.put("client_cpu_ms_per_req", clientCpuMsPerRequest());
    m.put("gc_ms_in_window", windowUsage.gcMillis());
    m.put(
        "gc_share_of_cpu",
        windowUsage.replicaCpuNanos() == 0
            ? Double.NaN
            : windowUsage.gcMillis() * 1e6 / windowUsage.replicaCpuNanos());
    m.put("heap_after_warmup_bytes", heapAfterWarmupBytes);
    m.put("heap_after_gc_bytes", heapAfterGcBytes);
    m.put("heap_growth_percent", heapGrowthPercent());
    m.put("submitted", submitted);
    m.put("applied", applied);
    m.put("lost", lost);
    m.put("load_average_before", loadAverageBefore);
    m.put("load_average_at_end", loadAverageAtEnd);
    m.put("cores", Runtime.getRuntime().availableProcessors());
    m.put("java", System.getProperty("java.version"));
    m.put("finished_at", finishedAt.toString());
    return m;
  }

  /** Prints the summary for a human. */
  void print(PrintStream out) {
    out.println();
    out.printf(
        Locale.ROOT,
        "throughput      %,.0f req/s (%,d applied in %.1f s)%n",
        throughput(),
        windowApplied,
        windowNanos / 1e9);
    out.printf(
        Locale.ROOT,
        "batches         %,.0f per second, %.1f requests per batch (applied by the observed replica)%n",
        windowBatches / (windowNanos / 1e9),
        requestsPerBatch());
    out.printf(
        Locale.ROOT,
        "latency         p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms (%,d samples)%n",
        percentileMs(50),
        percentileMs(90),
        percentileMs(99),
        maxMs(),
        latencyMicros.getTotalCount());
    out.printf(
        Locale.ROOT,
        "cpu             %.4f ms per request (%s)%s%n",
        cpuMsPerRequest(),
        cpuIncludesClients ? "whole JVM: replicas and clients" : "replica processes",
        cpuIncludesClients
            ? ""
            : String.format(Locale.ROOT, ", clients %.4f ms per request", clientCpuMsPerRequest()));
    out.printf(Locale.ROOT, "gc              %,d ms in the window%n", windowUsage.gcMillis());
    out.printf(
        Locale.ROOT,
        "heap            %,.1f MB after GC at the end, %,.1f MB after warm-up (%+.1f %%)%n",
        heapAfterGcBytes / 1e6,
        heapAfterWarmupBytes / 1e6,
        heapGrowthPercent());
    out.printf(
        Locale.ROOT,
        "requests        %,d submitted, %,d applied, %,d lost%n",
        submitted,
        applied,
        lost);
    out.printf(
        Locale.ROOT,
        "load average    %.2f before, %.2f at the end of the window (%d cores)%n",
        loadAverageBefore,
        loadAverageAtEnd,
        Runtime.getRuntime().availableProcessors());
  }

  /** Writes every result file into {@code dir} (created) and returns their paths. */
  List<Path> write(Path dir) throws IOException {
    Files.createDirectories(dir);
    List<Path> files = new ArrayList<>();
    Path json = dir.resolve("results.json");
    Files.writeString(json, json(), StandardCharsets.UTF_8);
    files.add(json);
    Path csv = dir.resolve("results.csv");
    Files.writeString(csv, summaryCsv(), StandardCharsets.UTF_8);
    files.add(csv);
    Path ts = dir.resolve("timeseries.csv");
    Files.writeString(ts, timeSeriesCsv(), StandardCharsets.UTF_8);
    files.add(ts);
    files.addAll(Plots.write(this, dir));
    return files;
  }

  String title() {
    return String.format(
        Locale.ROOT,
        "%d replicas %s, %d clients %s",
        params.nodes(),
        params.describe().get("layout"),
        params.clients(),
        params.openLoop() ? "at " + params.rate() + " req/s" : "x " + params.outstanding());
  }

  String json() {
    StringBuilder b = new StringBuilder("{\n  \"parameters\": {\n");
    appendObject(b, new LinkedHashMap<>(params.describe()), "    ");
    b.append("  },\n  \"results\": {\n");
    appendObject(b, summary(), "    ");
    b.append("  },\n  \"thread_cpu_ms\": {\n");
    Map<String, Object> threads = new LinkedHashMap<>();
    threadCpuNanos.forEach((k, v) -> threads.put(k, v / 1e6));
    appendObject(b, threads, "    ");
    b.append("  },\n  \"timeseries\": [\n");
    for (int i = 0; i < samples.size(); i++) {
      BenchRun.Sample s = samples.get(i);
      b.append(
          String.format(
              Locale.ROOT,
              "    {\"second\": %s, \"phase\": \"%s\", \"throughput\": %s, \"p50_ms\": %s, \"p99_ms\": %s, \"max_ms\": %s, \"in_flight\": %d, \"cpu_cores\": %s, \"heap_used_mb\": %s, \"heap_after_gc_mb\": %s}%s%n",
              num(s.second()),
              s.phase().name().toLowerCase(Locale.ROOT),
              num(s.throughput()),
              num(s.p50Ms()),
              num(s.p99Ms()),
              num(s.maxMs()),
              s.inFlight(),
              num(s.cpuCores()),
              num(s.heapUsedBytes() / 1e6),
              num(s.heapAfterGcBytes() < 0 ? Double.NaN : s.heapAfterGcBytes() / 1e6),
              i + 1 < samples.size() ? "," : ""));
    }
    return b.append("  ]\n}\n").toString();
  }

  private static void appendObject(StringBuilder b, Map<String, ?> m, String indent) {
    int i = 0;
    for (Map.Entry<String, ?> e : m.entrySet()) {
      b.append(indent).append(quote(e.getKey())).append(": ").append(value(e.getValue()));
      b.append(++i < m.size() ? ",\n" : "\n");
    }
  }

  private static String value(Object v) {
    return switch (v) {
      case Double d -> num(d);
      case Number n -> n.toString();
      case Boolean bool -> bool.toString();
      default -> quote(String.valueOf(v));
    };
  }

  /** A JSON number; NaN and infinities (not JSON) become null. */
  static String num(double d) {
    if (Double.isNaN(d) || Double.isInfinite(d)) {
      return "null";
    }
    return String.format(Locale.ROOT, "%.4f", d);
  }

  static String quote(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        default -> {
          if (c < 0x20) {
            b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('"').toString();
  }

  private static String csvField(String s) {
    return s.contains(",") || s.contains("\"") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
  }

  String summaryCsv() {
    Map<String, Object> all = new LinkedHashMap<>();
    params.describe().forEach(all::put);
    all.putAll(summary());
    StringBuilder header = new StringBuilder();
    StringBuilder row = new StringBuilder();
    for (Map.Entry<String, Object> e : all.entrySet()) {
      if (!header.isEmpty()) {
        header.append(',');
        row.append(',');
      }
      header.append(csvField(e.getKey()));
      Object v = e.getValue();
      row.append(
          csvField(
              v instanceof Double d
                  ? (Double.isNaN(d) ? "" : String.format(Locale.ROOT, "%.4f", d))
                  : String.valueOf(v)));
    }
    return header + "\n" + row + "\n";
  }

  String timeSeriesCsv() {
    StringBuilder b =
        new StringBuilder(
            "second,phase,throughput,p50_ms,p99_ms,max_ms,in_flight,cpu_cores,heap_used_mb,heap_after_gc_mb\n");
    for (BenchRun.Sample s : samples) {
      b.append(
          String.format(
              Locale.ROOT,
              "%.3f,%s,%.1f,%s,%s,%s,%d,%.3f,%.1f,%s%n",
              s.second(),
              s.phase().name().toLowerCase(Locale.ROOT),
              s.throughput(),
              Double.isNaN(s.p50Ms()) ? "" : String.format(Locale.ROOT, "%.3f", s.p50Ms()),
              Double.isNaN(s.p99Ms()) ? "" : String.format(Locale.ROOT, "%.3f", s.p99Ms()),
              Double.isNaN(s.maxMs()) ? "" : String.format(Locale.ROOT, "%.3f", s.maxMs()),
              s.inFlight(),
              s.cpuCores(),
              s.heapUsedBytes() / 1e6,
              s.heapAfterGcBytes() < 0
                  ? ""
                  : String.format(Locale.ROOT, "%.1f", s.heapAfterGcBytes() / 1e6)));
    }
    return b.toString();
  }
}
