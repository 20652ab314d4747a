package io.github.mirframework.trantor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A membership file (or a {@link ClientsFile}) is malformed: the message names the file, the line
 * (1-based; 0 for the file as a whole) and the field that is wrong. Immutable.
 */
public final class MembershipFileException extends IOException {
  private static final long serialVersionUID = 1L;

  /** The file. */
  private final transient Path file;

  private final int line;
  private final String field;

  /**
   * @param file the membership or clients file
   * @param line the 1-based line number, or 0 if the problem concerns the whole file
   * @param field the field that is wrong (e.g. {@code "transport address"}), or {@code null}
   * @param problem what is wrong
   */
  MembershipFileException(Path file, int line, String field, String problem) {
    super(format(file, line, field, problem));
    this.file = Objects.requireNonNull(file, "file");
    this.line = line;
    this.field = field;
  }

  /** The membership or clients file. */
  public Path file() {
    return file;
  }

  /** The 1-based line number, or 0 if the problem concerns the whole file. */
  public int line() {
    return line;
  }

  /** The field that is wrong, or {@code null} if the line or file as a whole is wrong. */
  public String field() {
    return field;
  }

  private static String format(Path file, int line, String field, String problem) {
    StringBuilder s = new StringBuilder().append(file);
    if (line > 0) {
      s.append(':').append(line);
    }
    s.append(": ");
    if (field != null) {
      s.append(field).append(": ");
    }
    return s.append(problem).toString();
  }
}
