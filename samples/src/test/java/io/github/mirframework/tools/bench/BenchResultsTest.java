package io.github.mirframework.tools.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class BenchResultsTest {

  private static BenchParams params(Path out) {
    BenchCommand cmd = new BenchCommand();
    new CommandLine(cmd).parseArgs("--out", out.toString());
    return cmd.params();
  }

  private static BenchRun.Sample sample(
      double second, BenchRun.Phase phase, long heapUsed, long heapAfterGc) {
    return new BenchRun.Sample(second, phase, 1000, 1.0, 2.0, 3.0, 8, 1.5, heapUsed, heapAfterGc);
  }

  private static BenchResults results(
      Path out, long heapAfterWarmup, long heapAtEnd, List<BenchRun.Sample> samples) {
    Histogram h = new Histogram(3);
    h.recordValue(1500);
    return new BenchResults(
        params(out),
        3000,
        150,
        3_000_000_000L,
        h,
        new Cluster.Usage(6_000_000_000L, 0, 40, 0),
        true,
        heapAfterWarmup,
        heapAtEnd,
        4000,
        4000,
        0,
        0.5,
        0.7,
        samples,
        Map.of("mir-#-mempool", 1_000_000_000L));
  }

  @Test
  void heapGrowthIsTheChangeOfTheRetainedHeapInPercentOfItsSizeAfterWarmup(@TempDir Path dir) {
    assertThat(results(dir, 200_000_000, 210_000_000, List.of()).heapGrowthPercent())
        .isEqualTo(5.0);
    assertThat(results(dir, 200_000_000, 180_000_000, List.of()).heapGrowthPercent())
        .isEqualTo(-10.0);
    assertThat(results(dir, -1, 180_000_000, List.of()).heapGrowthPercent()).isNaN();
  }

  @Test
  void resultFilesCarryTheHeapFiguresAndTheHeapPlot(@TempDir Path dir) throws Exception {
    List<BenchRun.Sample> samples =
        List.of(
            sample(1, BenchRun.Phase.WARMUP, 300_000_000, 150_000_000),
            sample(2, BenchRun.Phase.MEASURE, 350_000_000, 160_000_000),
            sample(3, BenchRun.Phase.MEASURE, 250_000_000, 155_000_000),
            // Replicas in other processes: no after-GC figure.
            sample(4, BenchRun.Phase.DRAIN, 240_000_000, -1));
    BenchResults r = results(dir, 100_000_000, 125_000_000, samples);
    List<Path> files = r.write(dir);

    assertThat(files).contains(dir.resolve("heap.png"));
    byte[] head = java.util.Arrays.copyOf(Files.readAllBytes(dir.resolve("heap.png")), 4);
    assertThat(head).containsExactly(0x89, 'P', 'N', 'G');

    String json = Files.readString(dir.resolve("results.json"));
    assertThat(json)
        .contains("\"heap_after_warmup_bytes\": 100000000")
        .contains("\"heap_after_gc_bytes\": 125000000")
        .contains("\"heap_growth_percent\": 25.0000")
        .contains("\"heap_used_mb\": 350.0000, \"heap_after_gc_mb\": 160.0000")
        .contains("\"heap_used_mb\": 240.0000, \"heap_after_gc_mb\": null");

    List<String> ts = Files.readAllLines(dir.resolve("timeseries.csv"));
    assertThat(ts.get(0)).endsWith(",heap_used_mb,heap_after_gc_mb");
    assertThat(ts.get(2)).endsWith(",350.0,160.0");
    assertThat(ts.get(4)).endsWith(",240.0,");

    List<String> csv = Files.readAllLines(dir.resolve("results.csv"));
    // Split at commas outside quotes (parameter values may contain commas).
    String field = ",(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)";
    List<String> header = List.of(csv.get(0).split(field, -1));
    List<String> row = List.of(csv.get(1).split(field, -1));
    assertThat(row).hasSameSizeAs(header);
    assertThat(row.get(header.indexOf("heap_growth_percent"))).isEqualTo("25.0000");
    assertThat(row.get(header.indexOf("heap_after_warmup_bytes"))).isEqualTo("100000000");
  }

  @Test
  void theProgressLineShowsTheHeapAfterTheLastCollectionOrElseTheHeapInUse() {
    assertThat(BenchRun.progressLine(sample(1, BenchRun.Phase.MEASURE, 300_000_000, 150_000_000)))
        .endsWith("heap 150 MB after GC");
    assertThat(BenchRun.progressLine(sample(1, BenchRun.Phase.MEASURE, 300_000_000, -1)))
        .endsWith("heap 300 MB used");
  }

  @Test
  void theHeapAfterTheLastCollectionIsKnownOnceTheHeapWasCollected() {
    System.gc();
    assertThat(JvmUsage.heapAfterLastGc())
        .isPositive()
        .isLessThanOrEqualTo(Runtime.getRuntime().totalMemory());
  }
}
