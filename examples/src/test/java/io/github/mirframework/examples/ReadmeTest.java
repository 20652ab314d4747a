package io.github.mirframework.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Keeps the README true: its Java snippet is {@link QuickStart} as compiled here (imports and all,
 * without the package line), and running it prints what the README promises.
 */
class ReadmeTest {
  private static final Path ROOT = Path.of("..");

  static String javaBlockAfter(String markdown, String marker) {
    int at = markdown.indexOf(marker);
    assertThat(at).as("README has the marker " + marker).isNotNegative();
    Matcher m = Pattern.compile("```java\n(.*?)```", Pattern.DOTALL).matcher(markdown);
    assertThat(m.find(at)).as("a java block follows " + marker).isTrue();
    return m.group(1);
  }

  @Test
  void readmeSnippetIsQuickStartAsCompiled() throws IOException {
    String readme = Files.readString(ROOT.resolve("README.md"));
    String source =
        Files.readString(Path.of("src/main/java/io/github/mirframework/examples/QuickStart.java"));
    String withoutPackage = source.substring(source.indexOf("import "));
    assertThat(javaBlockAfter(readme, "<!-- snippet: QuickStart.java -->"))
        .isEqualTo(withoutPackage);
  }

  @Test
  void quickStartGreetsEveryNodeFromEveryNode() throws Exception {
    PrintStream old = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      QuickStart.main(new String[0]);
    } finally {
      System.setOut(old);
    }
    String printed = out.toString(StandardCharsets.UTF_8);
    assertThat(printed).contains("2 got 'hello from 0' from 0").endsWith("done\n");
    assertThat(printed.lines().filter(l -> l.contains(" got 'hello from ")).count()).isEqualTo(9);
  }

  @Test
  void bomListsEveryPublishedModule() throws IOException {
    String bom = Files.readString(ROOT.resolve("mir-bom/pom.xml"));
    String parent = Files.readString(ROOT.resolve("pom.xml"));
    Matcher version =
        Pattern.compile("<artifactId>mir-parent</artifactId>\\s*<version>([^<]+)<").matcher(parent);
    assertThat(version.find()).isTrue();
    assertThat(bom).contains("<version>" + version.group(1) + "</version>");
    Matcher modules = Pattern.compile("<module>([^<]+)</module>").matcher(parent);
    int published = 0;
    while (modules.find()) {
      String module = modules.group(1);
      String pom = Files.readString(ROOT.resolve(module).resolve("pom.xml"));
      boolean unpublished =
          pom.contains("<maven.deploy.skip>true</maven.deploy.skip>")
              || pom.contains("<packaging>maven-archetype</packaging>");
      if (module.equals("mir-bom") || unpublished) {
        continue;
      }
      published++;
      assertThat(bom)
          .as("mir-bom lists " + module)
          .contains("<artifactId>" + module + "</artifactId>");
    }
    assertThat(published).isEqualTo(6);
  }
}
