package io.github.mirframework.wal.file;

import io.github.mirframework.event.PayloadRegistry;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/**
 * The WAL contract for {@link FileWal} with a force per append and segments so small that almost
 * every entry starts a new one, so rollover and segment deletion happen in every test.
 */
class FileWalSmallSegmentsContractTest extends WalContractTest<FileWal> {
  @TempDir Path dir;

  @Override
  protected FileWal open(PayloadRegistry registry) throws IOException {
    return FileWal.open(
        dir,
        registry,
        FileWal.Options.defaults()
            .withDurability(FileWal.Durability.FSYNC_EACH_APPEND)
            .withSegmentSizeBytes(FileWal.Options.MIN_SEGMENT_SIZE_BYTES));
  }
}
