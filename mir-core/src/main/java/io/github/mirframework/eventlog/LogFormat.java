package io.github.mirframework.eventlog;

import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * Constants and naming rules of the event log format shared by {@link Recorder} and {@link
 * LogReader}.
 */
final class LogFormat {
  /** The only format version this code writes and reads. */
  static final int FORMAT_VERSION = 1;

  /**
   * Largest record a reader accepts. A larger length prefix can only come from corruption: the
   * recorder writes one batch of events per record, and batches are capped by the node.
   */
  static final long MAX_RECORD_BYTES = 1L << 30;

  /** Buffer size used for the file, gzip and protobuf streams. */
  static final int BUFFER_BYTES = 1 << 16;

  private LogFormat() {}

  /**
   * The name of file {@code index} of a series: {@code <prefix>-00000.gz}, {@code
   * <prefix>-00001.gz}, ...
   */
  static String fileName(String prefix, long index) {
    return String.format("%s-%05d.gz", prefix, index);
  }

  /** Matches the names {@link #fileName} produces for {@code prefix}; group 1 is the index. */
  static Pattern fileNamePattern(String prefix) {
    return Pattern.compile(Pattern.quote(prefix) + "-(\\d{5,})\\.gz");
  }

  static Path file(Path directory, String prefix, long index) {
    return directory.resolve(fileName(prefix, index));
  }
}
