package io.github.mirframework.wal.file;

import io.github.mirframework.event.PayloadRegistry;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The WAL contract for {@link FileWal} with its default options. */
class FileWalContractTest extends WalContractTest<FileWal> {
  @TempDir Path dir;

  @Override
  protected FileWal open(PayloadRegistry registry) throws IOException {
    return FileWal.open(dir, registry);
  }
}
