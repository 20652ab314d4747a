package io.github.mirframework.eventlog;

import java.nio.file.Path;

/**
 * A log file ends in the middle of its gzip stream, as it does when the recorder was killed while
 * writing. The entries read before this exception are complete and valid; the rest of the file is
 * lost.
 */
public final class TruncatedLogException extends LogReadException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception about record {@code recordIndex} of {@code file}.
   *
   * @param file the file being read
   * @param recordIndex the index of the record that is cut off (0 is the header)
   * @param reason what was observed
   * @param cause the underlying error, or null
   */
  TruncatedLogException(Path file, long recordIndex, String reason, Throwable cause) {
    super(file, recordIndex, reason, cause);
  }
}
