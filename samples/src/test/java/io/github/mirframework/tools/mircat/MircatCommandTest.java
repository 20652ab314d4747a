package io.github.mirframework.tools.mircat;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.eventlog.Recorder;
import io.github.mirframework.samples.pingpong.PingPongCommand;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class MircatCommandTest {
  private static final ModuleId APP = ModuleId.of("app");
  private static final ModuleId ISS0 = ModuleId.of("iss/0");

  @TempDir Path dir;
  private Path log;

  /** A log of node "n1": app gets strings a0..a4, iss/0 gets numbers 0..2 (with a follow-up). */
  @BeforeEach
  void record() throws Exception {
    AtomicLong clock = new AtomicLong(1000);
    Path recDir = dir.resolve("rec");
    try (Recorder r =
        Recorder.builder(NodeId.of("n1"), recDir).timeSource(clock::incrementAndGet).build()) {
      for (int i = 0; i < 5; i++) {
        r.intercept(APP, EventList.of(Events.testingString(APP, "a" + i)));
      }
      for (int i = 0; i < 3; i++) {
        r.intercept(
            ModuleId.of("iss"),
            EventList.of(
                Events.testingUint(ISS0, i).withFollowUp(Events.testingString(APP, "then" + i))));
      }
    }
    log = recDir;
  }

  private record Result(int rc, String out, String err) {}

  private Result run(String input, String... args) throws Exception {
    MircatCommand cmd = new MircatCommand();
    new CommandLine(cmd).setCaseInsensitiveEnumValuesAllowed(true).parseArgs(args);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int rc =
        cmd.run(
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            new BufferedReader(new StringReader(input)));
    return new Result(
        rc, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private static long count(String text, String needle) {
    return text.lines().filter(l -> l.contains(needle)).count();
  }

  @Test
  void printsEveryEventWithAHeaderAndItsPayload() throws Exception {
    Result r = run("", "--src", log.toString(), "--color=false");
    assertThat(r.rc()).isZero();
    assertThat(count(r.out(), "[ Node #n1 ]")).isEqualTo(8);
    assertThat(r.out())
        .containsPattern(
            "\\[ TestingString \\] \\[ Node #n1 \\] \\[ Time 1970-01-01T00:00:01.002Z \\+0.000s \\]"
                + " \\[ Index #0 \\] \\[ To app \\]")
        .contains("value: \"a4\"")
        .contains("[ TestingUint ]")
        .contains("then -> app")
        .contains("value: \"then2\"")
        .doesNotContain("\u001b[");
  }

  @Test
  void fieldsHoldingTheirDefaultValueAreShown() throws Exception {
    // iss/0 got TestingUint 0 first: protobuf's own text format would print it as an empty "{}".
    Result r = run("", "--src", log.toString(), "-e", "TestingUint", "--limit", "1");
    assertThat(r.out()).contains("mir.core.TestingUint {\n    value: 0\n  }");
    Result json = run("", "--src", log.toString(), "-e", "TestingUint", "--format", "json");
    assertThat(json.out().lines().findFirst().orElseThrow())
        .contains("\"payload\":{\"value\":\"0\"}");
  }

  @Test
  void timesAreShownAsChosen() throws Exception {
    // The recorder took 1001 ms at creation, so entries are at 1002, 1003, ...: index 3 is at 1005.
    String[] base = {"--src", log.toString(), "--offset", "3", "--limit", "1", "--time"};
    assertThat(run("", concat(base, "iso")).out()).contains("[ Time 1970-01-01T00:00:01.005Z ]");
    assertThat(run("", concat(base, "relative")).out()).contains("[ Time +0.003s ]");
    assertThat(run("", concat(base, "ms")).out()).contains("[ Time 1005ms ]");
    assertThat(run("", "--src", log.toString(), "--format", "json", "--limit", "1").out())
        .contains("\"time\":\"1970-01-01T00:00:01.002Z\"");
  }

  private static String[] concat(String[] a, String b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + 1);
    out[a.length] = b;
    return out;
  }

  @Test
  void helpShowsExamplesAndExitStatuses() {
    String usage = new CommandLine(new MircatCommand()).getUsageMessage();
    assertThat(usage).contains("Examples:", "--summary", "--follow", "3 no event matched");
  }

  @Test
  void followPrintsEventsOfALogStillBeingWritten() throws Exception {
    Path live = dir.resolve("live");
    AtomicLong clock = new AtomicLong(5000);
    try (Recorder r =
        Recorder.builder(NodeId.of("n7"), live)
            .timeSource(clock::incrementAndGet)
            .flushWhenIdle(java.time.Duration.ofMillis(20))
            .build()) {
      r.intercept(APP, EventList.of(Events.testingString(APP, "early")));
      MircatCommand cmd = new MircatCommand();
      new CommandLine(cmd)
          .parseArgs(
              "--src", live.toString(), "--follow", "--follow-idle-exit", "3", "--limit", "2");
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      java.util.concurrent.atomic.AtomicInteger rc =
          new java.util.concurrent.atomic.AtomicInteger(-1);
      Thread follower =
          new Thread(
              () -> {
                try {
                  rc.set(
                      cmd.run(
                          new PrintStream(out, true, StandardCharsets.UTF_8),
                          new PrintStream(
                              new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                          new BufferedReader(new StringReader(""))));
                } catch (Exception e) {
                  rc.set(99);
                }
              },
              "mircat-follow-test");
      follower.start();
      // The first event becomes readable once the recorder has been idle (not closed).
      long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
      while (!out.toString(StandardCharsets.UTF_8).contains("\"early\"")
          && System.nanoTime() < deadline) {
        Thread.onSpinWait();
        follower.join(10);
      }
      assertThat(out.toString(StandardCharsets.UTF_8)).contains("\"early\"");
      r.intercept(APP, EventList.of(Events.testingString(APP, "late")));
      // --limit 2 ends the follower as soon as the second event is shown.
      follower.join(java.util.concurrent.TimeUnit.SECONDS.toMillis(30));
      assertThat(follower.isAlive()).isFalse();
      assertThat(rc.get()).isZero();
      assertThat(out.toString(StandardCharsets.UTF_8)).contains("\"late\"");
      assertThat(count(out.toString(StandardCharsets.UTF_8), "[ Node #n7 ]")).isEqualTo(2);
    }
  }

  @Test
  void followStopsAfterTheIdleTimeAndReportsWhenNothingMatched() throws Exception {
    Result r =
        run("", "--src", log.toString(), "--follow", "--follow-idle-exit", "0.3", "-e", "Nope");
    assertThat(r.rc()).isEqualTo(3);
    Result bad = run("", "--src", log.toString(), "--follow", "--summary");
    assertThat(bad.rc()).isEqualTo(2);
  }

  @Test
  void filtersByTypeDestinationAndNodeWithOffsetAndLimit() throws Exception {
    Result byType = run("", "--src", log.toString(), "-e", "testinguint");
    assertThat(count(byType.out(), "[ TestingUint ]")).isEqualTo(3);
    assertThat(count(byType.out(), "[ TestingString ]")).isZero();

    Result fullName = run("", "--src", log.toString(), "-e", "mir.core.TestingString");
    assertThat(count(fullName.out(), "[ TestingString ]")).isEqualTo(5);

    // "iss" matches the submodule iss/0; "is" matches nothing.
    assertThat(count(run("", "--src", log.toString(), "-r", "iss").out(), "[ To iss/0 ]"))
        .isEqualTo(3);
    Result none = run("", "--src", log.toString(), "-r", "is");
    assertThat(none.rc()).as("nothing matched").isEqualTo(3);
    assertThat(none.out()).isEmpty();
    assertThat(none.err()).contains("no event matches (8 events in the log)");

    assertThat(run("", "--src", log.toString(), "-n", "n2").out()).isEmpty();

    Result page = run("", "--src", log.toString(), "-r", "app", "--offset", "1", "--limit", "2");
    assertThat(page.out()).contains("\"a1\"", "\"a2\"").doesNotContain("\"a0\"", "\"a3\"");
    // Indexes count every event of the log, not only the matching ones.
    assertThat(page.out()).contains("[ Index #1 ]", "[ Index #2 ]");
  }

  @Test
  void printsJsonLines() throws Exception {
    Result r = run("", "--src", log.toString(), "--format", "json", "-e", "TestingUint");
    List<String> lines = r.out().lines().toList();
    assertThat(lines).hasSize(3);
    assertThat(lines.getFirst())
        .startsWith("{\"index\":5,\"node\":\"n1\",\"module\":\"iss\",\"timeMs\":10")
        .contains("\"dest\":\"iss/0\",\"type\":\"mir.core.TestingUint\"")
        .contains("\"followUps\":[{\"dest\":\"app\",\"type\":\"mir.core.TestingString\"")
        .contains("\"then0\"");
  }

  @Test
  void summaryCountsTypesDestinationsAndNodes() throws Exception {
    Result r = run("", "--src", log.toString(), "--summary");
    assertThat(r.rc()).isZero();
    assertThat(r.out())
        .contains("8 events")
        .containsPattern("\\s+5\\s+mir.core.TestingString")
        .containsPattern("\\s+3\\s+iss/0")
        .containsPattern("\\s+8\\s+n1");
  }

  @Test
  void interactiveSelectionFiltersAndPrintsTheEquivalentFlags() throws Exception {
    // Types are listed sorted: 1) TestingString 2) TestingUint; destinations: 1) app 2) iss/0.
    Result r = run("2\n\n", "--src", log.toString(), "-i");
    assertThat(r.rc()).isZero();
    assertThat(r.out()).contains("--event mir.core.TestingUint").doesNotContain("--event-dest");
    assertThat(count(r.out(), "[ TestingUint ]")).isEqualTo(3);
    assertThat(count(r.out(), "[ TestingString ]")).isZero();

    Result bad = run("7\n", "--src", log.toString(), "-i");
    assertThat(bad.rc()).isEqualTo(2);
    assertThat(bad.out()).contains("7 is not in 1..2");
  }

  @Test
  void badInputIsReportedClearly() throws Exception {
    Result missing = run("", "--src", dir.resolve("nope").toString());
    assertThat(missing.rc()).isEqualTo(2);
    assertThat(missing.err()).contains("no such file or directory");

    Result empty = run("", "--src", dir.toString());
    assertThat(empty.rc()).isEqualTo(2);
    assertThat(empty.err()).contains("no log files named eventlog-NNNNN.gz");

    Path garbage = dir.resolve("garbage.gz");
    Files.write(garbage, new byte[] {1, 2, 3, 4, 5});
    Result notGzip = run("", "--src", garbage.toString());
    assertThat(notGzip.rc()).isEqualTo(1);
    assertThat(notGzip.err()).startsWith("mircat: ").contains("garbage.gz");

    Result negative = run("", "--src", log.toString(), "--limit", "-1");
    assertThat(negative.rc()).isEqualTo(2);
  }

  @Test
  void aTruncatedLogIsShownUpToTheCutWithAWarning() throws Exception {
    Path file = Files.list(log).filter(p -> p.toString().endsWith(".gz")).findFirst().orElseThrow();
    byte[] bytes = Files.readAllBytes(file);
    Path cut = dir.resolve("cut.gz");
    Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length - 20));
    Result r = run("", "--src", cut.toString());
    assertThat(r.rc()).isZero();
    assertThat(r.err()).contains("the log ends early");
  }

  @Test
  void readsTheLogThatPingpongRecords() throws Exception {
    PingPongCommand pingpong = new PingPongCommand();
    new CommandLine(pingpong)
        .parseArgs(
            "--transport",
            "INPROCESS",
            "--rounds",
            "2",
            "--period-ms",
            "10",
            "--record",
            dir.resolve("pp").toString());
    ByteArrayOutputStream ignored = new ByteArrayOutputStream();
    assertThat(pingpong.run(new PrintStream(ignored, true, StandardCharsets.UTF_8))).isZero();

    Result r =
        run(
            "",
            "--src",
            dir.resolve("pp/node-0").toString(),
            "-e",
            "MessageReceived",
            "-r",
            "pingpong");
    assertThat(r.rc()).isZero();
    assertThat(r.out())
        .contains("[ MessageReceived ] [ Node #0 ]")
        .contains("mir.samples.pingpong.Pong");
  }
}
