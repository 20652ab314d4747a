package io.github.mirframework.wal.file;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.mirframework.event.EventList;
import io.github.mirframework.event.PayloadRegistry;
import io.github.mirframework.node.Node;
import io.github.mirframework.types.NodeId;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Crash recovery of a whole node with {@code kill -9}: a child JVM runs a {@link Node} whose
 * stateful module persists its state changes through a {@link FileWal}; the test kills it at an
 * arbitrary moment, restarts a node over the same directory and checks that it ends with exactly
 * the state it had persisted, which includes every change the child had reported as applied.
 */
class NodeKillRecoveryTest {
  private static final int APPLIED_BEFORE_KILL = 200;

  @TempDir Path dir;

  @ParameterizedTest
  @EnumSource(FileWal.Durability.class)
  void nodeRecoversExactlyItsPersistedStateAfterKillNine(FileWal.Durability durability)
      throws Exception {
    Path walDir = dir.resolve("wal");
    Path childErr = dir.resolve("child.err");
    String java = ProcessHandle.current().info().command().orElseThrow();
    Process child =
        new ProcessBuilder(
                java,
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                "-Xmx128m",
                "-cp",
                System.getProperty("java.class.path"),
                NodeKillChild.class.getName(),
                walDir.toString(),
                durability.name())
            .redirectError(childErr.toFile())
            .start();
    child.getOutputStream().close();
    long lastReported = 0;
    int reports = 0;
    try (BufferedReader in =
        new BufferedReader(
            new InputStreamReader(child.getInputStream(), StandardCharsets.US_ASCII))) {
      while (reports < APPLIED_BEFORE_KILL) {
        String line = in.readLine();
        if (line == null) {
          throw new AssertionError(
              "the child ended after "
                  + reports
                  + " reports; stderr:\n"
                  + Files.readString(childErr));
        }
        lastReported = Long.parseLong(line.trim());
        reports++;
      }
      child.destroyForcibly();
      assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
      // Lines still in the pipe are lost with the process; the last one read is a lower bound of
      // what was applied.
    } finally {
      child.destroyForcibly();
    }

    PersistingCounter counter = new PersistingCounter();
    long persisted;
    long entries;
    try (FileWal wal = FileWal.open(walDir, PayloadRegistry.withCoreTypes())) {
      EventList stored = wal.loadAll();
      persisted = PersistingCounter.persistedSum(stored);
      entries = stored.size();
      try (Node node =
          Node.builder(NodeId.of("0"))
              .module(PersistingCounter.WAL, wal)
              .module(PersistingCounter.COUNTER, counter)
              .wal(wal)
              .build()) {
        node.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (counter.applied() < entries && System.nanoTime() < deadline) {
          LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
        assertThat(node.failure()).isEmpty();
      }
    }
    String context = durability + ": last reported " + lastReported + ", persisted " + persisted;
    assertThat(counter.applied()).as(context).isEqualTo(entries);
    assertThat(counter.sum()).as(context).isEqualTo(persisted);
    assertThat(persisted).as(context).isGreaterThanOrEqualTo(lastReported);
    // Values 1..k were added in order, each persisted at most once: the WAL holds exactly 1..k.
    assertThat(persisted).as(context).isEqualTo(entries * (entries + 1) / 2);
  }
}
