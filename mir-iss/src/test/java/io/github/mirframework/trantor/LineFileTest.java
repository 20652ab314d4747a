package io.github.mirframework.trantor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LineFileTest {
  @TempDir Path dir;

  @Test
  void skipsBlankAndCommentLinesAndSplitsFieldsOnWhiteSpace() throws Exception {
    Path file =
        Files.writeString(
            dir.resolve("f"), "# head\r\n\r\n  a  b\tc \r\n   # indented comment\nd\n");
    List<LineFile.Line> lines = LineFile.read(file, 1000);
    assertThat(lines)
        .extracting(LineFile.Line::number, LineFile.Line::fields)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(3, List.of("a", "b", "c")),
            org.assertj.core.groups.Tuple.tuple(5, List.of("d")));
    assertThat(lines.get(0).field(1)).isEqualTo("b");
    assertThat(lines.get(0).size()).isEqualTo(3);
  }

  @Test
  void fieldCountAndFieldErrorsNameFileLineAndField() throws Exception {
    Path file = Files.writeString(dir.resolve("f"), "\na b c\n");
    LineFile.Line line = LineFile.read(file, 1000).get(0);
    line.requireFields(2, 3, "expected 2 or 3 fields");
    assertThatThrownBy(() -> line.requireFields(1, 2, "expected 1 or 2 fields (x, y)"))
        .isInstanceOf(MembershipFileException.class)
        .hasMessage(file + ":2: expected 1 or 2 fields (x, y), found 3");
    assertThat(line.error("x", "bad")).hasMessage(file + ":2: x: bad");
  }

  @Test
  void aFileLargerThanTheLimitIsRefused() throws Exception {
    Path file = Files.writeString(dir.resolve("big"), "a b\n".repeat(10));
    assertThat(LineFile.read(file, 40)).hasSize(10);
    assertThatThrownBy(() -> LineFile.read(file, 39))
        .isInstanceOf(MembershipFileException.class)
        .hasMessage(file + ": 40 bytes is larger than the limit of 39");
  }
}
