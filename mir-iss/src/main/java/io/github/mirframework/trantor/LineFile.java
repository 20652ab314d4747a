package io.github.mirframework.trantor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The line-oriented text format shared by {@link MembershipFile} and {@link ClientsFile}: UTF-8
 * text of bounded size, one record per line, fields separated by white space; blank lines and lines
 * starting with {@code #} (after leading white space) are skipped. Every problem is a {@link
 * MembershipFileException} naming the file, the line and the field.
 */
final class LineFile {
  private LineFile() {}

  /**
   * A record line of a file.
   *
   * @param file the file the line is in
   * @param number the 1-based line number
   * @param fields the line's fields (at least one)
   */
  record Line(Path file, int number, List<String> fields) {
    /** Copies the fields. */
    Line {
      Objects.requireNonNull(file, "file");
      fields = List.copyOf(fields);
    }

    /** Field {@code i} (0-based). */
    String field(int i) {
      return fields.get(i);
    }

    /** How many fields the line has. */
    int size() {
      return fields.size();
    }

    /**
     * Checks that the line has {@code min} to {@code max} fields.
     *
     * @param expected what is expected, e.g. {@code "expected 2 fields (ID, key)"}; the problem
     *     reported is this followed by {@code ", found <count>"}
     * @throws MembershipFileException for the line as a whole if the count is outside the range
     */
    void requireFields(int min, int max, String expected) throws MembershipFileException {
      if (size() < min || size() > max) {
        throw error(null, expected + ", found " + size());
      }
    }

    /**
     * The error {@code problem} in {@code field} of this line ({@code FILE:LINE: FIELD: problem}).
     *
     * @param field the field that is wrong, or {@code null} if the line as a whole is wrong
     */
    MembershipFileException error(String field, String problem) {
      return new MembershipFileException(file, number, field, problem);
    }
  }

  /**
   * Reads {@code file} and returns its record lines, in file order, without blank and comment
   * lines.
   *
   * @throws MembershipFileException for the file as a whole if it does not exist, is larger than
   *     {@code maxBytes}, or is not UTF-8 text
   * @throws IOException if the file cannot be read
   */
  static List<Line> read(Path file, long maxBytes) throws IOException {
    Objects.requireNonNull(file, "file");
    long size;
    try {
      size = Files.size(file);
    } catch (NoSuchFileException e) {
      throw new MembershipFileException(file, 0, null, "no such file");
    }
    if (size > maxBytes) {
      throw new MembershipFileException(
          file, 0, null, size + " bytes is larger than the limit of " + maxBytes);
    }
    String text;
    try {
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(Files.readAllBytes(file)))
              .toString();
    } catch (CharacterCodingException e) {
      throw new MembershipFileException(file, 0, null, "not UTF-8 text");
    }
    List<Line> records = new ArrayList<>();
    String[] lines = text.split("\r?\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      records.add(new Line(file, i + 1, List.of(line.split("\\s+"))));
    }
    return records;
  }
}
