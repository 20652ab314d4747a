package io.github.mirframework.wal.file;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.ExtensionRegistryLite;
import io.github.mirframework.event.DecodeResult;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventCodec;
import io.github.mirframework.types.RetentionIndex;
import io.github.mirframework.wal.file.pb.WalEntry;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Reads and checks one segment file. It never changes the file: repairing a torn tail is the
 * caller's job, using the returned {@link Result#validEnd()}.
 *
 * <p>Only the tail of the last segment may be torn (that is where the last, unacknowledged write
 * went). A tail is torn when the file ends inside a record or a record header, when the rest of the
 * file is zero bytes (file systems may extend a file before its data reaches the disk), or when the
 * last record's checksum does not match and nothing but zero bytes follows it. Everything else that
 * is wrong is a {@link WalCorruptedException}.
 */
final class SegmentScanner {

  /** Receives each intact entry, in order. */
  interface EntrySink {
    void accept(RetentionIndex retentionIndex, Event event);
  }

  /**
   * What a scan found.
   *
   * @param count the number of intact records
   * @param validEnd the offset just after the last intact record (after the header if none)
   * @param maxRetention the highest retention index of the intact records, -1 if there are none
   * @param tornTail the damaged tail found, or null
   */
  record Result(long count, long validEnd, long maxRetention, FileWal.TornTail tornTail) {}

  private static final int BUFFER_BYTES = 1 << 16;

  private final int maxRecordBytes;
  private final EventCodec codec;

  SegmentScanner(int maxRecordBytes, EventCodec codec) {
    this.maxRecordBytes = maxRecordBytes;
    this.codec = codec;
  }

  /**
   * Scans the first {@code size} bytes of {@code file}.
   *
   * @param firstIndex the index of the segment's first record (from its name)
   * @param tailMayBeTorn whether this is the last segment of a log being opened
   */
  Result scan(Path file, long firstIndex, long size, boolean tailMayBeTorn, EntrySink sink)
      throws IOException {
    try (Reader in = new Reader(Files.newInputStream(file), file)) {
      if (size < SegmentFormat.HEADER_BYTES) {
        byte[] got = in.readFully((int) size);
        byte[] expected = SegmentFormat.header(firstIndex);
        if (tailMayBeTorn
            && (Arrays.equals(got, 0, got.length, expected, 0, got.length) || allZero(got))) {
          return new Result(0, 0, -1, torn(file, 0, size, "incomplete segment header"));
        }
        throw new WalCorruptedException(
            file,
            0,
            "the file has "
                + size
                + " bytes, fewer than the "
                + SegmentFormat.HEADER_BYTES
                + "-byte segment header");
      }
      String headerProblem =
          SegmentFormat.headerProblem(in.readFully(SegmentFormat.HEADER_BYTES), firstIndex);
      if (headerProblem != null) {
        throw new WalCorruptedException(file, 0, headerProblem);
      }

      long pos = SegmentFormat.HEADER_BYTES;
      long count = 0;
      long maxRetention = -1;
      while (pos < size) {
        long remaining = size - pos;
        if (remaining < SegmentFormat.RECORD_HEADER_BYTES) {
          if (tailMayBeTorn) {
            return new Result(
                count,
                pos,
                maxRetention,
                torn(file, pos, remaining, "incomplete record header (" + remaining + " bytes)"));
          }
          throw new WalCorruptedException(
              file, pos, "incomplete record header: only " + remaining + " bytes left");
        }
        ByteBuffer recordHeader = ByteBuffer.wrap(in.readFully(SegmentFormat.RECORD_HEADER_BYTES));
        int length = recordHeader.getInt();
        int storedCrc = recordHeader.getInt();
        long afterHeader = remaining - SegmentFormat.RECORD_HEADER_BYTES;

        if (length == 0 && storedCrc == 0 && tailMayBeTorn && in.restIsZero(afterHeader)) {
          return new Result(
              count, pos, maxRetention, torn(file, pos, remaining, "zero-filled tail"));
        }
        if (length <= 0 || length > maxRecordBytes) {
          throw new WalCorruptedException(
              file,
              pos,
              "bad record length "
                  + Integer.toUnsignedString(length)
                  + " (must be between 1 and "
                  + maxRecordBytes
                  + ")");
        }
        if (length > afterHeader) {
          String what =
              "incomplete record: "
                  + length
                  + " payload bytes announced, "
                  + afterHeader
                  + " present";
          if (tailMayBeTorn) {
            return new Result(count, pos, maxRetention, torn(file, pos, remaining, what));
          }
          throw new WalCorruptedException(file, pos, what);
        }
        byte[] payload = in.readFully(length);
        int actualCrc = SegmentFormat.crc(payload, 0, length);
        if (actualCrc != storedCrc) {
          String what =
              String.format("checksum mismatch (stored %08x, computed %08x)", storedCrc, actualCrc);
          if (tailMayBeTorn && in.restIsZero(afterHeader - length)) {
            return new Result(
                count, pos, maxRetention, torn(file, pos, remaining, what + " in the last record"));
          }
          throw new WalCorruptedException(file, pos, what);
        }
        long index = firstIndex + count;
        WalEntry entry = parse(payload, file, pos, index);
        if (entry.getRetentionIndex() < 0) {
          throw new WalCorruptedException(
              file,
              pos,
              "entry "
                  + index
                  + " has retention index "
                  + Long.toUnsignedString(entry.getRetentionIndex())
                  + ", above the supported maximum");
        }
        if (!entry.hasEvent()) {
          throw new WalCorruptedException(file, pos, "entry " + index + " has no event");
        }
        DecodeResult<Event> event = codec.fromRecord(entry.getEvent());
        if (event instanceof DecodeResult.Error<Event> err) {
          throw new WalCorruptedException(
              file,
              pos,
              "entry "
                  + index
                  + " cannot be decoded: "
                  + err.reason()
                  + " (is its payload type registered in the WAL's PayloadRegistry?)");
        }
        sink.accept(RetentionIndex.of(entry.getRetentionIndex()), event.orElseThrow());
        count++;
        maxRetention = Math.max(maxRetention, entry.getRetentionIndex());
        pos += SegmentFormat.RECORD_HEADER_BYTES + length;
      }
      return new Result(count, pos, maxRetention, null);
    }
  }

  private static WalEntry parse(byte[] payload, Path file, long pos, long index)
      throws WalCorruptedException {
    try {
      CodedInputStream cin = CodedInputStream.newInstance(payload);
      cin.setRecursionLimit(3 * EventCodec.MAX_DEPTH + 16);
      WalEntry entry = WalEntry.parseFrom(cin, ExtensionRegistryLite.getEmptyRegistry());
      cin.checkLastTagWas(0);
      return entry;
    } catch (IOException | RuntimeException e) {
      throw new WalCorruptedException(
          file, pos, "entry " + index + " is not a valid WalEntry: " + e.getMessage());
    }
  }

  private static FileWal.TornTail torn(Path file, long offset, long bytes, String reason) {
    return new FileWal.TornTail(file, offset, bytes, reason);
  }

  private static boolean allZero(byte[] b) {
    for (byte x : b) {
      if (x != 0) {
        return false;
      }
    }
    return true;
  }

  /** A buffered stream that reads exact amounts and reports a short file as corruption. */
  private static final class Reader implements AutoCloseable {
    private final InputStream in;
    private final Path file;
    private long position;

    Reader(InputStream raw, Path file) {
      this.in = new BufferedInputStream(raw, BUFFER_BYTES);
      this.file = file;
    }

    byte[] readFully(int n) throws IOException {
      byte[] b = new byte[n];
      if (in.readNBytes(b, 0, n) != n) {
        // The caller checked the size: the file shrank under us.
        throw new WalCorruptedException(file, position, "the file ended unexpectedly");
      }
      position += n;
      return b;
    }

    /** Reads the next {@code n} bytes and tells whether all are zero. */
    boolean restIsZero(long n) throws IOException {
      byte[] chunk = new byte[(int) Math.min(BUFFER_BYTES, Math.max(n, 1))];
      long left = n;
      while (left > 0) {
        int want = (int) Math.min(chunk.length, left);
        int got = in.readNBytes(chunk, 0, want);
        for (int i = 0; i < got; i++) {
          if (chunk[i] != 0) {
            return false;
          }
        }
        if (got < want) {
          return false;
        }
        left -= got;
        position += got;
      }
      return true;
    }

    @Override
    public void close() throws IOException {
      in.close();
    }
  }
}
