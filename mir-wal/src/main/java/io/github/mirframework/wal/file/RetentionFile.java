package io.github.mirframework.wal.file;

import io.github.mirframework.types.RetentionIndex;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * The persisted retention index of a log: 16 bytes, {@code "MIRR"} | index (8 bytes) | CRC32C of
 * the first 12 bytes, big-endian. Replaced atomically: written to a temporary file, forced, renamed
 * over the old one, and the directory forced.
 */
final class RetentionFile {
  static final String NAME = "retention";
  static final String TEMP_NAME = "retention.tmp";

  private static final int BYTES = 16;
  private static final byte[] MAGIC = "MIRR".getBytes(StandardCharsets.US_ASCII);

  private RetentionFile() {}

  /**
   * Reads the index, {@link RetentionIndex#ZERO} if there is no file. Removes a stale temp file.
   */
  static RetentionIndex read(Path dir) throws IOException {
    Files.deleteIfExists(dir.resolve(TEMP_NAME));
    Path file = dir.resolve(NAME);
    if (!Files.exists(file)) {
      return RetentionIndex.ZERO;
    }
    byte[] b = Files.readAllBytes(file);
    if (b.length != BYTES) {
      throw new WalCorruptedException(
          file, 0, "retention index file has " + b.length + " bytes instead of " + BYTES);
    }
    if (!Arrays.equals(b, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
      throw new WalCorruptedException(file, 0, "not a retention index file (bad magic)");
    }
    ByteBuffer buf = ByteBuffer.wrap(b);
    long value = buf.getLong(4);
    int stored = buf.getInt(12);
    int actual = SegmentFormat.crc(b, 0, 12);
    if (stored != actual) {
      throw new WalCorruptedException(
          file,
          12,
          String.format("checksum mismatch (stored %08x, computed %08x)", stored, actual));
    }
    if (value < 0) {
      throw new WalCorruptedException(file, 4, "negative retention index " + value);
    }
    return RetentionIndex.of(value);
  }

  /** Durably replaces the persisted index. */
  static void write(Path dir, RetentionIndex index) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(BYTES);
    buf.put(MAGIC).putLong(index.value());
    buf.putInt(SegmentFormat.crc(buf.array(), 0, 12));
    buf.flip();
    Path temp = dir.resolve(TEMP_NAME);
    try (FileChannel ch =
        FileChannel.open(
            temp,
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
      ch.force(true);
    }
    Files.move(
        temp,
        dir.resolve(NAME),
        StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
    FileWal.syncDirectory(dir);
  }
}
