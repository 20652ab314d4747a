package io.github.mirframework.benchmarks;

import java.lang.management.ManagementFactory;
import java.util.Collection;
import java.util.List;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.profile.InternalProfiler;
import org.openjdk.jmh.results.AggregationPolicy;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.ScalarResult;

/**
 * Throughput per CPU-second of the benchmark JVM: {@code -prof
 * io.github.mirframework.benchmarks.CpuTimeProfiler}.
 *
 * <p>Wall-clock throughput on a shared two-core machine moves with whatever else runs there. This
 * profiler divides every operation of an iteration (JMH's "all ops", warm-up and wind-down of the
 * iteration included) by the CPU time the whole benchmark JVM used meanwhile (worker threads, GC,
 * JIT, helper pools), giving {@code cpu.ops} (operations per CPU-second, i.e. per core fully used)
 * and {@code cpu.cores} (CPU-seconds per wall-clock second). Time another process takes from us is
 * not counted, so the figure is a fair "per core" rate; caches and memory bandwidth that the other
 * processes share are still shared.
 */
public final class CpuTimeProfiler implements InternalProfiler {
  private final com.sun.management.OperatingSystemMXBean os =
      (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
  private long cpuStart;
  private long wallStart;

  @Override
  public String getDescription() {
    return "operations per CPU-second of the benchmark JVM";
  }

  @Override
  public void beforeIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams) {
    wallStart = System.nanoTime();
    cpuStart = os.getProcessCpuTime();
  }

  @Override
  public Collection<? extends Result<?>> afterIteration(
      BenchmarkParams benchmarkParams, IterationParams iterationParams, IterationResult result) {
    long cpu = os.getProcessCpuTime() - cpuStart;
    long wall = System.nanoTime() - wallStart;
    if (cpu <= 0 || wall <= 0) {
      return List.of();
    }
    double ops = result.getMetadata().getAllOps();
    return List.of(
        new ScalarResult("cpu.ops", ops / (cpu / 1e9), "ops/cpu-s", AggregationPolicy.AVG),
        new ScalarResult("cpu.cores", (double) cpu / wall, "cores", AggregationPolicy.AVG));
  }
}
