package io.github.mirframework.trantor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.github.mirframework.checkpoint.pb.StableCheckpoint;
import io.github.mirframework.client.ClientEvents;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.crypto.PseudoCrypto;
import io.github.mirframework.event.EventList;
import io.github.mirframework.mempool.SimpleMempool;
import io.github.mirframework.module.Module;
import io.github.mirframework.net.Membership;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.sim.NetworkModel;
import io.github.mirframework.sim.Simulation;
import io.github.mirframework.types.LittleEndian;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The whole Trantor stack on 4 nodes in the deterministic simulation (Mir's TestIntegration with
 * the simulated transport): every node gets every request, as from clients that submit to all
 * nodes; every correct node must apply every request exactly once, in the same order as the others.
 */
@Timeout(120)
class TrantorSimulationTest {
  static final List<NodeId> NODES = NodeId.range(4);
  static final Membership MEMBERSHIP =
      new Membership(
          NODES.stream()
              .collect(
                  Collectors.toMap(
                      Function.identity(), n -> NodeAddress.of("10.0.0." + n.value(), 7000))));
  static final Trantor.Params PARAMS =
      Trantor.Params.defaults(MEMBERSHIP).adjustSpeed(Duration.ofMillis(100));

  static LongStream seeds() {
    String s = System.getProperty("mir.sim.seed");
    return s == null || s.isBlank()
        ? LongStream.rangeClosed(1, 2)
        : LongStream.of(Long.parseLong(s));
  }

  /** Counts and records the requests it applies; its state is the count. */
  static final class RecordingApp implements AppLogic.Static {
    /** Stands for a request applied through a restored state (state transfer). */
    static final String RESTORED = "(restored)";

    final List<String> applied = new ArrayList<>();

    /** Batches applied, empty ones included. */
    int batches;

    /** Whether a restore to a later state (state transfer) is expected rather than a problem. */
    boolean stateTransferAllowed;

    final List<String> problems = new ArrayList<>();
    final Set<String> seen = new HashSet<>();

    @Override
    public void applyTxs(List<Request> txs) {
      batches++;
      for (Request r : txs) {
        String id = r.getClientId() + "." + r.getReqNo();
        if (!seen.add(id)) {
          problems.add(id + " applied twice");
        }
        applied.add(id);
      }
    }

    @Override
    public ByteString snapshot() {
      return ByteString.copyFrom(LittleEndian.u64(applied.size()));
    }

    @Override
    public void restoreState(StableCheckpoint checkpoint) {
      long n = LittleEndian.u64(checkpoint.getSnapshot().getAppData().toByteArray());
      if (stateTransferAllowed && n > applied.size()) {
        while (applied.size() < n) {
          applied.add(RESTORED);
        }
      } else if (n != applied.size()) {
        problems.add("restored a state of " + n + " requests, have " + applied.size());
      }
    }
  }

  record Run(Simulation sim, Map<NodeId, RecordingApp> apps) {}

  static Run simulation(long seed, NetworkModel network) {
    return simulation(seed, network, PARAMS);
  }

  static Run simulation(long seed, NetworkModel network, Trantor.Params params) {
    StableCheckpoint genesis =
        Trantor.genesisCheckpoint(ByteString.copyFrom(LittleEndian.u64(0)), params);
    Map<NodeId, RecordingApp> apps =
        NODES.stream().collect(Collectors.toMap(Function.identity(), n -> new RecordingApp()));
    Simulation sim =
        Simulation.builder(seed)
            .nodes(NODES)
            .network(network)
            .factory(
                (id, env) -> {
                  Map<ModuleId, Module> m =
                      Trantor.modules(
                          id,
                          null,
                          genesis,
                          PseudoCrypto.create(NODES, id),
                          AppLogic.fromStatic(apps.get(id), MEMBERSHIP),
                          params);
                  m.put(Trantor.NET, env.transport());
                  m.put(ModuleId.of("timer"), env.timer());
                  m.put(ModuleId.of("wal"), env.wal());
                  return m;
                })
            .build();
    return new Run(sim, apps);
  }

  static List<Request> requests(int clients, int perClient) {
    List<Request> out = new ArrayList<>();
    for (int k = 0; k < perClient; k++) {
      for (int c = 0; c < clients; c++) {
        out.add(
            Request.newBuilder()
                .setClientId("client" + c)
                .setReqNo(k)
                .setData(ByteString.copyFromUtf8("tx " + c + "." + k))
                .build());
      }
    }
    return out;
  }

  static void submitToAll(Simulation sim, List<Request> reqs) {
    for (NodeId id : sim.upNodes()) {
      sim.inject(id, EventList.of(ClientEvents.newRequests(SimpleMempool.DEFAULT_ID, reqs)));
    }
  }

  /** Runs until every correct node applied {@code total} requests; checks the SMR properties. */
  static void runAndCheck(Run run, List<NodeId> correct, int total, Duration bound) {
    Simulation sim = run.sim();
    boolean done =
        sim.runUntil(
            () -> correct.stream().allMatch(id -> run.apps().get(id).applied.size() >= total),
            bound);
    List<String> reference = null;
    for (NodeId id : correct) {
      RecordingApp app = run.apps().get(id);
      sim.check(app.problems.isEmpty(), "node " + id + ": " + app.problems);
      List<String> applied = app.applied;
      if (reference == null) {
        reference = applied;
      } else {
        int n = Math.min(reference.size(), applied.size());
        boolean same = true;
        for (int i = 0; i < n; i++) {
          String a = applied.get(i);
          String r = reference.get(i);
          same &= a.equals(r) || a.equals(RecordingApp.RESTORED) || r.equals(RecordingApp.RESTORED);
        }
        sim.check(same, "node " + id + " applied another order: " + applied + " vs " + reference);
        if (reference.contains(RecordingApp.RESTORED)) {
          reference = applied;
        }
      }
    }
    sim.check(
        done,
        "not every correct node applied "
            + total
            + " requests: "
            + correct.stream()
                .map(id -> id + "=" + run.apps().get(id).applied.size())
                .collect(Collectors.joining(", ")));
    sim.check(reference.size() == total, "applied " + reference.size() + ", expected " + total);
  }

  @ParameterizedTest(name = "seed={0}")
  @MethodSource("seeds")
  void everyNodeAppliesEveryRequestOnceInTheSameOrder(long seed) {
    Run run = simulation(seed, NetworkModel.defaults());
    List<Request> reqs = requests(4, 25);
    submitToAll(run.sim(), reqs);
    runAndCheck(run, NODES, reqs.size(), Duration.ofSeconds(60));
  }

  @ParameterizedTest(name = "seed={0}")
  @MethodSource("seeds")
  void withOneNodeCrashedTheOthersStillApplyEverything(long seed) {
    Run run = simulation(seed, NetworkModel.defaults());
    run.sim().crash(NodeId.of("3"));
    List<Request> reqs = requests(3, 10);
    submitToAll(run.sim(), reqs);
    runAndCheck(run, NODES.subList(0, 3), reqs.size(), Duration.ofSeconds(120));
  }

  @ParameterizedTest(name = "seed={0}")
  @MethodSource("seeds")
  void afterAPeriodOfMessageLossEveryRequestIsStillAppliedOnce(long seed) {
    Run run = simulation(seed, NetworkModel.defaults().withDropRate(0.05));
    run.sim().after(Duration.ofSeconds(5), () -> run.sim().network(NetworkModel.defaults()));
    List<Request> reqs = requests(3, 10);
    submitToAll(run.sim(), reqs);
    runAndCheck(run, NODES, reqs.size(), Duration.ofSeconds(120));
  }

  @ParameterizedTest(name = "seed={0}")
  @MethodSource("seeds")
  void requestsSubmittedLaterAndDuplicatedAreAppliedOnce(long seed) {
    Run run = simulation(seed, NetworkModel.defaults().withDuplicateRate(0.05));
    List<Request> first = requests(2, 10);
    submitToAll(run.sim(), first);
    run.sim().runFor(Duration.ofSeconds(2));
    // Resubmitted requests (as after a client reconnects) plus new ones.
    List<Request> second = requests(2, 20);
    submitToAll(run.sim(), second);
    runAndCheck(run, NODES, second.size(), Duration.ofSeconds(60));
  }

  /** Batches node 0 applies while the system is idle for {@code idle}, after a first load. */
  static int batchesWhileIdle(long seed, Trantor.Params params, Duration idle) {
    Run run = simulation(seed, NetworkModel.defaults(), params);
    run.sim().crash(NodeId.of("3"));
    List<Request> first = requests(3, 5);
    submitToAll(run.sim(), first);
    runAndCheck(run, NODES.subList(0, 3), first.size(), Duration.ofSeconds(60));
    int before = run.apps().get(NodeId.of("0")).batches;
    run.sim().runFor(idle);
    int during = run.apps().get(NodeId.of("0")).batches - before;
    // A request arriving at the idle system is still ordered.
    List<Request> second = requests(3, 6);
    submitToAll(run.sim(), second);
    runAndCheck(run, NODES.subList(0, 3), second.size(), Duration.ofSeconds(60));
    return during;
  }

  @ParameterizedTest(name = "seed={0}")
  @MethodSource("seeds")
  void withABatchTimeoutAnIdleSystemOrdersFewEmptyBatchesAndStillAppliesEverything(long seed) {
    // Leaders propose every 5 ms; the view-change timeouts are those of a 100 ms proposal period.
    Trantor.Params fast = PARAMS.withIss(PARAMS.iss().withMaxProposeDelay(Duration.ofMillis(5)));
    Duration timeout = Duration.ofMillis(100);
    Trantor.Params withTimeout = fast.withMempool(fast.mempool().withBatchTimeout(timeout));
    Duration idle = Duration.ofSeconds(5);
    int without = batchesWhileIdle(seed, fast, idle);
    int with = batchesWhileIdle(seed, withTimeout, idle);
    // Each of the 4 leaders' segments gets at most one empty batch per timeout (one more for the
    // request waiting at the start); node 3 is down, so its segments move on by view changes.
    long bound = 4 * (idle.toMillis() / timeout.toMillis() + 1);
    assertThat(with).isLessThanOrEqualTo((int) bound);
    assertThat(without).isGreaterThan(3 * with);
  }

  @Test
  void aBatchTimeoutThatDoesNotFitTheViewChangeTimeoutsIsRefused() {
    // SN timeout 400 ms, segment timeout 800 ms, segments of 4.
    assertThatThrownBy(
            () -> PARAMS.withMempool(PARAMS.mempool().withBatchTimeout(Duration.ofMillis(201))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("SN timeout");
    assertThatThrownBy(
            () -> PARAMS.withMempool(PARAMS.mempool().withBatchTimeout(Duration.ofMillis(101))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("segment timeout");
    assertThat(
            PARAMS
                .withMempool(PARAMS.mempool().withBatchTimeout(Duration.ofMillis(100)))
                .mempool()
                .batchTimeout())
        .isEqualTo(Duration.ofMillis(100));
  }
}
