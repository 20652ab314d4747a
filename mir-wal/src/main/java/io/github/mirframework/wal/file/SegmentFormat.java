package io.github.mirframework.wal.file;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;

/**
 * The on-disk layout of a segment file.
 *
 * <pre>
 * segment = header record*
 * header  = magic "MIRWAL" (6 bytes) | format version (2 bytes, big-endian) | first index (8 bytes)
 * record  = payload length (4 bytes) | CRC32C of the payload (4 bytes) | payload (a WalEntry)
 * </pre>
 *
 * All integers are big-endian. A segment is named by the index of its first record, zero-padded to
 * 20 digits, with the suffix {@code .seg}; records are numbered consecutively across segments.
 */
final class SegmentFormat {
  static final int HEADER_BYTES = 16;
  static final int RECORD_HEADER_BYTES = 8;
  static final short VERSION = 1;
  static final String SUFFIX = ".seg";

  private static final byte[] MAGIC = "MIRWAL".getBytes(StandardCharsets.US_ASCII);
  private static final Pattern NAME = Pattern.compile("(\\d{20})\\.seg");

  private SegmentFormat() {}

  /** The file name of the segment whose first record has the given index. */
  static String fileName(long firstIndex) {
    return String.format("%020d%s", firstIndex, SUFFIX);
  }

  /**
   * The first index encoded in a segment file name, empty if the name is not one of a segment.
   * Names that end in {@code .seg} but do not match exactly are reported by the caller.
   */
  static Optional<Long> firstIndexOf(Path file) {
    Matcher m = NAME.matcher(file.getFileName().toString());
    if (!m.matches()) {
      return Optional.empty();
    }
    try {
      return Optional.of(Long.parseLong(m.group(1)));
    } catch (NumberFormatException e) {
      return Optional.empty(); // 20 digits above Long.MAX_VALUE
    }
  }

  /** The header of a segment whose first record has the given index. */
  static byte[] header(long firstIndex) {
    ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES);
    b.put(MAGIC).putShort(VERSION).putLong(firstIndex);
    return b.array();
  }

  /**
   * Checks a complete header and returns what is wrong with it, or null if it is the header of the
   * segment with the given first index.
   */
  static String headerProblem(byte[] header, long expectedFirstIndex) {
    ByteBuffer b = ByteBuffer.wrap(header);
    for (byte m : MAGIC) {
      if (b.get() != m) {
        return "not a Mir-Java WAL segment (the file does not start with \"MIRWAL\")";
      }
    }
    short version = b.getShort();
    if (version != VERSION) {
      return "unsupported segment format version " + version + " (this code reads " + VERSION + ")";
    }
    long first = b.getLong();
    if (first != expectedFirstIndex) {
      return "header says the first index is "
          + first
          + " but the file name says "
          + expectedFirstIndex;
    }
    return null;
  }

  /** The CRC32C of {@code len} bytes of {@code data} from {@code off}. */
  static int crc(byte[] data, int off, int len) {
    CRC32C c = new CRC32C();
    c.update(data, off, len);
    return (int) c.getValue();
  }
}
