package io.github.mirframework.trantor;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.github.mirframework.checkpoint.pb.StableCheckpoint;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.crypto.PseudoCrypto;
import io.github.mirframework.iss.Iss;
import io.github.mirframework.metrics.ModuleGauges;
import io.github.mirframework.metrics.ModuleMetrics;
import io.github.mirframework.metrics.NodeMetrics;
import io.github.mirframework.metrics.OrderingMetrics;
import io.github.mirframework.module.Module;
import io.github.mirframework.sim.NetworkModel;
import io.github.mirframework.sim.Simulation;
import io.github.mirframework.trantor.TrantorSimulationTest.RecordingApp;
import io.github.mirframework.types.LittleEndian;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The ordering metrics of a Trantor run in the deterministic simulation (with a metrics binding):
 * every applied request is counted once, epochs and checkpoints advance, the commit latency is
 * measured in virtual time (so two runs with one seed report the same latencies), and a crashed
 * leader shows as view changes and aborted certificates.
 */
@Timeout(300)
class OrderingMetricsSimulationTest {
  static final List<NodeId> NODES = TrantorSimulationTest.NODES;
  static final Trantor.Params PARAMS = TrantorSimulationTest.PARAMS;

  /** What one node reported; the simulation runs on one thread. */
  static final class Recorded implements OrderingMetrics {
    final LongSupplier clock;
    long requests;
    long batches;
    long ordered;
    long aborted;
    final List<Long> latencies = new ArrayList<>();
    final Map<String, Integer> viewChanges = new TreeMap<>();
    final List<Long> epochsStarted = new ArrayList<>();
    final List<Long> epochsCompleted = new ArrayList<>();
    final List<Long> stableCheckpointSns = new ArrayList<>();
    long installed;

    Recorded(LongSupplier clock) {
      this.clock = clock;
    }

    @Override
    public long nanoTime() {
      return clock.getAsLong();
    }

    @Override
    public void requestsApplied(int n) {
      requests += n;
      batches++;
    }

    @Override
    public void certificateDelivered(boolean wasAborted) {
      if (wasAborted) {
        aborted++;
      } else {
        ordered++;
      }
    }

    @Override
    public void committed(long nanos) {
      latencies.add(nanos);
    }

    @Override
    public void viewChangeStarted(String cause) {
      viewChanges.merge(cause, 1, Integer::sum);
    }

    @Override
    public void epochStarted(long epoch) {
      epochsStarted.add(epoch);
    }

    @Override
    public void epochCompleted(long epoch) {
      epochsCompleted.add(epoch);
    }

    @Override
    public void checkpointStable(long epoch, long sn) {
      stableCheckpointSns.add(sn);
    }

    @Override
    public void checkpointInstalled(long epoch) {
      installed++;
    }

    int totalViewChanges() {
      return viewChanges.values().stream().mapToInt(Integer::intValue).sum();
    }
  }

  /** A binding that keeps one recorder per node and counts the batches of each module. */
  static final class Binding {
    final Map<NodeId, Recorded> ordering = new HashMap<>();
    final Map<String, long[]> moduleBatches = new TreeMap<>();

    NodeMetrics forNode(NodeId id) {
      return new NodeMetrics() {
        @Override
        public ModuleMetrics module(ModuleId module, ModuleGauges gauges) {
          long[] batches = moduleBatches.computeIfAbsent(id + "/" + module, k -> new long[1]);
          return (events, nanos) -> batches[0]++;
        }

        @Override
        public OrderingMetrics ordering(LongSupplier nanoClock) {
          return ordering.computeIfAbsent(id, k -> new Recorded(nanoClock));
        }
      };
    }
  }

  record Run(Simulation sim, Map<NodeId, RecordingApp> apps, Binding metrics) {}

  static Run simulation(long seed) {
    StableCheckpoint genesis =
        Trantor.genesisCheckpoint(ByteString.copyFrom(LittleEndian.u64(0)), PARAMS);
    Map<NodeId, RecordingApp> apps =
        NODES.stream().collect(Collectors.toMap(Function.identity(), n -> new RecordingApp()));
    Binding binding = new Binding();
    Simulation sim =
        Simulation.builder(seed)
            .nodes(NODES)
            .network(NetworkModel.defaults())
            .metrics(binding::forNode)
            .factory(
                (id, env) -> {
                  Map<ModuleId, Module> m =
                      Trantor.modules(
                          id,
                          null,
                          genesis,
                          PseudoCrypto.create(NODES, id),
                          AppLogic.fromStatic(apps.get(id), TrantorSimulationTest.MEMBERSHIP),
                          PARAMS,
                          new Trantor.Clients(null, null),
                          env.orderingMetrics());
                  m.put(Trantor.NET, env.transport());
                  m.put(ModuleId.of("timer"), env.timer());
                  m.put(ModuleId.of("wal"), env.wal());
                  return m;
                })
            .build();
    return new Run(sim, apps, binding);
  }

  /** Submits 100 requests to every node; runs until all applied them and finished 3 epochs. */
  static Run orderedRun(long seed) {
    Run run = simulation(seed);
    List<Request> reqs = TrantorSimulationTest.requests(4, 25);
    TrantorSimulationTest.submitToAll(run.sim(), reqs);
    boolean done =
        run.sim()
            .runUntil(
                () ->
                    NODES.stream()
                        .allMatch(
                            id ->
                                run.apps().get(id).applied.size() >= reqs.size()
                                    && run.metrics().ordering.get(id).epochsCompleted.size() >= 3),
                Duration.ofSeconds(60));
    run.sim().check(done, "not every node applied every request and finished 3 epochs");
    return run;
  }

  @Test
  void appliedRequestsEpochsCheckpointsAndLatenciesAreReported() {
    Run run = orderedRun(1);
    long latencies = 0;
    for (NodeId id : NODES) {
      Recorded r = run.metrics().ordering.get(id);
      // Every request is counted exactly once, as the application saw it.
      assertThat(r.requests).as("requests at %s", id).isEqualTo(100);
      assertThat(r.requests).isEqualTo(run.apps().get(id).applied.size());
      // Each applied batch is an ordered certificate the batch fetcher resolved.
      assertThat(r.batches).isPositive().isLessThanOrEqualTo(r.ordered);
      // No fault: no view change, nothing aborted, no state transfer.
      assertThat(r.viewChanges).isEmpty();
      assertThat(r.aborted).isZero();
      assertThat(r.installed).isZero();
      // Epochs start at 0 and advance one by one; each completed epoch had started.
      assertThat(r.epochsStarted.get(0)).isZero();
      for (int i = 1; i < r.epochsStarted.size(); i++) {
        assertThat(r.epochsStarted.get(i)).isEqualTo(r.epochsStarted.get(i - 1) + 1);
      }
      assertThat(r.epochsCompleted).hasSizeGreaterThanOrEqualTo(3).startsWith(0L, 1L, 2L);
      assertThat(r.epochsStarted).containsAll(r.epochsCompleted);
      // A stable checkpoint at the start of each epoch after the first (which starts at the
      // genesis checkpoint): an epoch is finished once its starting checkpoint is stable.
      long epochLength = (long) PARAMS.iss().segmentLength() * NODES.size();
      assertThat(r.stableCheckpointSns)
          .hasSizeGreaterThanOrEqualTo(r.epochsCompleted.size() - 1)
          .startsWith(epochLength, 2 * epochLength);
      // Latencies are virtual time: positive (messages take time) and below the run's length.
      assertThat(r.latencies)
          .allSatisfy(l -> assertThat(l).isPositive().isLessThan(Duration.ofSeconds(60).toNanos()));
      latencies += r.latencies.size();
    }
    // Every node leads a segment of each epoch, so proposals of every node were delivered.
    assertThat(latencies).isGreaterThanOrEqualTo(NODES.size());
    assertThat(NODES)
        .allSatisfy(id -> assertThat(run.metrics().ordering.get(id).latencies).isNotEmpty());
    // The simulation reported module batches to the binding too.
    assertThat(run.metrics().moduleBatches.get("0/" + Iss.DEFAULT_ID)[0]).isPositive();
    assertThat(run.metrics().moduleBatches.get("3/" + Trantor.APP)[0]).isPositive();
  }

  @Test
  void latenciesAreVirtualTimeAndSoDeterministic() {
    Run a = orderedRun(2);
    Run b = orderedRun(2);
    for (NodeId id : NODES) {
      List<Long> la = a.metrics().ordering.get(id).latencies;
      List<Long> lb = b.metrics().ordering.get(id).latencies;
      int n = Math.min(la.size(), lb.size());
      assertThat(n).isPositive();
      assertThat(la.subList(0, n)).isEqualTo(lb.subList(0, n));
    }
  }

  @Test
  void aCrashedLeaderShowsAsViewChangesAndAbortedCertificates() {
    Run run = simulation(7);
    Simulation sim = run.sim();
    NodeId crashed = NodeId.of("1");
    sim.after(Duration.ofSeconds(1), () -> sim.crash(crashed));
    List<NodeId> correct = List.of(NodeId.of("0"), NodeId.of("2"), NodeId.of("3"));
    int submitted = 0;
    for (long t = 0; t < 6000; t += 100) {
      TrantorSimulationTest.submitToAll(
          sim,
          List.of(
              Request.newBuilder()
                  .setClientId("client")
                  .setReqNo(submitted)
                  .setData(ByteString.copyFromUtf8("r" + submitted))
                  .build()));
      submitted++;
      sim.runFor(Duration.ofMillis(100));
    }
    int total = submitted;
    boolean done =
        sim.runUntil(
            () -> correct.stream().allMatch(id -> run.apps().get(id).applied.size() >= total),
            Duration.ofSeconds(30));
    sim.check(done, "the correct nodes did not apply every request");
    for (NodeId id : correct) {
      Recorded r = run.metrics().ordering.get(id);
      assertThat(r.totalViewChanges()).as("view changes at %s", id).isPositive();
      assertThat(r.viewChanges.keySet()).isSubsetOf("sn_timeout", "segment_timeout");
      // The crashed leader's unfinished sequence numbers were aborted by the view change.
      assertThat(r.aborted).as("aborted at %s", id).isPositive();
      assertThat(r.requests).isEqualTo(run.apps().get(id).applied.size()).isEqualTo(total);
    }
  }
}
