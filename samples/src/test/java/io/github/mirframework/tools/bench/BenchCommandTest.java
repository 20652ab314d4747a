package io.github.mirframework.tools.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.mirframework.types.NodeId;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class BenchCommandTest {

  record Run(int rc, String out, String err) {}

  static Run run(String... args) {
    BenchCommand cmd = new BenchCommand();
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    StringWriter err = new StringWriter();
    CommandLine cl = new CommandLine(cmd);
    cl.setErr(new PrintWriter(err));
    cl.setExecutionStrategy(
        parse -> {
          try {
            return cmd.run(new PrintStream(buf, true, StandardCharsets.UTF_8));
          } catch (CommandLine.ParameterException e) {
            throw e;
          } catch (Exception e) {
            throw new CommandLine.ExecutionException(cl, "bench failed", e);
          }
        });
    int rc = cl.execute(args);
    return new Run(rc, buf.toString(StandardCharsets.UTF_8), err.toString());
  }

  private static double number(String json, String key) {
    Matcher m = Pattern.compile("\"" + key + "\": (null|-?[0-9.]+)").matcher(json);
    assertThat(m.find()).as("%s in %s", key, json).isTrue();
    return m.group(1).equals("null") ? Double.NaN : Double.parseDouble(m.group(1));
  }

  private static void assertSaneResults(Path dir, Run r) throws Exception {
    assertThat(r.rc()).as(r.out() + r.err()).isZero();
    for (String f :
        List.of(
            "results.json",
            "results.csv",
            "timeseries.csv",
            "throughput.png",
            "latency.png",
            "heap.png")) {
      assertThat(dir.resolve(f)).as(f).exists().isNotEmptyFile();
    }
    for (String png : List.of("throughput.png", "latency.png", "heap.png")) {
      byte[] head = java.util.Arrays.copyOf(Files.readAllBytes(dir.resolve(png)), 4);
      assertThat(head).as(png).containsExactly(0x89, 'P', 'N', 'G');
    }
    String json = Files.readString(dir.resolve("results.json"));
    double submitted = number(json, "submitted");
    double applied = number(json, "applied");
    double lost = number(json, "lost");
    assertThat(submitted).isPositive();
    // The drain waits for every request: a run without faults loses none.
    assertThat(lost).isZero();
    assertThat(applied).isEqualTo(submitted);
    assertThat(number(json, "throughput_req_per_s")).isGreaterThanOrEqualTo(0);
    assertThat(number(json, "applied_in_window")).isLessThanOrEqualTo(applied);
    assertThat(number(json, "heap_after_gc_bytes")).isPositive();
    assertThat(number(json, "heap_after_warmup_bytes")).isPositive();
    assertThat(number(json, "gc_ms_in_window")).isGreaterThanOrEqualTo(0);
    if (number(json, "latency_samples") > 0) {
      double p50 = number(json, "latency_p50_ms");
      double p99 = number(json, "latency_p99_ms");
      assertThat(p50).isPositive().isLessThanOrEqualTo(p99);
      assertThat(p99).isLessThanOrEqualTo(number(json, "latency_max_ms"));
      assertThat(number(json, "cpu_ms_per_req")).isPositive();
    }
    double inWindow = number(json, "applied_in_window");
    double batches = number(json, "batches_in_window");
    if (inWindow > 0) {
      // Batches of the observed replica with at least one request of the load, each of at most
      // --batch-size (1024) requests.
      assertThat(batches).isPositive().isLessThanOrEqualTo(inWindow);
      assertThat(number(json, "requests_per_batch")).isBetween(1.0, 1024.0);
    }
    List<String> ts = Files.readAllLines(dir.resolve("timeseries.csv"));
    assertThat(ts.get(0)).startsWith("second,phase,throughput");
    assertThat(ts.size()).isGreaterThan(1);
    List<String> csv = Files.readAllLines(dir.resolve("results.csv"));
    assertThat(csv).hasSize(2);
    assertThat(r.out())
        .contains("bench parameters:")
        .contains("batch-size")
        .contains("proposal-delay")
        .contains("batch-timeout")
        .contains("requests per batch")
        .contains("leaders")
        .contains(" req/s ")
        .contains("throughput");
  }

  @Test
  void theDefaultWarmupIsLongerWithOneJvmPerReplica() {
    BenchCommand inJvm = new BenchCommand();
    new picocli.CommandLine(inJvm).parseArgs();
    assertThat(inJvm.params().warmup()).isEqualTo(BenchCommand.WARMUP_IN_JVM);
    BenchCommand processes = new BenchCommand();
    new picocli.CommandLine(processes).parseArgs("--layout", "processes");
    assertThat(processes.params().warmup()).isEqualTo(BenchCommand.WARMUP_PROCESSES);
    BenchCommand given = new BenchCommand();
    new picocli.CommandLine(given).parseArgs("--layout", "processes", "--warmup", "5s");
    assertThat(given.params().warmup()).isEqualTo(java.time.Duration.ofSeconds(5));
    assertThat(given.params().batchTimeout()).isEqualTo(java.time.Duration.ofMillis(50));
  }

  private static List<String> benchThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .map(Thread::getName)
        .filter(
            n ->
                n.startsWith("bench-")
                    || n.startsWith("mir-client-")
                    || n.startsWith("mir-rr-")
                    || n.startsWith("mir-inproc-"))
        .collect(Collectors.toList());
  }

  @Test
  @Timeout(300)
  void aShortRunInOneJvmThroughMirClientWritesSaneResultsAndPlots(@TempDir Path dir)
      throws Exception {
    Run r =
        run(
            "--clients",
            "2",
            "--warmup",
            "1s",
            "--duration",
            "2s",
            "--drain",
            "120s",
            "--no-client-tls",
            "--out",
            dir.toString());
    assertSaneResults(dir, r);
    assertThat(r.out()).contains("grpc (MirClient)");
    assertThat(benchThreads()).isEmpty();
  }

  @Test
  @Timeout(300)
  void anOpenLoopRunWithDirectSubmissionWritesSaneResults(@TempDir Path dir) throws Exception {
    Run r =
        run(
            "--submit",
            "direct",
            "--rate",
            "50",
            "--clients",
            "3",
            "--request-size",
            "100",
            "--warmup",
            "0s",
            "--duration",
            "2s",
            "--drain",
            "120s",
            "--leaders",
            "2",
            "--out",
            dir.toString());
    assertSaneResults(dir, r);
    assertThat(r.out()).contains("open loop").contains("50 req/s");
    assertThat(benchThreads()).isEmpty();
  }

  @Test
  @Timeout(400)
  void oneReplicaProcessIsStartedAndStoppedWithTheBench(@TempDir Path dir) throws Exception {
    Run r =
        run(
            "--layout",
            "processes",
            "--nodes",
            "1",
            "--clients",
            "1",
            "--warmup",
            "0s",
            "--duration",
            "2s",
            "--drain",
            "120s",
            "--no-client-tls",
            "--replica-jvm-options",
            "-Xmx256m -XX:TieredStopAtLevel=1",
            "--out",
            dir.toString());
    assertSaneResults(dir, r);
    assertThat(r.out()).contains("started 1 replica processes");
    assertThat(dir.resolve("replica-0.log")).exists();
    assertThat(ProcessHandle.current().children().filter(ProcessHandle::isAlive).toList())
        .isEmpty();
    assertThat(benchThreads()).isEmpty();
  }

  @Test
  void invalidOptionsAreRejectedWithTheirNames() {
    Map<List<String>, String> cases =
        Map.of(
            List.of("--leaders", "5"), "--leaders must be between 1 and --nodes (4)",
            List.of("--submit", "direct", "--layout", "processes"),
                "--submit direct needs --layout in-jvm",
            List.of("--duration", "5x"), "'5x' is not a duration",
            List.of("--clients", "0"), "--clients must be between",
            List.of("--role", "replica"), "--role replica needs --id",
            List.of("--role", "client"), "--role client needs --membership",
            List.of("--id", "1"), "--id and --spawned are for --role replica",
            List.of("--layout", "cloud"), "'cloud' is not a layout",
            List.of("--batch-size", "0", "--segment-length", "0"),
                "--segment-length must be at least 1");
    cases.forEach(
        (args, message) -> {
          Run r = run(args.toArray(String[]::new));
          assertThat(r.rc()).as("%s", args).isEqualTo(2);
          assertThat(r.err()).as("%s", args).contains(message);
          assertThat(r.out()).as("%s", args).doesNotContain("throughput");
        });
    Run both = run("--batch-size", "0", "--segment-length", "0");
    assertThat(both.err()).contains("--batch-size must be at least 1");
  }

  @Test
  void membershipFilesAreValidatedWithLineNumbers() {
    Map<NodeId, MembershipFile.Entry> ok =
        MembershipFile.parse(
            List.of("# replicas", "0 10.0.0.1 7000 7001 7002", "", "1 10.0.0.2 7000 7001 7002 # b"),
            "m.txt");
    assertThat(ok.keySet()).containsExactly(NodeId.of("0"), NodeId.of("1"));
    assertThat(ok.get(NodeId.of("1")).requests().port()).isEqualTo(7001);
    Map<List<String>, String> bad =
        Map.of(
            List.of("0 h 1 2"), "m.txt:1: expected 'ID HOST",
            List.of("0 h 1 2 3", "0 g 4 5 6"), "m.txt:2: node 0 is listed twice",
            List.of("0 h 1 2 70000"), "m.txt:1: port '70000' is not in 1..65535",
            List.of("0 h 1 1 3"), "m.txt:1: address h:1 is used twice",
            List.of("# nothing"), "m.txt: no replica listed");
    bad.forEach(
        (lines, message) ->
            assertThat(
                    org.assertj.core.api.Assertions.catchThrowable(
                        () -> MembershipFile.parse(lines, "m.txt")))
                .as("%s", lines)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message));
  }

  @Test
  void durationsParseAndPrint() {
    assertThat(Durations.parse("250ms").toMillis()).isEqualTo(250);
    assertThat(Durations.parse("30").toSeconds()).isEqualTo(30);
    assertThat(Durations.parse("2m").toSeconds()).isEqualTo(120);
    assertThat(Durations.format(Durations.parse("1500ms"))).isEqualTo("1500ms");
    assertThat(Durations.format(Durations.parse("120s"))).isEqualTo("2m");
  }

  @Test
  void firstLeadersPolicyChoosesThePrefixAndKeepsItsCountOnReconfiguration() {
    FirstLeadersPolicy p = new FirstLeadersPolicy(NodeId.range(4), 2);
    assertThat(p.leaders(new io.github.mirframework.types.EpochNr(3)))
        .containsExactly(NodeId.of("0"), NodeId.of("1"));
    assertThat(
            p.reconfigure(List.of(NodeId.of("5")))
                .leaders(new io.github.mirframework.types.EpochNr(0)))
        .containsExactly(NodeId.of("5"));
  }

  @Test
  void clientIdsRoundTripAndForeignIdsAreIgnored() {
    assertThat(BenchApp.clientIndex(BenchApp.clientId(42))).isEqualTo(42);
    assertThat(BenchApp.clientIndex("client0")).isEqualTo(-1);
    assertThat(BenchApp.clientIndex("c")).isEqualTo(-1);
    assertThat(BenchApp.clientIndex("c99999999999")).isEqualTo(-1);
  }
}
