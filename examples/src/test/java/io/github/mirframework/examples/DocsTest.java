package io.github.mirframework.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Keeps docs/writing-a-protocol.md true: every Java block after an {@code <!-- excerpt: PATH -->}
 * marker must be a verbatim part of that file, and every file the guide links to must exist.
 */
class DocsTest {
  private static final Path ROOT = Path.of("..");
  private static final Path GUIDE = ROOT.resolve("docs/writing-a-protocol.md");

  @Test
  void guideExcerptsAreVerbatimPartsOfTheExample() throws IOException {
    String guide = Files.readString(GUIDE);
    Matcher m =
        Pattern.compile("<!-- excerpt: (\\S+) -->\\s*```java\\n(.*?)```", Pattern.DOTALL)
            .matcher(guide);
    int excerpts = 0;
    while (m.find()) {
      excerpts++;
      String source = Files.readString(ROOT.resolve(m.group(1)));
      assertThat(source).as("excerpt from " + m.group(1)).contains(m.group(2));
    }
    assertThat(excerpts).isGreaterThanOrEqualTo(7);
  }

  @Test
  void guideLinksPointToExistingFiles() throws IOException {
    String guide = Files.readString(GUIDE);
    Matcher m = Pattern.compile("\\]\\((\\.\\./[^)#]+|[a-z-]+\\.md)[)#]").matcher(guide);
    int links = 0;
    while (m.find()) {
      links++;
      assertThat(GUIDE.getParent().resolve(m.group(1))).as("link " + m.group(1)).exists();
    }
    assertThat(links).isGreaterThanOrEqualTo(8);
  }
}
