package io.github.mirframework.wal.file;

import static io.github.mirframework.wal.file.WalContractTest.append;
import static io.github.mirframework.wal.file.WalContractTest.strings;
import static io.github.mirframework.wal.file.WalContractTest.truncate;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.github.mirframework.event.EventList;
import io.github.mirframework.event.PayloadRegistry;
import io.github.mirframework.types.RetentionIndex;
import io.github.mirframework.wal.file.FileWal.Options;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A process that has run out of file descriptors (e.g. because a flood of connections holds them
 * all) must still be able to use its write-ahead log: append, roll to new segments and truncate.
 */
class FileWalDescriptorsTest {
  private static final PayloadRegistry REGISTRY = PayloadRegistry.withCoreTypes();

  /** More than any soft limit this test is meant for; beyond it the test does not apply. */
  private static final int MAX_HOLD = 200_000;

  @TempDir Path dir;

  @Test
  void theLogKeepsWorkingWhileTheProcessHasNoDescriptorLeft() throws Exception {
    Options small = Options.defaults().withSegmentSizeBytes(512);
    List<String> expected = new ArrayList<>();
    try (FileWal wal = FileWal.open(dir.resolve("a/b/wal"), REGISTRY, small)) {
      // Warm up every code path (and class) used below while descriptors are still available.
      for (int i = 0; i < 20; i++) {
        wal.applyEvents(EventList.of(append("warm-" + i, 0)));
      }
      wal.applyEvents(EventList.of(truncate(1)));
      // Load the assertion classes too: loading a class may need a descriptor.
      assumeThat(tryOpen()).isTrue();
      assertThat(wal.segmentFiles().size()).isPositive().isGreaterThan(0);
      Path lastBefore = wal.segmentFiles().getLast();
      List<FileChannel> held = new ArrayList<>();
      try {
        boolean exhausted = exhaustDescriptors(held);
        assumeThat(exhausted)
            .as("the descriptor limit is above %d: the test does not apply", MAX_HOLD)
            .isTrue();
        // No descriptor is left: appends that roll segments and truncations must still succeed.
        for (int round = 0; round < 5; round++) {
          // Descriptors the log freed (closing a full segment) are taken again at once.
          exhaustDescriptors(held);
          for (int i = 0; i < 20; i++) {
            String v = "r" + round + "-" + i;
            wal.applyEvents(EventList.of(append(v, 2 + round)));
            expected.add(v);
          }
          wal.applyEvents(EventList.of(truncate(2 + round)));
        }
        assertThat(wal.segmentFiles().getLast())
            .as("a new segment was started while no descriptor was left")
            .isNotEqualTo(lastBefore);
      } finally {
        for (FileChannel c : held) {
          c.close();
        }
      }
      // With descriptors back, the log rolls normally again.
      for (int i = 0; i < 20; i++) {
        wal.applyEvents(EventList.of(append("after-" + i, 7)));
        expected.add("after-" + i);
      }
    }
    try (FileWal wal = FileWal.open(dir.resolve("a/b/wal"), REGISTRY, small)) {
      assertThat(wal.retentionIndex()).isEqualTo(RetentionIndex.of(6));
      // Entries of the last round (retention 6) and after survive; earlier rounds were truncated.
      List<String> live = new ArrayList<>();
      for (String v : expected) {
        if (v.startsWith("r4-") || v.startsWith("after-")) {
          live.add(v);
        }
      }
      assertThat(strings(wal.loadAll())).containsExactlyElementsOf(live);
      try (Stream<Path> files = Files.list(dir.resolve("a/b/wal"))) {
        assertThat(files.map(p -> p.getFileName().toString()))
            .doesNotContain(RetentionFile.TEMP_NAME);
      }
    }
  }

  @Test
  void aRetentionIndexTornInOneSlotFallsBackToTheOther() throws Exception {
    Path wdir = dir.resolve("wal");
    try (FileWal wal = FileWal.open(wdir, REGISTRY)) {
      wal.applyEvents(EventList.of(append("a", 3), truncate(2)));
      wal.applyEvents(EventList.of(truncate(3)));
    }
    Path file = wdir.resolve(RetentionFile.NAME);
    assertThat(Files.size(file)).isEqualTo(2 * RetentionFile.SLOT_BYTES);
    // Damage the slot written last (the second one): the previous index is still there.
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(new byte[] {(byte) 0xff, 0x7f, 0x11}), RetentionFile.SLOT_BYTES + 6);
    }
    try (FileWal wal = FileWal.open(wdir, REGISTRY)) {
      assertThat(wal.retentionIndex()).isEqualTo(RetentionIndex.of(2));
      assertThat(strings(wal.loadAll())).containsExactly("a");
      wal.applyEvents(EventList.of(truncate(4)));
    }
    try (FileWal wal = FileWal.open(wdir, REGISTRY)) {
      assertThat(wal.retentionIndex()).isEqualTo(RetentionIndex.of(4));
    }
  }

  /** Opens /dev/null until the process has no descriptor left; false if the limit is too high. */
  private static boolean exhaustDescriptors(List<FileChannel> held) {
    Path devNull = Path.of("/dev/null");
    while (held.size() < MAX_HOLD) {
      try {
        held.add(FileChannel.open(devNull, StandardOpenOption.READ));
      } catch (IOException e) {
        return true;
      }
    }
    return false;
  }

  private static boolean tryOpen() {
    try {
      FileChannel.open(Path.of("/dev/null"), StandardOpenOption.READ).close();
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
