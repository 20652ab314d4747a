package io.github.mirframework.trantor;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.github.mirframework.checkpoint.pb.StableCheckpoint;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.crypto.PseudoCrypto;
import io.github.mirframework.iss.Iss;
import io.github.mirframework.module.Module;
import io.github.mirframework.sim.NetworkModel;
import io.github.mirframework.sim.Simulation;
import io.github.mirframework.trantor.TrantorSimulationTest.RecordingApp;
import io.github.mirframework.trantor.TrantorSimulationTest.Run;
import io.github.mirframework.types.LittleEndian;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * No request is lost through view changes: 4 Trantor nodes in the simulation, requests submitted to
 * every node in three waves, and in every run a fault that aborts proposals in PBFT view changes —
 * a blackout of the whole network, a crashed leader, or a leader cut off by a partition and healed.
 * Every correct node must apply every request exactly once, in the same order. Before the mempool
 * offered undelivered requests again, the requests of aborted batches were lost.
 *
 * <p>The default run covers {@value #DEFAULT_SEEDS} seeds; {@code -Dmir.sweep.seeds=N} runs seeds
 * 1..N (see docs/iss-parts.md), {@code -Dmir.sim.seed=S} one seed.
 */
@Timeout(1800)
class NoRequestLostSimulationTest {
  static final int DEFAULT_SEEDS = 6;
  static final List<NodeId> NODES = TrantorSimulationTest.NODES;
  static final Trantor.Params PARAMS = TrantorSimulationTest.PARAMS;

  static LongStream seeds() {
    String one = System.getProperty("mir.sim.seed");
    if (one != null && !one.isBlank()) {
      return LongStream.of(Long.parseLong(one));
    }
    String n = System.getProperty("mir.sweep.seeds");
    long count = n == null || n.isBlank() ? DEFAULT_SEEDS : Long.parseLong(n);
    return LongStream.rangeClosed(1, count);
  }

  enum Fault {
    BLACKOUT,
    CRASHED_LEADER,
    PARTITIONED_LEADER
  }

  static Run simulation(long seed, Trantor.Params params) {
    StableCheckpoint genesis =
        Trantor.genesisCheckpoint(ByteString.copyFrom(LittleEndian.u64(0)), params);
    Map<NodeId, RecordingApp> apps =
        NODES.stream().collect(Collectors.toMap(Function.identity(), n -> new RecordingApp()));
    Simulation sim =
        Simulation.builder(seed)
            .nodes(NODES)
            .network(NetworkModel.defaults())
            .factory(
                (id, env) -> {
                  Map<ModuleId, Module> m =
                      Trantor.modules(
                          id,
                          null,
                          genesis,
                          PseudoCrypto.create(NODES, id),
                          AppLogic.fromStatic(apps.get(id), TrantorSimulationTest.MEMBERSHIP),
                          params);
                  m.put(Trantor.NET, env.transport());
                  m.put(ModuleId.of("timer"), env.timer());
                  m.put(ModuleId.of("wal"), env.wal());
                  return m;
                })
            .build();
    return new Run(sim, apps);
  }

  /** Wave {@code w}: 3 clients, request numbers 4w..4w+3. */
  static List<Request> wave(int w) {
    List<Request> out = new ArrayList<>();
    for (int k = 4 * w; k < 4 * w + 4; k++) {
      for (int c = 0; c < 3; c++) {
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

  @ParameterizedTest(name = "seed={0}")
  @MethodSource("seeds")
  void everyRequestIsAppliedOnceThroughViewChanges(long seed) {
    Fault fault = Fault.values()[(int) (seed % 3)];
    NodeId victim = NODES.get((int) ((seed / 3) % NODES.size()));
    Duration faultStart = Duration.ofMillis(250 + 50 * (seed % 7));
    Run run = simulation(seed, PARAMS);
    Simulation sim = run.sim();
    List<NodeId> correct = new ArrayList<>(NODES);
    switch (fault) {
      case BLACKOUT -> {
        // Every node cut off from every other.
        sim.after(
            faultStart,
            () ->
                sim.partition(
                    List.of(NODES.get(0)),
                    List.of(NODES.get(1)),
                    List.of(NODES.get(2)),
                    List.of(NODES.get(3))));
        sim.after(faultStart.plusMillis(1500), sim::heal);
      }
      case CRASHED_LEADER -> {
        sim.after(faultStart, () -> sim.crash(victim));
        correct.remove(victim);
      }
      case PARTITIONED_LEADER -> {
        List<NodeId> others = new ArrayList<>(NODES);
        others.remove(victim);
        // Cut off long enough, it catches up by state transfer.
        run.apps().get(victim).stateTransferAllowed = true;
        sim.after(faultStart, () -> sim.partition(List.of(victim), others));
        sim.after(faultStart.plusMillis(2000), sim::heal);
      }
    }
    int total = 0;
    for (int w = 0; w < 3; w++) {
      List<Request> reqs = wave(w);
      total += reqs.size();
      sim.after(Duration.ofMillis(700L * w), () -> TrantorSimulationTest.submitToAll(sim, reqs));
    }
    TrantorSimulationTest.runAndCheck(run, correct, total, Duration.ofSeconds(90));
    for (NodeId id : correct) {
      Iss iss = sim.module(id, Iss.DEFAULT_ID, Iss.class);
      sim.check(iss.currentEpoch().value() > 0, "node " + id + " stayed in epoch 0");
    }
    for (NodeId id : correct) {
      assertThat(run.apps().get(id).applied).hasSize(total);
    }
  }
}
