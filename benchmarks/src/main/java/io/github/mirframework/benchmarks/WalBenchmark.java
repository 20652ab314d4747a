package io.github.mirframework.benchmarks;

import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.PayloadRegistry;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.RetentionIndex;
import io.github.mirframework.wal.file.FileWal;
import io.github.mirframework.wal.file.FileWal.Durability;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Throughput of the durable {@link FileWal} (issue 4, item 9), in a temporary directory under
 * {@code /tmp} that is deleted afterwards.
 *
 * <p><b>Appends.</b> Each invocation appends {@value #APPENDS} {@code WalAppend} events, each
 * carrying a {@code TestingString} event with a {@value #PAYLOAD_BYTES}-byte value, through {@link
 * FileWal#applyEvents} in batches of {@code batch} events; reported per appended record. With
 * {@code GROUP_COMMIT} there is one {@code force} per batch, with {@code FSYNC_EACH_APPEND} one per
 * record. The {@code WalAppend} events are built once in setup: building them is the requesting
 * module's cost. Every iteration starts with a fresh, empty log, so disk use stays bounded; the
 * cost of starting new segments (64 MiB) is included.
 *
 * <p><b>Replay.</b> A log of {@value #RECORDS} such records is written once per trial and reopened;
 * {@code replay} measures {@link FileWal#loadAll()} from a warm page cache (read, CRC32C check,
 * protobuf parse and event decode of every record, and the returned list of events), {@code open}
 * measures {@link FileWal#open}, which reads, checks and decodes every record too but keeps no
 * events. All are reported per record. The events of one replay take about 280 MB of heap.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms4g", "-Xmx4g"})
public class WalBenchmark {
  static final int APPENDS = 512;
  static final int PAYLOAD_BYTES = 100;
  static final int RECORDS = 1_000_000;
  static final ModuleId WAL = ModuleId.of("wal");
  static final ModuleId APP = ModuleId.of("app");

  /** A {@code WalAppend} of a {@code TestingString} event with a value of the given length. */
  static Event walAppend(long index) {
    StringBuilder value = new StringBuilder(PAYLOAD_BYTES);
    String prefix = Long.toString(index);
    value.append(prefix);
    while (value.length() < PAYLOAD_BYTES) {
      value.append((char) ('a' + value.length() % 26));
    }
    return Events.walAppend(
        WAL, Events.testingString(APP, value.toString()), RetentionIndex.of(index / 1000));
  }

  static Path newTempDir(String root, String prefix) throws IOException {
    return Files.createTempDirectory(Path.of(root), prefix);
  }

  static void deleteRecursively(Path dir) throws IOException {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths
          .sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.delete(p);
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
    }
  }

  static long bytesOnDisk(Path dir) throws IOException {
    try (Stream<Path> paths = Files.list(dir)) {
      long total = 0;
      for (Path p : (Iterable<Path>) paths::iterator) {
        if (p.getFileName().toString().endsWith(".seg")) {
          total += Files.size(p);
        }
      }
      return total;
    }
  }

  /** A fresh log per iteration and the batches to append to it. */
  @State(Scope.Thread)
  public static class AppendState {
    @Param({"GROUP_COMMIT", "FSYNC_EACH_APPEND"})
    Durability durability;

    /** Appends per {@code applyEvents} call. */
    @Param({"1", "64", "512"})
    int batch;

    /**
     * Where the temporary log goes. {@code /tmp} is on the machine's disk; {@code -p root=/dev/shm}
     * (tmpfs, where {@code force} returns at once) shows the CPU cost alone.
     */
    @Param({"/tmp"})
    String root;

    EventList[] batches;
    Path dir;
    FileWal wal;

    @Setup(Level.Trial)
    public void buildEvents() {
      if (APPENDS % batch != 0) {
        throw new IllegalArgumentException("batch must divide " + APPENDS);
      }
      batches = new EventList[APPENDS / batch];
      for (int b = 0; b < batches.length; b++) {
        batches[b] = EventList.withCapacity(batch);
        for (int i = 0; i < batch; i++) {
          batches[b].add(walAppend((long) b * batch + i));
        }
      }
    }

    @Setup(Level.Iteration)
    public void open() throws IOException {
      dir = newTempDir(root, "mir-wal-append-");
      wal =
          FileWal.open(
              dir,
              PayloadRegistry.withCoreTypes(),
              FileWal.Options.defaults().withDurability(durability));
    }

    @TearDown(Level.Iteration)
    public void close() throws IOException {
      try {
        wal.close();
      } finally {
        deleteRecursively(dir);
      }
    }
  }

  /** Appends {@value #APPENDS} records; reported per record. */
  @Benchmark
  @OperationsPerInvocation(APPENDS)
  public int append(AppendState s) throws IOException {
    int n = 0;
    for (EventList b : s.batches) {
      n += s.wal.applyEvents(b).size();
    }
    return n;
  }

  /** A log of {@value #RECORDS} records, written once per trial. */
  @State(Scope.Benchmark)
  public static class ReplayState {
    Path dir;
    FileWal wal;
    final PayloadRegistry registry = PayloadRegistry.withCoreTypes();

    @Setup(Level.Trial)
    public void create() throws IOException {
      dir = newTempDir("/tmp", "mir-wal-replay-");
      final int chunk = 1000;
      long start = System.nanoTime();
      try (FileWal w = FileWal.open(dir, registry)) {
        for (int c = 0; c < RECORDS / chunk; c++) {
          EventList b = EventList.withCapacity(chunk);
          for (int i = 0; i < chunk; i++) {
            b.add(walAppend((long) c * chunk + i));
          }
          w.applyEvents(b);
        }
      }
      long written = System.nanoTime() - start;
      wal = FileWal.open(dir, registry);
      int loaded = wal.loadAll().size(); // also warms the page cache
      if (loaded != RECORDS) {
        throw new IllegalStateException("replayed " + loaded + " of " + RECORDS + " records");
      }
      long bytes = bytesOnDisk(dir);
      System.out.printf(
          "%nWAL of %d records: %d bytes in %d segments (%.1f bytes per record), written in %.1f"
              + " s%n",
          RECORDS,
          bytes,
          wal.recoveryReport().segmentCount(),
          (double) bytes / RECORDS,
          written / 1e9);
    }

    @TearDown(Level.Trial)
    public void delete() throws IOException {
      try {
        wal.close();
      } finally {
        deleteRecursively(dir);
      }
    }
  }

  /**
   * Collects the garbage of the previous invocation before each one (not measured), so that every
   * replay starts, like a node's single replay at start-up, with a heap that does not hold the
   * previous replay's {@value #RECORDS} events.
   */
  @State(Scope.Thread)
  public static class CleanHeap {
    @Setup(Level.Invocation)
    public void collect() {
      System.gc();
    }
  }

  /**
   * {@link FileWal#loadAll()} of {@value #RECORDS} records into a clean heap; reported per record.
   */
  @Benchmark
  @OperationsPerInvocation(RECORDS)
  public EventList replay(ReplayState s, CleanHeap clean) throws IOException {
    return s.wal.loadAll();
  }

  /**
   * {@link FileWal#loadAll()} back to back, each replay's {@value #RECORDS} events becoming garbage
   * while the next one is built: the garbage collector's worst case, not a node's start-up.
   */
  @Benchmark
  @OperationsPerInvocation(RECORDS)
  public EventList replayBackToBack(ReplayState s) throws IOException {
    return s.wal.loadAll();
  }

  /** Closes and reopens the log (which checks every record); reported per record. */
  @Benchmark
  @OperationsPerInvocation(RECORDS)
  public long open(ReplayState s) throws IOException {
    s.wal.close();
    s.wal = FileWal.open(s.dir, s.registry);
    return s.wal.recoveryReport().entryCount();
  }
}
