package io.github.mirframework.wal.file;

import io.github.mirframework.types.RetentionIndex;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * The persisted retention index of a log, in a file that stays open for the life of the log, so
 * that updating it needs no new file descriptor (a process that has run out of descriptors can
 * still truncate its log).
 *
 * <p>The file has two 16-byte slots, each {@code "MIRR"} | index (8 bytes) | CRC32C of the first 12
 * bytes, big-endian. An update overwrites the slot that does not hold the current index and is
 * forced; the index is the larger of the valid slots. A write torn by a crash damages only the slot
 * being written, so the other one still holds the previous index. A file of one slot (16 bytes, the
 * format before the second slot was added) is read as is; its next update adds the second slot.
 *
 * <p>Not thread-safe; used under the log's lock.
 */
final class RetentionFile implements AutoCloseable {
  static final String NAME = "retention";

  /** Left by versions that replaced the file through a temporary copy; removed on open. */
  static final String TEMP_NAME = "retention.tmp";

  static final int SLOT_BYTES = 16;
  private static final byte[] MAGIC = "MIRR".getBytes(StandardCharsets.US_ASCII);

  private final Path file;
  private final FileChannel channel;
  private final ByteBuffer slot = ByteBuffer.allocate(SLOT_BYTES);
  private RetentionIndex current;
  private int nextSlot;

  private RetentionFile(Path file, FileChannel channel, RetentionIndex current, int nextSlot) {
    this.file = file;
    this.channel = channel;
    this.current = current;
    this.nextSlot = nextSlot;
  }

  /**
   * Opens (creating it if needed, and making its directory entry durable with {@code dirSync}) and
   * reads the file of the log in {@code dir}. Removes a stale temporary file of older versions.
   *
   * @throws WalCorruptedException if no slot is valid in a file that has a full slot
   */
  static RetentionFile open(Path dir, IoAction dirSync) throws IOException {
    Files.deleteIfExists(dir.resolve(TEMP_NAME));
    Path file = dir.resolve(NAME);
    boolean existed = Files.exists(file);
    FileChannel ch =
        FileChannel.open(
            file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    try {
      if (!existed) {
        dirSync.run();
      }
      long size = ch.size();
      if (size > 2 * SLOT_BYTES) {
        throw new WalCorruptedException(
            file, 0, "retention index file has " + size + " bytes, more than " + 2 * SLOT_BYTES);
      }
      byte[] b = new byte[(int) size];
      ByteBuffer buf = ByteBuffer.wrap(b);
      while (buf.hasRemaining()) {
        if (ch.read(buf, buf.position()) < 0) {
          break;
        }
      }
      RetentionIndex value;
      int next;
      if (size < SLOT_BYTES) {
        // Empty (new), or the very first update was cut short: nothing was ever truncated.
        value = RetentionIndex.ZERO;
        next = 0;
      } else {
        long s0 = decode(file, b, 0);
        long s1 = size == 2 * SLOT_BYTES ? decode(file, b, SLOT_BYTES) : -1;
        if (s0 < 0 && s1 < 0) {
          if (size == SLOT_BYTES) {
            throw new WalCorruptedException(file, 0, invalidSlot(file, b, 0));
          }
          throw new WalCorruptedException(
              file, 0, "both slots are invalid: " + invalidSlot(file, b, 0));
        }
        value = RetentionIndex.of(Math.max(s0, s1));
        next = s0 >= s1 ? 1 : 0;
      }
      return new RetentionFile(file, ch, value, next);
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  /** The persisted index. */
  RetentionIndex current() {
    return current;
  }

  /** Durably replaces the persisted index, without opening any file. */
  void write(RetentionIndex index) throws IOException {
    slot.clear();
    slot.put(MAGIC).putLong(index.value());
    slot.putInt(SegmentFormat.crc(slot.array(), 0, 12));
    slot.flip();
    long pos = (long) nextSlot * SLOT_BYTES;
    while (slot.hasRemaining()) {
      pos += channel.write(slot, pos);
    }
    // The first update of the second slot changes the file's size: force the metadata too.
    channel.force(true);
    current = index;
    nextSlot = 1 - nextSlot;
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }

  /** The index in the slot at {@code offset}, or -1 if the slot is not valid. */
  private static long decode(Path file, byte[] b, int offset) {
    if (!Arrays.equals(b, offset, offset + MAGIC.length, MAGIC, 0, MAGIC.length)) {
      return -1;
    }
    ByteBuffer buf = ByteBuffer.wrap(b);
    long value = buf.getLong(offset + 4);
    int stored = buf.getInt(offset + 12);
    if (stored != SegmentFormat.crc(b, offset, 12) || value < 0) {
      return -1;
    }
    return value;
  }

  private static String invalidSlot(Path file, byte[] b, int offset) {
    if (!Arrays.equals(b, offset, offset + MAGIC.length, MAGIC, 0, MAGIC.length)) {
      return "not a retention index file (bad magic)";
    }
    ByteBuffer buf = ByteBuffer.wrap(b);
    long value = buf.getLong(offset + 4);
    int stored = buf.getInt(offset + 12);
    int actual = SegmentFormat.crc(b, offset, 12);
    if (stored != actual) {
      return String.format("checksum mismatch (stored %08x, computed %08x)", stored, actual);
    }
    return "negative retention index " + value;
  }

  @Override
  public String toString() {
    return "RetentionFile[" + file + ", " + current + "]";
  }

  /** An I/O action (making the directory durable). */
  @FunctionalInterface
  interface IoAction {
    void run() throws IOException;
  }
}
