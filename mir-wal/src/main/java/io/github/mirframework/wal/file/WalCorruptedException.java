package io.github.mirframework.wal.file;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * The files of a write-ahead log are damaged in a way that cannot be explained by a crash during
 * the last write, so the log refuses to open (or to load) rather than silently skip anything.
 *
 * <p>The message names the file, the byte offset where the damage was found and what was wrong.
 * Recovering from this needs a human: restore the directory from a replica or a backup, or, knowing
 * what is lost, cut the file at {@link #offset()}.
 */
public final class WalCorruptedException extends IOException {
  private static final long serialVersionUID = 1L;

  private final transient Path file;
  private final long offset;
  private final String problem;

  /**
   * Creates the exception.
   *
   * @param file the damaged file
   * @param offset the byte offset in {@code file} where the damage starts
   * @param problem what is wrong, for humans
   */
  public WalCorruptedException(Path file, long offset, String problem) {
    super(
        "corrupt write-ahead log file "
            + Objects.requireNonNull(file, "file")
            + " at byte offset "
            + offset
            + ": "
            + Objects.requireNonNull(problem, "problem"));
    this.file = file;
    this.offset = offset;
    this.problem = problem;
  }

  /** The damaged file. */
  public Path file() {
    return file;
  }

  /** The byte offset in {@link #file()} where the damage starts. */
  public long offset() {
    return offset;
  }

  /** What is wrong, without file and offset. */
  public String problem() {
    return problem;
  }
}
