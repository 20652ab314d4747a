package io.github.mirframework.flood;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.mirframework.client.MirClient;
import io.github.mirframework.client.RequestReceiver;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.net.grpc.GrpcTransport;
import io.github.mirframework.net.grpc.NodeIdentity;
import io.github.mirframework.types.ClientId;
import io.github.mirframework.types.NodeId;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Floods against a running 4-node Trantor deployment ({@link FloodDeployment}) while correct
 * clients submit signed requests at a steady rate. For each flood: the correct nodes keep ordering
 * during it, every submitted request is applied exactly once at every correct node after it (none
 * lost, none twice, same order), the live heap (after full collections) stays below half of the
 * heap, and the figures (requests/s ordered with and without the flood, request latency, heap,
 * descriptors) are printed as one {@code FLOOD-FIGURES} line and appended to {@code
 * target/flood-figures.txt}. docs/security.md describes the floods and has their figures.
 *
 * <p>Runs in its own JVM with a small fixed heap (the {@code flood-test} execution of surefire in
 * mir-iss/pom.xml, {@code -Xmx256m}, exiting on {@link OutOfMemoryError}), so a leak fails it.
 * Every flood is bounded in count and in time, uses the loopback interface only, and is closed with
 * the deployment after each test. Counts (defaults small enough for a 2-core CI machine; the
 * figures in docs/security.md use the larger counts) are set with system properties:
 *
 * <ul>
 *   <li>{@code mir.flood.rate}: requests per second of the correct clients (200)
 *   <li>{@code mir.flood.connections}: idle TCP connections (10,000)
 *   <li>{@code mir.flood.handshakes}: TLS handshakes, half stalled, half with a bad certificate
 *       (2,000)
 *   <li>{@code mir.flood.streams}: streams of one 64 KiB frame each opened by a Byzantine member
 *       (2,000)
 *   <li>{@code mir.flood.maxSizeFrames}: frames of the largest accepted size (4 MiB) that a
 *       Byzantine member gets into the node (100)
 *   <li>{@code mir.flood.clientRequests}: requests of unregistered clients and requests forged in
 *       the correct clients' names, to all four client ports (50,000)
 *   <li>{@code mir.flood.baselineSeconds}: the measurement without flood (4)
 *   <li>{@code mir.flood.maxSeconds}: the longest a flood may run (40)
 *   <li>{@code mir.flood.defaultBuffers}: keep the replicas' default buffer sizes (false)
 * </ul>
 */
@Tag("flood")
// Every wait in a test is bounded (warm-up and drain 90 s each, the flood mir.flood.maxSeconds),
// so a test ends by itself; this is a last guard, long enough for the large counts.
@Timeout(value = 20, unit = TimeUnit.MINUTES)
class TrantorFloodTest {
  static final NodeId TARGET = NodeId.of("0");
  static final NodeId BYZANTINE = NodeId.of("3");
  static final double RATE = Double.parseDouble(System.getProperty("mir.flood.rate", "200"));
  static final int CONNECTIONS = Integer.getInteger("mir.flood.connections", 10_000);
  static final int HANDSHAKES = Integer.getInteger("mir.flood.handshakes", 2_000);
  static final int STREAMS = Integer.getInteger("mir.flood.streams", 2_000);
  static final int MAX_SIZE_FRAMES = Integer.getInteger("mir.flood.maxSizeFrames", 100);
  static final int CLIENT_REQUESTS = Integer.getInteger("mir.flood.clientRequests", 50_000);
  static final Duration BASELINE =
      Duration.ofSeconds(Integer.getInteger("mir.flood.baselineSeconds", 4));
  static final Duration MAX_FLOOD =
      Duration.ofSeconds(Integer.getInteger("mir.flood.maxSeconds", 40));
  static final long MIB = 1 << 20;
  static final Duration LIVE_HEAP_PERIOD = Duration.ofSeconds(5);

  FloodDeployment dep;
  ResourceMonitor monitor;
  Flood flood;

  @BeforeEach
  void startDeployment() throws Exception {
    dep = new FloodDeployment(2, Duration.ofMillis(250));
    Map<String, LongSupplier> gauges = new LinkedHashMap<>();
    gauges.put("attacker_sockets", () -> flood == null ? 0 : flood.openSockets());
    gauges.put("node0_transport_conns", () -> transport(TARGET).openConnectionCount());
    gauges.put("node0_client_conns", () -> receiver(TARGET).openConnections());
    gauges.put("node0_buffered_events", () -> dep.system(TARGET).node().bufferedEvents());
    gauges.put("node0_applied", () -> dep.applied(TARGET));
    monitor = new ResourceMonitor(gauges);
  }

  @AfterEach
  void stopEverything() throws Exception {
    try {
      if (flood != null) {
        flood.close();
      }
    } finally {
      try {
        if (dep != null) {
          dep.close();
        }
      } finally {
        if (monitor != null) {
          monitor.close();
        }
      }
    }
  }

  GrpcTransport transport(NodeId id) {
    return dep.transports.get(id);
  }

  RequestReceiver receiver(NodeId id) {
    return dep.system(id).requestReceiver().orElseThrow();
  }

  /**
   * At most {@code wanted} sockets for the attacker, fewer if the process may not open that many
   * descriptors: the attacker's sockets plus as many accepted by node 0 must leave room for the
   * rest of the JVM.
   */
  static int attackerSockets(int wanted) {
    long limit = 20_000;
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
        if (line.startsWith("Max open files")) {
          String soft = line.substring("Max open files".length()).trim().split("\\s+")[0];
          limit = soft.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(soft);
        }
      }
    } catch (IOException | RuntimeException e) {
      // Not Linux: assume enough.
    }
    return (int) Math.max(64, Math.min(wanted, (limit - 1024) / 2));
  }

  static InetSocketAddress socket(NodeAddress a) {
    return new InetSocketAddress(a.host(), a.port());
  }

  /** Node 0's transport and client ports. */
  List<InetSocketAddress> bothPorts() {
    return List.of(socket(dep.transportAddress(TARGET)), socket(dep.clientAddress(TARGET)));
  }

  @Test
  void idleConnectionFloodOnBothPorts() throws Exception {
    flood =
        new IdleConnectionFlood(
            "idle-connections", bothPorts(), CONNECTIONS, attackerSockets(4096));
    runOnBothPorts();
    assertThat(flood.counters().get("opened")).isEqualTo(CONNECTIONS);
  }

  @Test
  void tlsHandshakeFloodOnBothPorts() throws Exception {
    flood =
        new TlsHandshakeFlood(
            "tls-handshakes",
            bothPorts(),
            HANDSHAKES,
            attackerSockets(2048),
            NodeIdentity.insecureForTesting(NodeId.of("stranger"), 99));
    runOnBothPorts();
    assertThat(flood.counters().get("handshakes")).isEqualTo(HANDSHAKES);
  }

  @Test
  void streamChurnByAByzantineMember() throws Exception {
    flood =
        new StreamChurnFlood(
            "stream-churn",
            dep.transportAddress(TARGET),
            dep.identities.get(BYZANTINE),
            dep.nodeKeys.get(TARGET),
            STREAMS,
            64 << 10);
    runAsByzantineMember();
    assertThat(flood.counters().get("streams")).isEqualTo(STREAMS);
  }

  @Test
  void maxSizeMessageFloodByAByzantineMember() throws Exception {
    long dropped0 = dep.system(TARGET).node().droppedMessages();
    flood =
        new MaxSizeMessageFlood(
            "max-size-messages",
            dep.transportAddress(TARGET),
            dep.identities.get(BYZANTINE),
            dep.nodeKeys.get(TARGET),
            MAX_SIZE_FRAMES,
            // Every fourth junk frame is for a module that takes no network input: the node drops
            // and counts it after it went through the transport and the node's buffers.
            () -> 4 * (dep.system(TARGET).node().droppedMessages() - dropped0),
            GrpcTransport.Params.DEFAULT_MAX_MESSAGE_SIZE);
    runAsByzantineMember();
    assertThat(flood.counters().get("frames_received")).isGreaterThanOrEqualTo(MAX_SIZE_FRAMES);
  }

  @Test
  void freshAndForgedClientFloodOnEveryClientPort() throws Exception {
    List<ClientIdFlood.Target> targets = new ArrayList<>();
    for (NodeId id : FloodDeployment.NODES) {
      targets.add(new ClientIdFlood.Target(dep.clientAddress(id), dep.nodeKeys.get(id)));
    }
    Map<ClientId, LongSupplier> victims = new LinkedHashMap<>();
    for (MirClient c : dep.clients) {
      victims.put(c.id(), c::nextRequestNumber);
    }
    long rejected0 = rejectedByReceivers();
    flood =
        new ClientIdFlood(
            "fresh-and-forged-clients",
            targets,
            CLIENT_REQUESTS,
            victims,
            () -> rejectedByReceivers() - rejected0);
    Figures f = run(Set.copyOf(FloodDeployment.NODES));
    f.report(Map.of());
    Map<String, Long> c = flood.counters();
    assertThat(c.get("requests_sent")).isEqualTo(CLIENT_REQUESTS);
    // Every request the receivers read was refused: those of the reading streams, and those of
    // the silent streams read before the receivers stopped reading them.
    assertThat(c.get("rejected_by_receivers"))
        .isBetween(
            CLIENT_REQUESTS - c.get("requests_sent_on_silent_streams"), (long) CLIENT_REQUESTS);
  }

  private long rejectedByReceivers() {
    return FloodDeployment.NODES.stream().mapToLong(id -> receiver(id).rejectedCount()).sum();
  }

  /**
   * Runs {@link #flood}, an attack on node 0's transport and client ports by a stranger: every node
   * is a correct one. Reports node 0's refused connections on both ports and its client port's
   * handshake timeouts with the figures.
   */
  private void runOnBothPorts() throws Exception {
    long refusedT0 = transport(TARGET).refusedConnectionCount();
    long refusedC0 = receiver(TARGET).refusedConnectionsCount();
    long timeoutsC0 = receiver(TARGET).handshakeTimeoutsCount();
    Figures f = run(Set.copyOf(FloodDeployment.NODES));
    Map<String, Long> node = new TreeMap<>();
    node.put("node0_transport_refused", transport(TARGET).refusedConnectionCount() - refusedT0);
    node.put("node0_client_refused", receiver(TARGET).refusedConnectionsCount() - refusedC0);
    node.put(
        "node0_client_handshake_timeouts", receiver(TARGET).handshakeTimeoutsCount() - timeoutsC0);
    f.report(node);
  }

  /**
   * Runs {@link #flood}, an attack by node 3 (its key) on node 0's transport port: nodes 0 to 2 are
   * the correct ones. Node 3's own replica keeps running, so its streams to node 0 compete with the
   * attacker's.
   */
  private void runAsByzantineMember() throws Exception {
    GrpcTransport t = transport(TARGET);
    long received0 = t.receivedCount();
    long refused0 = t.refusedStreamCount();
    long dropped0 = dep.system(TARGET).node().droppedMessages();
    Figures f = run(Set.of(NodeId.of("0"), NodeId.of("1"), NodeId.of("2")));
    Map<String, Long> node = new TreeMap<>();
    node.put("node0_received", t.receivedCount() - received0);
    node.put("node0_refused_streams", t.refusedStreamCount() - refused0);
    node.put("node0_dropped_by_node", dep.system(TARGET).node().droppedMessages() - dropped0);
    f.report(node);
  }

  /** Figures of one flood. */
  final class Figures {
    final Map<String, String> values = new LinkedHashMap<>();

    void put(String key, Object value) {
      values.put(key, String.valueOf(value));
    }

    void report(Map<String, Long> extra) {
      extra.forEach(this::put);
      flood.counters().forEach((k, v) -> put("attack_" + k, v));
      StringBuilder line = new StringBuilder("FLOOD-FIGURES");
      values.forEach((k, v) -> line.append(' ').append(k).append('=').append(v));
      System.out.println(line);
      try {
        Files.writeString(
            Path.of(System.getProperty("mir.flood.figures", "target/flood-figures.txt")),
            line + System.lineSeparator(),
            StandardCharsets.UTF_8,
            StandardOpenOption.CREATE,
            StandardOpenOption.APPEND);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /**
   * Runs the current {@link #flood} against the running deployment: load alone (baseline), load
   * with the flood until the flood ends by itself (or {@link #MAX_FLOOD}), then load stopped and
   * every request awaited; checks that the {@code correct} nodes ordered during the flood and
   * applied every request exactly once, and that the heap stayed bounded.
   */
  Figures run(Set<NodeId> correct) throws Exception {
    Load load = dep.startLoad(RATE);
    long warm = (long) (RATE * 2);
    await(
        "warm-up: " + warm + " requests applied everywhere",
        Duration.ofSeconds(90),
        () -> correct.stream().allMatch(id -> dep.applied(id) >= warm));

    long b0 = System.nanoTime();
    Map<NodeId, Long> a0 = appliedCounts();
    hold(BASELINE);
    long baselineLive = heapAfterFullCollection();
    long b1 = System.nanoTime();
    Map<NodeId, Long> a1 = appliedCounts();

    // The live heap (after a full collection, so only what is reachable counts) is sampled every
    // LIVE_HEAP_PERIOD during the flood and at its end, while the attacker's connections are still
    // open; the monitor also records the heap after every collection the JVM makes by itself.
    flood.start();
    long deadline = b1 + MAX_FLOOD.toNanos();
    long nextLiveSample = b1 + LIVE_HEAP_PERIOD.toNanos();
    long peakLive = 0;
    while (!flood.finished() && System.nanoTime() < deadline) {
      dep.checkNoFailure();
      if (System.nanoTime() >= nextLiveSample) {
        peakLive = Math.max(peakLive, heapAfterFullCollection());
        nextLiveSample = System.nanoTime() + LIVE_HEAP_PERIOD.toNanos();
      }
      LockSupport.parkNanos(20_000_000);
    }
    long f1 = System.nanoTime();
    Map<NodeId, Long> a2 = appliedCounts();
    boolean completed = flood.finished();
    long heapAtEnd = heapAfterFullCollection();
    peakLive = Math.max(peakLive, heapAtEnd);
    flood.close();
    long heapAfter = heapAfterFullCollection();
    load.stop();
    long submitted = load.submitted();
    await(
        "every correct node applies all " + submitted + " requests",
        Duration.ofSeconds(90),
        () -> correct.stream().allMatch(id -> dep.applied(id) >= submitted) && load.allDone());
    long end = System.nanoTime();
    dep.checkNoFailure();

    // Nothing lost, nothing twice, the same order everywhere.
    Map<String, Long> perClient = load.submittedPerClient();
    FloodApp.State reference = null;
    for (NodeId id : correct) {
      FloodApp.State s = dep.apps.get(id).state();
      assertThat(s.count()).as("requests applied by node %s", id).isEqualTo(submitted);
      assertThat(s.duplicates()).as("requests applied twice by node %s", id).isZero();
      assertThat(s.forged()).as("forged requests applied by node %s", id).isZero();
      assertThat(s.applied().keySet()).as("clients at node %s", id).isEqualTo(perClient.keySet());
      perClient.forEach(
          (c, n) -> {
            BitSet expected = new BitSet();
            expected.set(0, (int) (long) n);
            assertThat(s.of(c)).as("requests of %s applied by node %s", c, id).isEqualTo(expected);
          });
      if (reference == null) {
        reference = s;
      } else {
        assertThat(s.orderDigest()).as("order at node %s", id).isEqualTo(reference.orderDigest());
      }
    }
    assertThat(load.failed()).as("client requests that failed").isZero();
    for (NodeId id : correct) {
      assertThat(a2.get(id) - a1.get(id))
          .as("requests node %s applied during the flood", id)
          .isPositive();
    }

    // What the nodes and the attacker hold must stay well below the heap during the flood and
    // after it; a buffer too large for the heap ends this JVM with an OutOfMemoryError before.
    long maxHeap = Runtime.getRuntime().maxMemory();
    long liveBound = Math.min(maxHeap / 2, 128 * MIB);
    assertThat(peakLive).as("live heap during the flood").isLessThan(liveBound);
    assertThat(heapAfter).as("live heap after the flood").isLessThan(liveBound);

    Figures f = new Figures();
    double baseSec = (b1 - b0) / 1e9;
    double floodSec = (f1 - b1) / 1e9;
    f.put("flood", flood.name());
    f.put("completed", completed);
    f.put("flood_s", fmt(floodSec));
    f.put("offered_rps", fmt(RATE));
    f.put("baseline_rps", fmt((a1.get(TARGET) - a0.get(TARGET)) / baseSec));
    f.put("flood_rps", fmt((a2.get(TARGET) - a1.get(TARGET)) / floodSec));
    f.put(
        "flood_rps_min_correct",
        fmt(correct.stream().mapToLong(id -> a2.get(id) - a1.get(id)).min().orElse(0) / floodSec));
    long[] lb = load.latencies(b0, b1);
    long[] lf = load.latencies(b1, f1);
    f.put("baseline_p50_ms", ms(Load.quantile(lb, 0.5)));
    f.put("baseline_p99_ms", ms(Load.quantile(lb, 0.99)));
    f.put("flood_p50_ms", ms(Load.quantile(lf, 0.5)));
    f.put("flood_p99_ms", ms(Load.quantile(lf, 0.99)));
    f.put("applied", submitted);
    f.put("lost", 0);
    f.put("duplicates", 0);
    f.put("drain_s", fmt((end - f1) / 1e9));
    f.put("max_heap_mib", maxHeap / MIB);
    f.put("baseline_peak_heap_mib", peak(monitor.samples(b0, b1), true) / MIB);
    f.put("peak_heap_mib", peak(monitor.samples(b1, f1), true) / MIB);
    f.put("baseline_live_heap_mib", baselineLive / MIB);
    f.put("peak_live_heap_mib", peakLive / MIB);
    f.put("live_heap_after_flood_mib", heapAfter / MIB);
    f.put("peak_heap_after_young_gc_mib", monitor.peakLiveHeap(b1, f1) / MIB);
    f.put("gcs", monitor.collections(b1, f1));
    f.put("baseline_fds", peak(monitor.samples(b0, b1), false));
    f.put("peak_fds", peak(monitor.samples(b1, f1), false));
    f.put("peak_attacker_sockets", monitor.peakGauge("attacker_sockets", b1, f1));
    f.put("peak_node0_transport_conns", monitor.peakGauge("node0_transport_conns", b1, f1));
    f.put("peak_node0_client_conns", monitor.peakGauge("node0_client_conns", b1, f1));
    f.put("peak_node0_buffered_events", monitor.peakGauge("node0_buffered_events", b1, f1));
    f.put(
        "peak_rss_mib",
        monitor.samples(b1, f1).stream()
                .mapToLong(ResourceMonitor.Sample::rssBytes)
                .max()
                .orElse(-1)
            / MIB);
    return f;
  }

  private static long heapAfterFullCollection() {
    System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  private static long peak(List<ResourceMonitor.Sample> samples, boolean heap) {
    return samples.stream().mapToLong(s -> heap ? s.heapUsed() : s.fds()).max().orElse(-1);
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, "%.1f", v);
  }

  private static long ms(long nanos) {
    return nanos < 0 ? -1 : nanos / 1_000_000;
  }

  private Map<NodeId, Long> appliedCounts() {
    Map<NodeId, Long> m = new TreeMap<>();
    for (NodeId id : FloodDeployment.NODES) {
      m.put(id, dep.applied(id));
    }
    return m;
  }

  /**
   * Lets the deployment run for {@code d} (a measurement window), failing early if a node fails.
   */
  private void hold(Duration d) {
    long end = System.nanoTime() + d.toNanos();
    while (System.nanoTime() < end) {
      dep.checkNoFailure();
      LockSupport.parkNanos(20_000_000);
    }
  }

  private void await(String what, Duration timeout, BooleanSupplier condition) {
    long end = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      dep.checkNoFailure();
      if (System.nanoTime() > end) {
        throw new AssertionError(
            "timed out waiting for: "
                + what
                + "; applied "
                + appliedCounts()
                + ", submitted "
                + (dep.load == null ? 0 : dep.load.submitted())
                + dep.diagnostics()
                + "\n  node 0 applied, one sample per second: "
                + monitor.timeline("node0_applied", 10));
      }
      LockSupport.parkNanos(20_000_000);
    }
  }
}
