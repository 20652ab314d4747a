package io.github.mirframework.trantor;

import io.github.mirframework.client.pb.Request;
import io.github.mirframework.sim.NetworkModel;
import io.github.mirframework.sim.Simulation;
import io.github.mirframework.types.NodeId;
import java.time.Duration;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The whole Trantor stack under loss and crashes with recovery (see {@link FaultRun}).
 *
 * <p>Longer sweeps than the default run:
 *
 * <ul>
 *   <li>{@code -Dmir.sweep.seeds=200}: the loss sweep over seeds 1..200 (default 1..5);
 *   <li>{@code -Dmir.recovery.allAppends=true}: a crash after every WAL append of the victim
 *       (default: 12 appends spread over the run);
 *   <li>{@code -Dmir.sim.seed=N}: only seed N.
 * </ul>
 */
@Timeout(600)
class TrantorFaultSimulationTest {
  static final NodeId VICTIM = NodeId.of("1");
  static final NetworkModel NET =
      NetworkModel.defaults().withLatency(Duration.ofMillis(1), Duration.ofMillis(20));

  static LongStream sweepSeeds() {
    String one = System.getProperty("mir.sim.seed");
    if (one != null && !one.isBlank()) {
      return LongStream.of(Long.parseLong(one));
    }
    String n = System.getProperty("mir.sweep.seeds");
    return LongStream.rangeClosed(1, n == null || n.isBlank() ? 5 : Long.parseLong(n));
  }

  static LongStream seeds() {
    String one = System.getProperty("mir.sim.seed");
    return one == null || one.isBlank() ? LongStream.of(1) : LongStream.of(Long.parseLong(one));
  }

  static List<Request> requests() {
    return TrantorSimulationTest.requests(3, 10);
  }

  /**
   * Liveness under steady loss with too few nodes: node 3 is crashed from the start, 10 % of all
   * messages are lost and latencies of 1 to 20 ms reorder the others, for the whole run. Every
   * request must be applied by the three others, once, in the same order, within 5 virtual minutes;
   * a run that does not finish is a stall.
   */
  @ParameterizedTest(name = "seed={0}")
  @MethodSource("sweepSeeds")
  void withOneNodeCrashedAndSteadyTenPercentLossEveryRequestIsApplied(long seed) {
    FaultRun run = new FaultRun(seed, NET.withDropRate(0.1), VICTIM);
    run.sim.crash(NodeId.of("3"));
    run.submit(requests());
    run.runAndCheck(
        List.of(NodeId.of("0"), NodeId.of("1"), NodeId.of("2")), Duration.ofMinutes(5), "");
  }

  /** How many WAL appends the victim makes before every node applied every request. */
  static long appendsWithoutCrash(long seed) {
    FaultRun run = new FaultRun(seed, NET, VICTIM);
    run.submit(requests());
    run.runAndCheck(FaultRun.NODES, Duration.ofMinutes(2), " (no crash)");
    return run.counter.appends;
  }

  /**
   * The victim (node 1, leader of one segment per epoch) crashes right after its k-th WAL append:
   * the rest of that batch is not durable and nothing it was about to send goes out. It restarts
   * 500 ms later from its WAL (latest stable checkpoint, then its orderers' entries), and must
   * catch up and apply everything, without ever sending a vote that contradicts one it sent before.
   * k runs over a sample of the appends of a run without crash (all of them with {@code
   * -Dmir.recovery.allAppends=true}).
   */
  @ParameterizedTest(name = "seed={0}")
  @MethodSource("seeds")
  void aReplicaCrashedAfterAWalAppendRecoversFromItsWalAndCatchesUp(long seed) {
    long total = appendsWithoutCrash(seed);
    boolean all = Boolean.getBoolean("mir.recovery.allAppends");
    int samples = 12;
    long step = all ? 1 : Math.max(1, total / samples);
    for (long k = 1; k <= total; k += step) {
      FaultRun run = new FaultRun(seed, NET, VICTIM).crashAfterAppend(k, Duration.ofMillis(500));
      run.submit(requests());
      run.runAndCheck(
          FaultRun.NODES,
          Duration.ofMinutes(3),
          " (crash after append " + k + " of " + total + ")");
      run.sim.check(run.counter.appends >= k, "the crash point " + k + " was never reached");
    }
  }

  /**
   * The victim crashes at points that are not WAL appends: after 500, 7,000, 13,500 and 20,000
   * events of the whole system, and stays down 1 s; then it must catch up as above.
   */
  @ParameterizedTest(name = "seed={0}")
  @MethodSource("seeds")
  void aReplicaCrashedAtArbitraryPointsRecoversAndCatchesUp(long seed) {
    for (long events = 500; events <= 20_000; events += 6_500) {
      FaultRun run = new FaultRun(seed, NET, VICTIM);
      Simulation sim = run.sim;
      long at = events;
      run.submit(requests());
      sim.runUntil(() -> sim.eventsProcessed() >= at, Duration.ofMinutes(1));
      sim.crash(VICTIM);
      sim.after(Duration.ofSeconds(1), () -> sim.restart(VICTIM));
      run.runAndCheck(FaultRun.NODES, Duration.ofMinutes(3), " (crash after " + at + " events)");
    }
  }

  /**
   * The WAL stays bounded: stable checkpoints truncate it, so after many epochs it holds only the
   * entries of the last few, and a restart from it still catches up.
   */
  @Test
  void theWalIsTruncatedAtStableCheckpointsAndARestartFromItCatchesUp() {
    FaultRun run = new FaultRun(7, NET, VICTIM);
    Simulation sim = run.sim;
    run.submit(requests());
    sim.runFor(Duration.ofSeconds(8));
    long appends = run.counter.appends;
    int size = run.victimWalSize();
    sim.check(appends > 4L * size, "the WAL was not truncated: " + size + " of " + appends);
    sim.crash(VICTIM);
    sim.after(Duration.ofMillis(200), () -> sim.restart(VICTIM));
    run.runAndCheck(FaultRun.NODES, Duration.ofMinutes(2), " (restart after 8 s)");
    List<String> reference = run.current(NodeId.of("0")).applied;
    sim.check(
        run.current(VICTIM).applied.equals(reference),
        "the restarted node has another state: " + run.current(VICTIM).applied);
  }
}
