package io.github.mirframework.trantor;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.github.mirframework.client.MirClient;
import io.github.mirframework.crypto.EcdsaCrypto;
import io.github.mirframework.crypto.EncodedKeyPair;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.types.ClientId;
import io.github.mirframework.types.NodeId;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash recovery of replica processes (issue 10, item 3, "processes"): 4 replicas, each its own JVM
 * ({@link ReplicaProcess}: {@link TrantorSystem} over gRPC with mutual TLS on fixed addresses from
 * a membership file, a file WAL, a checkpoint directory), and a {@link MirClient} submitting signed
 * requests at a steady rate. Three times, a replica is killed with SIGKILL ({@link
 * Process#destroyForcibly()}), each time one that leads a segment of the current epoch (a replica
 * killed before, if it leads again), and started again with the same arguments after 1 s.
 *
 * <p>Checked: every request's future completes (f+1 replicas sent the same result, its position in
 * the order); all replicas and all their incarnations applied the same request at every position;
 * no request at two positions, none applied twice by an incarnation, no node failure; the result
 * each client future got is the request's position in that common order; every replica's last
 * incarnation applied every request. Printed: restart-to-ready times (process start until the
 * replica applies at a position the others had reached when it was started, by ordering or state
 * transfer) and the ordering stall after each kill (the longest time without an applied request at
 * node 0 in the 10 s after the kill).
 *
 * <p>The client submits 40 requests per second until at least {@link #REQUESTS} (1,200; {@code
 * -Dmir.process.requests=N}) were submitted and 3 s have passed since the last restart: on a slow
 * machine the run is longer, but the kills always happen under load.
 */
@Timeout(240)
class ReplicaProcessCrashTest {
  static final int REQUESTS = Integer.getInteger("mir.process.requests", 1200);
  static final int RATE_PER_SECOND = 40;
  static final long PROPOSAL_PERIOD_MS = 200;
  static final String CLIENT = "loader";
  static final Duration DOWN = Duration.ofSeconds(1);

  static final int KILLS = 3;
  static final NodeId REFERENCE = NodeId.of(0);
  private static final java.util.regex.Pattern EPOCH_LINE =
      java.util.regex.Pattern.compile(
          "initializing epoch (\\d+) with \\d+ nodes, leaders \\[(.*)\\]");

  @TempDir Path dir;

  private final Map<NodeId, Process> processes = new ConcurrentHashMap<>();
  private final Map<NodeId, Integer> incarnations = new HashMap<>();
  private ScheduledExecutorService submitter;
  private MirClient client;
  private Path membershipFile;
  private Path clientKeyFile;

  @AfterEach
  void stopEverything() throws Exception {
    if (submitter != null) {
      submitter.shutdownNow();
      submitter.awaitTermination(10, TimeUnit.SECONDS);
    }
    if (client != null) {
      client.close();
    }
    for (Process p : processes.values()) {
      p.destroyForcibly();
    }
    for (Process p : processes.values()) {
      p.waitFor(20, TimeUnit.SECONDS);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Processes

  private Path nodeDir(NodeId id) {
    return dir.resolve("node-" + id.value());
  }

  private void startReplica(NodeId id) throws IOException {
    int inc = incarnations.merge(id, 1, Integer::sum);
    Path nd = Files.createDirectories(nodeDir(id));
    String classpath =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    List<String> cmd =
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx256m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-Dmir.test.log=" + nd.resolve("log-" + inc + ".txt"),
            "-cp",
            classpath,
            ReplicaProcess.class.getName(),
            membershipFile.toString(),
            id.value(),
            nd.toString(),
            clientKeyFile.toString(),
            CLIENT,
            Long.toString(PROPOSAL_PERIOD_MS));
    // Standard input stays a pipe from this JVM: the replica exits when it closes.
    Process p =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(nd.resolve("out-" + inc + ".txt").toFile())
            .start();
    processes.put(id, p);
  }

  private void kill(NodeId id) throws InterruptedException {
    Process p = processes.get(id);
    p.destroyForcibly(); // SIGKILL
    assertThat(p.waitFor(20, TimeUnit.SECONDS)).as("node %s died", id).isTrue();
  }

  // ---------------------------------------------------------------------------------------------
  // Replica logs (see ReplicaProcess)

  /** One line of a replica's log. */
  record Line(char kind, long a, String id, long time) {}

  private List<Line> log(NodeId id) throws IOException {
    Path f = nodeDir(id).resolve("applied.log");
    if (!Files.exists(f)) {
      return List.of();
    }
    List<Line> out = new ArrayList<>();
    for (String s : Files.readAllLines(f, StandardCharsets.UTF_8)) {
      String[] p = s.split(" ");
      try {
        switch (p[0]) {
          case "B", "S", "R" ->
              out.add(new Line(p[0].charAt(0), Long.parseLong(p[1]), "", Long.parseLong(p[2])));
          case "A" -> out.add(new Line('A', Long.parseLong(p[1]), p[2], Long.parseLong(p[3])));
          case "D" -> out.add(new Line('D', 0, p[1], Long.parseLong(p[2])));
          case "F" -> out.add(new Line('F', 0, s, 0));
          default -> {} // a line cut by a kill
        }
      } catch (RuntimeException e) {
        // a line cut by a kill
      }
    }
    return out;
  }

  /** The lines of the node's latest incarnation (from its last boot line). */
  private List<Line> lastIncarnation(NodeId id) throws IOException {
    List<Line> all = log(id);
    int from = 0;
    for (int i = 0; i < all.size(); i++) {
      if (all.get(i).kind() == 'B') {
        from = i;
      }
    }
    return all.subList(from, all.size());
  }

  /** How many requests the node's latest incarnation has applied (or restored). */
  private long progress(NodeId id) throws IOException {
    long n = 0;
    for (Line l : lastIncarnation(id)) {
      if (l.kind() == 'A') {
        n = Math.max(n, l.a() + 1);
      } else if (l.kind() == 'R') {
        n = Math.max(n, l.a());
      }
    }
    return n;
  }

  /** The latest epoch node 0 initialized and its leaders, from its ISS log. */
  private Map.Entry<Long, List<NodeId>> currentLeaders() throws IOException {
    Map.Entry<Long, List<NodeId>> latest = null;
    try (var files = Files.list(nodeDir(REFERENCE))) {
      for (Path f : files.filter(f -> f.getFileName().toString().startsWith("log-")).toList()) {
        for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
          java.util.regex.Matcher m = EPOCH_LINE.matcher(line);
          if (m.find()) {
            long epoch = Long.parseLong(m.group(1));
            if (latest == null || epoch >= latest.getKey()) {
              List<NodeId> leaders = new ArrayList<>();
              for (String l : m.group(2).split(", ")) {
                leaders.add(NodeId.of(l.trim()));
              }
              latest = Map.entry(epoch, leaders);
            }
          }
        }
      }
    }
    return latest;
  }

  private static void await(String what, Duration timeout, BooleanSupplier condition)
      throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - end > 0) {
        throw new AssertionError("timed out after " + timeout + " waiting for: " + what);
      }
      Thread.sleep(50);
    }
  }

  private interface IoSupplier {
    boolean get() throws IOException;
  }

  private static BooleanSupplier io(IoSupplier s) {
    return () -> {
      try {
        return s.get();
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    };
  }

  // ---------------------------------------------------------------------------------------------

  record Restart(
      NodeId node, long startMs, long target, long readyMs, long jvmStartMs, long upMs) {}

  @Test
  void replicasKilledWithSigkillUnderLoadRestartAndNothingAcknowledgedIsLost() throws Exception {
    long testStart = System.currentTimeMillis();
    List<NodeId> nodes = NodeId.range(4);
    List<Integer> ports = TrantorSystemTest.freePorts(8);
    List<MembershipFile.NodeSpec> specs = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      specs.add(
          new MembershipFile.NodeSpec(
              nodes.get(i),
              NodeAddress.loopback(ports.get(i)),
              NodeAddress.loopback(ports.get(4 + i)),
              false));
    }
    SecureRandom random = new SecureRandom();
    MembershipFile mf = MembershipFile.generate(dir.resolve("keys"), specs, random);
    membershipFile = mf.file();
    EncodedKeyPair clientKeys = EcdsaCrypto.generateKeyPair(random);
    clientKeyFile = dir.resolve("client.pub");
    Files.write(clientKeyFile, clientKeys.publicKey().toByteArray());

    for (NodeId id : nodes) {
      startReplica(id);
    }
    for (NodeId id : nodes) {
      await(
          "node " + id + " started",
          Duration.ofSeconds(60),
          io(() -> log(id).stream().anyMatch(l -> l.kind() == 'S')));
    }

    client =
        MirClient.builder(ClientId.of(CLIENT))
            .nodes(mf.clientAddresses())
            .tls(mf.publicKeys())
            .signingKey(clientKeys)
            .params(
                MirClient.Params.defaults()
                    .withReconnectDelays(Duration.ofMillis(50), Duration.ofMillis(500))
                    .withResubmission(
                        Duration.ofSeconds(1), Duration.ofSeconds(4), Duration.ofSeconds(120)))
            .build();
    client.start();
    Map<Long, CompletableFuture<ByteString>> futures = new ConcurrentHashMap<>();
    List<Long> submittedAt = new CopyOnWriteArrayList<>();
    java.util.concurrent.atomic.AtomicBoolean loadMayEnd =
        new java.util.concurrent.atomic.AtomicBoolean();
    submitter =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "test-submitter");
              t.setDaemon(true);
              return t;
            });
    long first = client.nextRequestNumber();
    submitter.scheduleAtFixedRate(
        () -> {
          if (submittedAt.size() < REQUESTS || !loadMayEnd.get()) {
            long reqNo = client.nextRequestNumber();
            futures.put(reqNo, client.submitAsync(ByteString.copyFromUtf8("request " + reqNo)));
            submittedAt.add(System.currentTimeMillis());
          }
        },
        0,
        1000 / RATE_PER_SECOND,
        TimeUnit.MILLISECONDS);

    // Kill a leader once node 0 applied 100 requests, and then each time once the previous victim
    // is ready again and node 0 applied 100 more since; keep it down for DOWN, start it again,
    // wait until it is ready. The load goes on meanwhile, whatever the machine's speed.
    List<Long> killTimes = new ArrayList<>();
    List<Restart> restarts = new ArrayList<>();
    List<NodeId> victims = new ArrayList<>();
    List<Long> victimEpochs = new ArrayList<>();
    for (int k = 0; k < KILLS; k++) {
      long threshold = (restarts.isEmpty() ? 0 : restarts.get(restarts.size() - 1).target()) + 100;
      await(
          "node 0 applied " + threshold + " requests",
          Duration.ofSeconds(120),
          io(() -> progress(REFERENCE) >= threshold));
      // The victim leads a segment of node 0's current epoch: the first victim killed before that
      // leads again (a replica killed several times), else node 1 if it leads, else the first
      // leader other than node 0.
      Map.Entry<Long, List<NodeId>> leaders = currentLeaders();
      List<NodeId> preferred = new ArrayList<>(victims);
      preferred.add(NodeId.of(1));
      NodeId victim =
          preferred.stream()
              .filter(leaders.getValue()::contains)
              .findFirst()
              .orElseGet(
                  () ->
                      leaders.getValue().stream()
                          .filter(n -> !n.equals(REFERENCE))
                          .findFirst()
                          .orElseThrow());
      victims.add(victim);
      victimEpochs.add(leaders.getKey());
      killTimes.add(System.currentTimeMillis());
      kill(victim);
      Thread.sleep(DOWN.toMillis()); // the scenario's downtime, not a synchronization
      long target = 0;
      for (NodeId n : nodes) {
        if (!n.equals(victim)) {
          target = Math.max(target, progress(n));
        }
      }
      long startMs = System.currentTimeMillis();
      startReplica(victim);
      long goal = target;
      await(
          "node " + victim + " ready again (at " + goal + ")",
          Duration.ofSeconds(60),
          io(() -> progress(victim) > goal));
      List<Line> inc = lastIncarnation(victim);
      long ready = Long.MAX_VALUE;
      long jvm = 0;
      long up = 0;
      for (Line l : inc) {
        if (l.kind() == 'S') {
          jvm = l.a();
          up = l.time();
        }
        boolean there = (l.kind() == 'A' && l.a() + 1 > goal) || (l.kind() == 'R' && l.a() > goal);
        if (there) {
          ready = Math.min(ready, l.time());
        }
      }
      restarts.add(new Restart(victim, startMs, goal, ready, jvm, up));
    }

    // The load goes on for 3 s after the last restart and until REQUESTS were submitted.
    Thread.sleep(3000);
    loadMayEnd.set(true);
    await(
        "at least " + REQUESTS + " requests submitted",
        Duration.ofSeconds(120),
        () -> submittedAt.size() >= REQUESTS);
    submitter.shutdown();
    assertThat(submitter.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    int total = submittedAt.size();
    assertThat(futures).hasSize(total);
    Map<Long, String> results = new TreeMap<>();
    for (Map.Entry<Long, CompletableFuture<ByteString>> e : futures.entrySet()) {
      ByteString r = e.getValue().get(120, TimeUnit.SECONDS);
      results.put(e.getKey(), r.toStringUtf8());
    }
    for (NodeId id : nodes) {
      await(
          "node " + id + " applied all " + total,
          Duration.ofSeconds(60),
          io(() -> progress(id) >= total));
    }

    // One order: every position holds the same request at every replica and incarnation.
    Map<Long, String> order = new TreeMap<>();
    List<String> problems = new ArrayList<>();
    Map<NodeId, List<Line>> logs = new LinkedHashMap<>();
    for (NodeId id : nodes) {
      List<Line> l = log(id);
      logs.put(id, l);
      for (Line line : l) {
        switch (line.kind()) {
          case 'A' -> {
            String prev = order.putIfAbsent(line.a(), line.id());
            if (prev != null && !prev.equals(line.id())) {
              problems.add(
                  "node " + id + " applied " + line.id() + " at " + line.a() + ", others " + prev);
            }
          }
          case 'D' -> problems.add("node " + id + " applied " + line.id() + " twice");
          case 'F' -> problems.add("node " + id + " failed: " + line.id());
          default -> {}
        }
      }
    }
    assertThat(problems).isEmpty();
    Set<String> expected = new HashSet<>();
    for (long r = first; r < first + total; r++) {
      expected.add(CLIENT + "." + r);
    }
    assertThat(order.keySet())
        .containsExactlyElementsOf(java.util.stream.LongStream.range(0, total).boxed().toList());
    assertThat(new HashSet<>(order.values())).isEqualTo(expected);
    for (Map.Entry<Long, String> e : results.entrySet()) {
      long position = Long.parseLong(e.getValue());
      assertThat(order.get(position))
          .as("request %s acknowledged at position %s", e.getKey(), position)
          .isEqualTo(CLIENT + "." + e.getKey());
    }

    // Figures.
    long end = System.currentTimeMillis();
    StringBuilder report = new StringBuilder();
    report.append(
        String.format(
            "%d signed requests at %d/s, 4 replica processes, proposal period %d ms, %d kills: all %d"
                + " futures completed, 0 lost, one order, none applied twice; %.1f s in all%n",
            total,
            RATE_PER_SECOND,
            PROPOSAL_PERIOD_MS,
            KILLS,
            results.size(),
            (end - testStart) / 1000.0));
    List<Long> node0 =
        logs.get(REFERENCE).stream()
            .filter(l -> l.kind() == 'A')
            .map(Line::time)
            .distinct()
            .sorted()
            .toList();
    long lastSubmission = submittedAt.get(submittedAt.size() - 1);
    for (int k = 0; k < KILLS; k++) {
      Restart r = restarts.get(k);
      report.append(
          String.format(
              "kill %d of node %s (a leader of epoch %d): ordering stall at node 0 %d ms; restart to ready %d ms"
                  + " (JVM start to system started %d ms; ready = applied beyond position %d)%n",
              k + 1,
              r.node(),
              victimEpochs.get(k),
              longestGap(
                  node0, killTimes.get(k), Math.min(killTimes.get(k) + 10_000, lastSubmission)),
              r.readyMs() - r.startMs(),
              r.upMs() - r.jvmStartMs(),
              r.target()));
    }
    report.append(
        String.format(
            "longest gap at node 0 in the 5 s before the first kill: %d ms%n",
            longestGap(node0, killTimes.get(0) - 5_000, killTimes.get(0))));
    System.out.print(report);
    Files.writeString(dir.resolve("report.txt"), report);
  }

  /** The longest time within [from, to] in which nothing in {@code times} (sorted) happened. */
  static long longestGap(List<Long> times, long from, long to) {
    long prev = from;
    long gap = 0;
    for (long t : times) {
      if (t <= from) {
        continue;
      }
      if (t > to) {
        break;
      }
      gap = Math.max(gap, t - prev);
      prev = t;
    }
    return Math.max(gap, to - prev);
  }
}
