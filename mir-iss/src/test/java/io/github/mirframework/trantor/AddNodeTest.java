package io.github.mirframework.trantor;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.github.mirframework.checkpoint.StableCheckpoints;
import io.github.mirframework.checkpoint.pb.StableCheckpoint;
import io.github.mirframework.client.ClientEvents;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.crypto.PseudoCrypto;
import io.github.mirframework.event.EventList;
import io.github.mirframework.mempool.SimpleMempool;
import io.github.mirframework.module.Module;
import io.github.mirframework.net.Membership;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.net.Transport;
import io.github.mirframework.net.grpc.GrpcTransportProvider;
import io.github.mirframework.sim.Simulation;
import io.github.mirframework.testing.Deployment;
import io.github.mirframework.types.ClientId;
import io.github.mirframework.types.EpochNr;
import io.github.mirframework.types.LittleEndian;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Adding a node, end to end: a 4-node Trantor system whose application decides, in epoch 1, a
 * membership with a fifth node (it governs epoch 1 + ConfigOffset = 3). Node 4 starts from the
 * genesis checkpoint, in which it is no member; it joins by state transfer (a stable checkpoint
 * pushed by the others once it is a member of their epoch) and then takes part in ordering:
 * requests submitted <em>only to node 4</em> are applied by every node, which happens only if node
 * 4 leads a segment and its proposals are committed. Every run is checked with {@link
 * SmrProperties} on the recorded event logs.
 *
 * <p>A node that was partitioned across the addition must catch up after healing, although the
 * checkpoints it is pushed are signed by the added node, which it does not know (see
 * docs/iss-parts.md, "Verifying a pushed checkpoint").
 */
@Timeout(120)
class AddNodeTest {
  static final List<NodeId> FIVE = NodeId.range(5);
  static final List<NodeId> FOUR = FIVE.subList(0, 4);
  static final NodeId NEW = NodeId.of("4");
  static final ModuleId TIMER = ModuleId.of("timer");
  static final ModuleId WAL = ModuleId.of("wal");

  static LongStream seeds() {
    String s = System.getProperty("mir.sim.seed");
    return s == null || s.isBlank()
        ? LongStream.rangeClosed(1, 2)
        : LongStream.of(Long.parseLong(s));
  }

  /**
   * Counts applied requests (its state) and decides the membership: the 5-node one from epoch 1 on.
   * Thread-safe for reading.
   */
  static final class GrowingApp implements AppLogic {
    final Membership four;
    final Membership five;
    final AtomicInteger applied = new AtomicInteger();
    final AtomicLong epoch = new AtomicLong();
    final AtomicInteger restores = new AtomicInteger();

    GrowingApp(Membership four, Membership five) {
      this.four = four;
      this.five = five;
    }

    @Override
    public void applyTxs(List<Request> txs) {
      applied.addAndGet(txs.size());
    }

    @Override
    public Membership newEpoch(EpochNr e) {
      epoch.set(e.value());
      return e.value() >= 1 ? five : four;
    }

    @Override
    public ByteString snapshot() {
      return ByteString.copyFrom(LittleEndian.u64(applied.get()));
    }

    @Override
    public void restoreState(StableCheckpoint checkpoint) {
      applied.set((int) LittleEndian.u64(checkpoint.getSnapshot().getAppData().toByteArray()));
      epoch.set(StableCheckpoints.epoch(checkpoint).value());
      restores.incrementAndGet();
    }
  }

  /** One system of five nodes (node 4 joins later) and what the test observes of it. */
  static final class System5 {
    final Map<NodeId, GrowingApp> apps = new ConcurrentHashMap<>();
    final Duration period;
    volatile Membership four;
    volatile Membership five;
    volatile Trantor.Params params;
    volatile StableCheckpoint genesis;

    System5(Duration period) {
      this.period = period;
    }

    /** Fixes the memberships (with the nodes' real addresses, if known) and the genesis. */
    synchronized void init(Map<NodeId, NodeAddress> addresses) {
      if (params != null) {
        return;
      }
      five = Membership.of(addresses);
      four = five.without(NEW);
      params = Trantor.Params.defaults(four).adjustSpeed(period);
      genesis = Trantor.genesisCheckpoint(ByteString.copyFrom(LittleEndian.u64(0)), params);
    }

    Map<ModuleId, Module> node(NodeId id, Module transport, Module timer, Module wal) {
      GrowingApp app = new GrowingApp(four, five);
      apps.put(id, app);
      Map<ModuleId, Module> m;
      if (transport instanceof Transport t) {
        // A real transport: the app module connects it to each new membership.
        m = Trantor.modules(id, t, genesis, PseudoCrypto.create(FIVE, id), app, params);
      } else {
        m = Trantor.modules(id, null, genesis, PseudoCrypto.create(FIVE, id), app, params);
        m.put(Trantor.NET, transport);
      }
      m.put(TIMER, timer);
      m.put(WAL, wal);
      return m;
    }

    boolean all(List<NodeId> nodes, java.util.function.Predicate<GrowingApp> p) {
      return nodes.stream().allMatch(id -> apps.containsKey(id) && p.test(apps.get(id)));
    }

    String progress() {
      return apps.entrySet().stream()
          .sorted(Map.Entry.comparingByKey())
          .map(
              e ->
                  e.getKey()
                      + ": epoch "
                      + e.getValue().epoch.get()
                      + ", applied "
                      + e.getValue().applied.get()
                      + ", restores "
                      + e.getValue().restores.get())
          .collect(Collectors.joining("; "));
    }
  }

  static Map<NodeId, NodeAddress> fakeAddresses() {
    Map<NodeId, NodeAddress> m = new LinkedHashMap<>();
    for (NodeId id : FIVE) {
      m.put(id, NodeAddress.of("10.0.0." + id.value(), 7000));
    }
    return m;
  }

  static List<Request> requests(String client, int n) {
    List<Request> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(
          ClientEvents.request(
              ClientId.of(client), i, ByteString.copyFromUtf8(client + " request " + i)));
    }
    return out;
  }

  static void submit(Deployment d, List<NodeId> to, List<Request> reqs) {
    for (NodeId id : to) {
      d.inject(id, EventList.of(ClientEvents.newRequests(SimpleMempool.DEFAULT_ID, reqs)));
    }
  }

  static void await(Deployment d, System5 s, BooleanSupplier condition, String what, Duration max)
      throws InterruptedException {
    assertThat(d.runUntil(condition, max)).as("%s within %s: %s", what, max, s.progress()).isTrue();
  }

  static Deployment simulation(long seed, System5 s, Path logs, NodeId... startLater) {
    s.init(fakeAddresses());
    return Deployment.builder(Deployment.Kind.SIMULATED)
        .seed(seed)
        .nodes(FIVE)
        .recordEventsTo(logs)
        .startLater(startLater)
        .factory((id, env) -> s.node(id, env.transport(), env.timer(), env.wal()))
        .build();
  }

  /** Checks the SMR properties on all five logs, and that node 4 joined by state transfer. */
  static void checkLogs(Map<NodeId, List<Path>> logs, List<Request> submitted) {
    SmrProperties.Result r = SmrProperties.check(logs, submitted);
    assertThat(r.violations()).as("SMR properties on the recorded logs").isEmpty();
    assertThat(r.restores().get(NEW)).as("state transfers of the added node").isPositive();
    for (NodeId id : FIVE) {
      assertThat(r.applied().get(id)).as("final state of node %s", id).isEqualTo(submitted.size());
    }
  }

  @ParameterizedTest(name = "seed={0}")
  @MethodSource("seeds")
  void simulationAFifthNodeJoinsByStateTransferAndItsProposalsAreCommitted(
      long seed, @TempDir Path dir) throws Exception {
    System5 s = new System5(Duration.ofMillis(100));
    List<Request> before = requests("a", 20);
    List<Request> onlyAtNew = requests("b", 10);
    Map<NodeId, List<Path>> logs;
    try (Deployment d = simulation(seed, s, dir, NEW)) {
      Duration max = Duration.ofSeconds(120);
      submit(d, FOUR, before);
      await(d, s, () -> s.all(FOUR, a -> a.epoch.get() >= 2), "nodes 0-3 in epoch 2", max);
      d.start(NEW);
      await(d, s, () -> s.all(FIVE, a -> a.epoch.get() >= 4), "all in epoch 4", max);
      assertThat(s.apps.get(NEW).restores.get()).as("restores of node 4").isGreaterThan(1);
      submit(d, List.of(NEW), onlyAtNew);
      await(d, s, () -> s.all(FIVE, a -> a.applied.get() >= 30), "all applied 30", max);
      logs = d.logDirectories();
    }
    List<Request> all = new ArrayList<>(before);
    all.addAll(onlyAtNew);
    checkLogs(logs, all);
  }

  /**
   * Node 3 is partitioned before (or just after) the addition is decided and healed once the added
   * node has been signing checkpoints for several epochs; it must catch up by state transfer.
   */
  @ParameterizedTest(name = "partitioned from epoch {0}, seed {1}")
  @MethodSource("partitionCases")
  void simulationANodePartitionedAcrossTheAdditionCatchesUpAfterHealing(
      long partitionFromEpoch, long seed, @TempDir Path dir) throws Exception {
    System5 s = new System5(Duration.ofMillis(100));
    NodeId lagging = NodeId.of("3");
    List<NodeId> others = List.of(NodeId.of("0"), NodeId.of("1"), NodeId.of("2"), NEW);
    List<Request> before = requests("a", 20);
    List<Request> after = requests("b", 10);
    Map<NodeId, List<Path>> logs;
    try (Deployment d = simulation(seed, s, dir)) {
      Simulation sim = d.simulation().orElseThrow();
      Duration max = Duration.ofSeconds(120);
      submit(d, FOUR, before);
      await(
          d,
          s,
          () -> s.all(FOUR, a -> a.epoch.get() >= partitionFromEpoch),
          "nodes 0-3 in epoch " + partitionFromEpoch,
          max);
      sim.partition(List.of(lagging));
      long stuckAt = s.apps.get(lagging).epoch.get();
      await(d, s, () -> s.all(others, a -> a.epoch.get() >= 7), "the others in epoch 7", max);
      assertThat(s.apps.get(lagging).epoch.get())
          .as("epoch of the partitioned node")
          .isEqualTo(stuckAt);
      sim.heal();
      await(
          d,
          s,
          () -> s.apps.get(lagging).restores.get() > 1,
          "node 3 transferring state after healing",
          max);
      submit(d, FIVE, after);
      await(d, s, () -> s.all(FIVE, a -> a.applied.get() >= 30), "all applied 30", max);
      logs = d.logDirectories();
    }
    List<Request> all = new ArrayList<>(before);
    all.addAll(after);
    checkLogs(logs, all);
  }

  static List<org.junit.jupiter.params.provider.Arguments> partitionCases() {
    List<org.junit.jupiter.params.provider.Arguments> out = new ArrayList<>();
    for (long seed : seeds().toArray()) {
      out.add(org.junit.jupiter.params.provider.Arguments.of(0L, seed));
      out.add(org.junit.jupiter.params.provider.Arguments.of(1L, seed));
    }
    return out;
  }

  /**
   * The same over gRPC with mutual TLS on 127.0.0.1, real threads and timers: node 4 is started
   * once the others are in epoch 2, joins by state transfer, and requests submitted only to it are
   * applied by all.
   */
  @Test
  void grpcAFifthNodeJoinsByStateTransferAndItsProposalsAreCommitted(@TempDir Path dir)
      throws Exception {
    // Conservative proposal period over real networks (see docs/iss-parts.md, known gaps).
    System5 s = new System5(Duration.ofMillis(500));
    List<Request> before = requests("a", 20);
    List<Request> onlyAtNew = requests("b", 10);
    Map<NodeId, List<Path>> logs;
    GrpcTransportProvider net = GrpcTransportProvider.insecureMutualTls(5);
    try (Deployment d =
        Deployment.builder(Deployment.Kind.PROVIDED)
            .nodes(FIVE)
            .transports(net)
            .recordEventsTo(dir)
            .startLater(NEW)
            .factory(
                (id, env) -> {
                  Map<NodeId, NodeAddress> addresses = new LinkedHashMap<>();
                  for (NodeId n : FIVE) {
                    addresses.put(n, net.get(n).listenAddress());
                  }
                  s.init(addresses);
                  return s.node(id, env.transport(), env.timer(), env.wal());
                })
            .build()) {
      Duration max = Duration.ofSeconds(60);
      submit(d, FOUR, before);
      await(d, s, () -> s.all(FOUR, a -> a.epoch.get() >= 2), "nodes 0-3 in epoch 2", max);
      d.start(NEW);
      await(d, s, () -> s.all(FIVE, a -> a.epoch.get() >= 4), "all in epoch 4", max);
      submit(d, List.of(NEW), onlyAtNew);
      await(d, s, () -> s.all(FIVE, a -> a.applied.get() >= 30), "all applied 30", max);
      assertThat(d.failures()).isEmpty();
      logs = d.logDirectories();
    }
    List<Request> all = new ArrayList<>(before);
    all.addAll(onlyAtNew);
    checkLogs(logs, all);
  }
}
