package io.github.mirframework.trantor;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.sim.Simulation;
import io.github.mirframework.trantor.TrantorSimulationTest.Run;
import io.github.mirframework.types.NodeId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A crashed leader stalls ordering once, not in every epoch: 4 Trantor nodes (proposal delay 100
 * ms, view-change timeouts 400 ms per sequence number and 800 ms per segment), a client submitting
 * requests every 100 ms of virtual time, and leader 1 crashed at 1 s. The longest time without a
 * new applied request (the stall) is measured at node 0 in 10 ms steps, with the default
 * (blacklist) policy and with Mir's simple policy, which keeps choosing the crashed node.
 */
@Timeout(600)
class CrashedLeaderSimulationTest {
  static final Duration STEP = Duration.ofMillis(10);
  static final Duration CRASH_AT = Duration.ofSeconds(1);
  static final Duration RUN = Duration.ofSeconds(12);
  static final NodeId CRASHED = NodeId.of("1");

  /** The stall after the crash (the longest gap between applied requests) and the later gaps. */
  record Outcome(Duration firstStall, Duration worstLaterGap, int applied, int submitted) {}

  static Outcome run(Trantor.Params params, long seed) {
    Run run = NoRequestLostSimulationTest.simulation(seed, params);
    Simulation sim = run.sim();
    sim.after(CRASH_AT, () -> sim.crash(CRASHED));
    int submitted = 0;
    List<Long> progressAt = new ArrayList<>(); // virtual ms at which node 0's count grew
    int seen = 0;
    for (long t = 0; t < RUN.toMillis(); t += STEP.toMillis()) {
      if (t % 100 == 0 && t < RUN.toMillis() - 3000) {
        List<Request> reqs = new ArrayList<>();
        reqs.add(
            Request.newBuilder()
                .setClientId("client")
                .setReqNo(submitted)
                .setData(ByteString.copyFromUtf8("r" + submitted))
                .build());
        submitted++;
        TrantorSimulationTest.submitToAll(sim, reqs);
      }
      sim.runFor(STEP);
      int now = run.apps().get(NodeId.of("0")).applied.size();
      if (now > seen) {
        seen = now;
        progressAt.add(sim.now().toMillis());
      }
    }
    // The first stall: the longest gap in the 3 s after the crash; later gaps: up to the end of
    // the submissions.
    long crash = CRASH_AT.toMillis();
    long settled = crash + 3000;
    long end = RUN.toMillis() - 3000;
    long first = 0;
    long later = 0;
    long previous = 0;
    for (long at : progressAt) {
      long gap = at - previous;
      if (at > crash && at <= settled) {
        first = Math.max(first, gap);
      } else if (at > settled && at <= end) {
        later = Math.max(later, gap);
      }
      previous = at;
    }
    List<String> reference = run.apps().get(NodeId.of("0")).applied;
    for (NodeId id : List.of(NodeId.of("2"), NodeId.of("3"))) {
      sim.check(
          run.apps().get(id).applied.equals(reference), "node " + id + " applied another order");
      sim.check(run.apps().get(id).problems.isEmpty(), "node " + id + run.apps().get(id).problems);
    }
    return new Outcome(
        Duration.ofMillis(first), Duration.ofMillis(later), reference.size(), submitted);
  }

  @Test
  void aCrashedLeaderStallsOrderingOnceAndIsNotChosenAgain() {
    Trantor.Params params = TrantorSimulationTest.PARAMS;
    Outcome o = run(params, 7);
    // Every request submitted was applied (once: checked by the app).
    assertThat(o.applied()).isEqualTo(o.submitted());
    Duration segmentTimeout = params.iss().pbftViewChangeSegmentTimeout();
    assertThat(o.firstStall()).isLessThanOrEqualTo(segmentTimeout.multipliedBy(2));
    // No later stall: gaps stay near the proposal period.
    assertThat(o.worstLaterGap()).isLessThan(Duration.ofMillis(400));
    System.out.printf(
        "crashed leader, blacklist policy: stall %d ms, worst later gap %d ms, %d applied%n",
        o.firstStall().toMillis(), o.worstLaterGap().toMillis(), o.applied());
  }
}
