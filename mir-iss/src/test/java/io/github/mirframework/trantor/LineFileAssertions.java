package io.github.mirframework.trantor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Assertions shared by the tests of the line-oriented files ({@link MembershipFile}, {@link
 * ClientsFile}): how a bad line and a bad file are reported.
 */
final class LineFileAssertions {
  private LineFileAssertions() {}

  /** Loads a file, like {@link MembershipFile#load} or {@link ClientsFile#load}. */
  @FunctionalInterface
  interface Loader {
    Object load(Path file) throws Exception;
  }

  /**
   * Writes the file {@code bad} in {@code dir}: a comment line, a blank line, {@code okLine} if
   * {@code okLinesBefore} is 1, then {@code badLine}; and asserts that loading it fails with a
   * {@link MembershipFileException} naming that file, the bad line's number and {@code field}
   * ({@code null}: the line as a whole), with a message that starts with {@code FILE:LINE: }.
   *
   * @param name the case's name, for the failure message
   * @return the exception, for further assertions
   */
  static MembershipFileException assertBadLine(
      Loader loader,
      Path dir,
      String name,
      String okLine,
      String badLine,
      int okLinesBefore,
      String field)
      throws Exception {
    StringBuilder text = new StringBuilder("# comment\n\n");
    if (okLinesBefore > 0) {
      text.append(okLine).append('\n');
    }
    text.append(badLine.strip()).append('\n');
    Path file = dir.resolve("bad");
    Files.writeString(file, text);
    int expectedLine = 3 + okLinesBefore;
    Throwable thrown = catchThrowable(() -> loader.load(file));
    assertThat(thrown)
        .as(name)
        .isInstanceOfSatisfying(
            MembershipFileException.class,
            e -> {
              assertThat(e.file()).isEqualTo(file);
              assertThat(e.line()).isEqualTo(expectedLine);
              assertThat(e.field()).isEqualTo(field);
              assertThat(e.getMessage()).startsWith(file + ":" + expectedLine + ": ");
            });
    return (MembershipFileException) thrown;
  }

  /**
   * Asserts that loading a file that does not exist, and one that is not UTF-8 text, fails with a
   * {@link MembershipFileException} for the file as a whole (files {@code missing} and {@code
   * binary} in {@code dir}).
   */
  static void assertMissingAndBinaryFilesRefused(Loader loader, Path dir) throws Exception {
    Path missing = dir.resolve("missing");
    assertThatThrownBy(() -> loader.load(missing))
        .isInstanceOf(MembershipFileException.class)
        .hasMessage(missing + ": no such file");
    Path binary = dir.resolve("binary");
    Files.write(binary, new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1});
    assertThatThrownBy(() -> loader.load(binary))
        .isInstanceOf(MembershipFileException.class)
        .hasMessageContaining("not UTF-8");
  }
}
