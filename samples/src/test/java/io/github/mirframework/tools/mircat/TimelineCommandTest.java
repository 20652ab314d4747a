package io.github.mirframework.tools.mircat;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class TimelineCommandTest {
  @TempDir Path dir;

  private record Result(int rc, String out, String err) {}

  private Result run(String... args) throws Exception {
    TimelineCommand cmd = new TimelineCommand();
    new CommandLine(cmd).parseArgs(args);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int rc =
        cmd.run(
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Result(
        rc, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  static List<String> args(List<Path> srcs, Path out) {
    List<String> a = new ArrayList<>();
    for (Path p : srcs) {
      a.add("--src");
      a.add(p.toString());
    }
    a.add("--out");
    a.add(out.toString());
    return a;
  }

  @Test
  void writesOneSelfContainedPageWithEveryEventAndTheMatchedMessages() throws Exception {
    List<Path> logs = TimelineFixture.record(dir.resolve("rec"));
    Path html = dir.resolve("out/run.html");
    Result r = run(args(logs, html).toArray(String[]::new));
    assertThat(r.rc()).as(r.err()).isZero();
    assertThat(r.out()).contains("6 events of 2 nodes, 2 messages matched (2 sent, 3 received)");
    String page = Files.readString(html);
    // No network access is needed: no external scripts, styles or images.
    assertThat(page).doesNotContainPattern("(src|href)=\"(https?:)?//");
    // The payload "</script>" must not end the data element early.
    int data = page.indexOf("id=\"data\">");
    int end = page.indexOf("</script>", data);
    assertThat(page.substring(data, end)).doesNotContain("</").contains("\\u003c/script");
    assertThat(page).contains("\"destinations\":[\"1\"]");
    assertThat(page).doesNotContain(TimelineCommand.DATA_MARK);
  }

  @Test
  void theModelMatchesEachReceptionWithTheOldestEqualSend() throws Exception {
    List<Path> logs = TimelineFixture.record(dir.resolve("rec"));
    TimelineCommand.Model m = new TimelineCommand.Model(4000);
    for (Path p : logs) {
      try (var reader =
          io.github.mirframework.eventlog.LogReader.open(
              io.github.mirframework.eventlog.LogReader.seriesFiles(p, "eventlog"))) {
        m.read(reader);
      }
    }
    m.matchMessages();
    assertThat(m.nodes.keySet()).containsExactly("0", "1");
    assertThat(m.arrows).hasSize(2);
    // Sends are events 0 and 1 (node 0); receptions 2 and 3 (node 1); event 4 was never sent.
    assertThat(m.arrows.get(0)).containsExactly(0, 2);
    assertThat(m.arrows.get(1)).containsExactly(1, 3);
  }

  @Test
  void badArgumentsAreReported() throws Exception {
    Result missing = run("--src", dir.resolve("nope").toString(), "--out", "x.html");
    assertThat(missing.rc()).isEqualTo(2);
    assertThat(missing.err()).contains("no such file or directory");
    Files.createDirectories(dir.resolve("empty"));
    Result empty = run("--src", dir.resolve("empty").toString(), "--out", "x.html");
    assertThat(empty.rc()).isEqualTo(2);
    assertThat(empty.err()).contains("no log files");
    Path garbage = dir.resolve("garbage.gz");
    Files.write(garbage, new byte[] {1, 2, 3});
    Result bad = run("--src", garbage.toString(), "--out", dir.resolve("g.html").toString());
    assertThat(bad.rc()).isEqualTo(1);
  }

  @Test
  void isASubcommandOfMircat() {
    CommandLine cl = new CommandLine(new MircatCommand());
    assertThat(cl.getSubcommands()).containsKey("timeline");
  }
}
