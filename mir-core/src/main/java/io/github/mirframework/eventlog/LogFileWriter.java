package io.github.mirframework.eventlog;

import com.google.protobuf.CodedOutputStream;
import io.github.mirframework.eventlog.pb.LogRecord;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/**
 * Writes the records of one log file: zig-zag varint length prefixes and record bytes into a gzip
 * stream. Not thread-safe; used by the recorder's writer thread only (and by its builder for the
 * first file).
 */
final class LogFileWriter {
  private final Path path;
  private final OutputStream file;
  private final GZIPOutputStream gzip;
  private final CodedOutputStream out;
  private boolean closed;

  /** Creates (or truncates) the file and starts its gzip stream. */
  LogFileWriter(Path path, int compressionLevel) throws IOException {
    this.path = path;
    this.file = Files.newOutputStream(path);
    try {
      this.gzip =
          new LeveledGzipOutputStream(
              new BufferedOutputStream(file, LogFormat.BUFFER_BYTES), compressionLevel);
    } catch (IOException | RuntimeException e) {
      closeQuietly(file, e);
      throw e;
    }
    this.out = CodedOutputStream.newInstance(gzip, LogFormat.BUFFER_BYTES);
  }

  Path path() {
    return path;
  }

  /**
   * Appends one record (buffered: it reaches the file when buffers fill up or on {@link #close()}).
   */
  void write(LogRecord record) throws IOException {
    out.writeSInt64NoTag(record.getSerializedSize());
    record.writeTo(out);
  }

  /**
   * Pushes everything written so far to the file as complete compressed blocks (a gzip sync flush),
   * so a reader sees every record up to here while the file is still being written.
   */
  void flush() throws IOException {
    out.flush();
    gzip.flush();
  }

  /** Bytes written so far before compression, length prefixes included. */
  long uncompressedBytes() {
    return out.getTotalBytesWritten();
  }

  /** Flushes the buffers, writes the gzip trailer and closes the file. Idempotent. */
  void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    try {
      out.flush();
      gzip.finish();
    } catch (IOException | RuntimeException e) {
      closeQuietly(file, e);
      throw e;
    }
    gzip.close();
  }

  /** Closes the file without finishing the gzip stream, after a failure; never throws. */
  void abort(Throwable failure) {
    if (!closed) {
      closed = true;
      closeQuietly(file, failure);
    }
  }

  private static void closeQuietly(OutputStream s, Throwable primary) {
    try {
      s.close();
    } catch (IOException | RuntimeException e) {
      primary.addSuppressed(e);
    }
  }

  /** A gzip stream with a chosen compression level (the JDK's fixes the level at the default). */
  private static final class LeveledGzipOutputStream extends GZIPOutputStream {
    LeveledGzipOutputStream(OutputStream out, int level) throws IOException {
      super(out, LogFormat.BUFFER_BYTES, true);
      def.setLevel(level);
    }
  }
}
