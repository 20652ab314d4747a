package io.github.mirframework.eventlog;

import java.nio.file.Path;
import java.util.Objects;

/**
 * An event log could not be read: the file is missing, not a log, corrupt, of an unknown format
 * version, or holds a payload of a type it does not describe. The message names the file and the
 * index of the record (0 is the header) at which reading stopped.
 *
 * <p>Unchecked, so that a {@link LogReader} can be used as an {@link Iterable}. The subclass {@link
 * TruncatedLogException} marks a file that merely ends early, as after a crash while recording:
 * every entry read before it is valid, and a tool may choose to stop there gracefully.
 */
public class LogReadException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient Path file;
  private final long recordIndex;

  /**
   * Creates an exception about record {@code recordIndex} of {@code file}.
   *
   * @param file the file being read
   * @param recordIndex the index of the record being read, 0 for the header; -1 if not related to a
   *     record
   * @param reason what was wrong
   * @param cause the underlying error, or null
   */
  LogReadException(Path file, long recordIndex, String reason, Throwable cause) {
    super(describe(file, recordIndex, reason), cause);
    this.file = Objects.requireNonNull(file, "file");
    this.recordIndex = recordIndex;
  }

  private static String describe(Path file, long recordIndex, String reason) {
    return recordIndex < 0
        ? file + ": " + reason
        : file + ": record " + recordIndex + ": " + reason;
  }

  /** The file being read. */
  public Path file() {
    return file;
  }

  /** The index of the record being read in {@link #file()} (0 is the header), or -1. */
  public long recordIndex() {
    return recordIndex;
  }
}
