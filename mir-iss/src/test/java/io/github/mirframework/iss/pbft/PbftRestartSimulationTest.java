package io.github.mirframework.iss.pbft;

import static io.github.mirframework.iss.pbft.PbftSimulationTest.KEYS;
import static io.github.mirframework.iss.pbft.PbftSimulationTest.N0;
import static io.github.mirframework.iss.pbft.PbftSimulationTest.N1;
import static io.github.mirframework.iss.pbft.PbftSimulationTest.NODES;
import static io.github.mirframework.iss.pbft.PbftSimulationTest.PARAMS;
import static io.github.mirframework.iss.pbft.PbftSimulationTest.SEGMENT;
import static io.github.mirframework.iss.pbft.PbftSimulationTest.SNS;
import static io.github.mirframework.iss.pbft.PbftSimulationTest.checkSafety;
import static io.github.mirframework.iss.pbft.PbftSimulationTest.host;
import static io.github.mirframework.iss.pbft.PbftSimulationTest.network;

import io.github.mirframework.crypto.CryptoModule;
import io.github.mirframework.crypto.HasherModule;
import io.github.mirframework.module.Module;
import io.github.mirframework.sim.NetworkModel;
import io.github.mirframework.sim.Simulation;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import io.github.mirframework.types.SeqNr;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Crash recovery of the PBFT orderer alone, on 4 nodes in the simulation: the victim (the leader,
 * or a replica) crashes right after each of its WAL appends in turn, losing whatever it had not
 * sent yet, and restarts 300 ms later from its WAL. Its new incarnation makes other certificates,
 * so a leader that forgot a proposal would propose something else for the same sequence number.
 * Every run checks that no node ever sent two conflicting Preprepares, Prepares, Commits,
 * ViewChanges or NewViews (over all incarnations), that all nodes, the restarted one included,
 * deliver every sequence number, and the same outcomes.
 */
@Timeout(300)
class PbftRestartSimulationTest {

  record Run(Simulation sim, SentVotes votes, CrashingWal.Counter counter) {}

  static Run run(long seed, NodeId victim, long crashAt, NetworkModel net) {
    return run(seed, victim, crashAt, net, Duration.ofMillis(300));
  }

  static Run run(long seed, NodeId victim, long crashAt, NetworkModel net, Duration downtime) {
    SentVotes votes = new SentVotes();
    CrashingWal.Counter counter = new CrashingWal.Counter();
    counter.crashAt = crashAt;
    votes.persistedBeforeSent(victim, counter);
    int[] incarnation = {0};
    Simulation sim =
        Simulation.builder(seed)
            .nodes(NODES)
            .network(net)
            .factory(
                (id, env) -> {
                  Map<ModuleId, Module> m = new LinkedHashMap<>();
                  m.put(OrdererHost.NET, votes.capturing(id, env.transport()));
                  m.put(OrdererHost.TIMER, env.timer());
                  m.put(
                      OrdererHost.WAL,
                      id.equals(victim) ? new CrashingWal(env.wal(), counter) : env.wal());
                  m.put(OrdererHost.HASHER, new HasherModule());
                  m.put(OrdererHost.CRYPTO, new CryptoModule(KEYS.get(id)));
                  OrdererHost h = new OrdererHost(id, SEGMENT, PARAMS);
                  if (id.equals(victim)) {
                    h.withCertSuffix(" incarnation " + incarnation[0]++);
                  }
                  m.put(OrdererHost.SELF, h);
                  return m;
                })
            .build();
    counter.onCrash =
        () ->
            sim.after(
                Duration.ZERO,
                () -> {
                  sim.crash(victim);
                  sim.after(downtime, () -> sim.restart(victim));
                });
    return new Run(sim, votes, counter);
  }

  /** How many WAL appends the victim makes in a run without a crash. */
  static long appendsWithoutCrash(long seed, NodeId victim, NetworkModel net) {
    Run r = run(seed, victim, 0, net);
    r.sim().runUntil(() -> allDelivered(r.sim(), NODES), Duration.ofSeconds(30));
    r.sim().runFor(Duration.ofSeconds(1));
    return r.counter().appends;
  }

  static Stream<Arguments> cases() {
    List<Arguments> out = new ArrayList<>();
    for (long seed : new long[] {1, 2}) {
      for (NodeId victim : List.of(N0, N1)) {
        out.add(Arguments.of(seed, victim));
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "seed={0} victim={1}")
  @MethodSource("cases")
  void aNodeCrashedAfterAnyOfItsWalAppendsNeverContradictsItselfAndCatchesUp(
      long seed, NodeId victim) {
    NetworkModel net = network();
    long total = appendsWithoutCrash(seed, victim, net);
    if (total < SNS.size()) {
      throw new AssertionError("only " + total + " appends by node " + victim);
    }
    for (long k = 1; k <= total; k++) {
      Run r = run(seed, victim, k, net);
      Simulation sim = r.sim();
      boolean done = sim.runUntil(() -> allDelivered(sim, NODES), Duration.ofSeconds(60));
      String where = " (crash after append " + k + " of " + total + " of node " + victim + ")";
      sim.check(r.counter().appends >= k, "never reached the crash point" + where);
      sim.check(r.votes().conflicts().isEmpty(), r.votes().conflicts() + where);
      checkSafety(sim, NODES);
      sim.check(done, "not every node delivered every sn" + where + ": " + states(sim));
      // The restarted leader's new certificates never replace a persisted proposal: whatever
      // was proposed for an sn before the crash is what everyone delivered, or it was aborted.
      sim.runFor(Duration.ofSeconds(1));
      sim.check(r.votes().conflicts().isEmpty(), r.votes().conflicts() + where);
      checkSafety(sim, NODES);
    }
  }

  /** A leader that crashes after proposing and restarts keeps its proposal under loss, too. */
  @ParameterizedTest(name = "seed={0}")
  @MethodSource("io.github.mirframework.iss.pbft.PbftSimulationTest#seeds")
  void aRestartedLeaderKeepsItsProposalsUnderLoss(long seed) {
    // The leader's first append is its first proposal (persisted before it is sent).
    Run r = run(seed, N0, 1, network().withDropRate(0.05), Duration.ofMillis(50));
    Simulation sim = r.sim();
    boolean done = sim.runUntil(() -> allDelivered(sim, NODES), Duration.ofSeconds(120));
    sim.check(r.votes().conflicts().isEmpty(), r.votes().conflicts().toString());
    checkSafety(sim, NODES);
    sim.check(done, "not every node delivered every sn: " + states(sim));
    // The first proposal was persisted but never sent before the crash; the restarted leader
    // sends it (not a new certificate) and it is delivered.
    OrdererHost.Delivery first = host(sim, NodeId.of("2")).delivered.get(SeqNr.of(0));
    sim.check(
        first.certData().toStringUtf8().equals("cert 1 of node 0 incarnation 0"),
        "sn 0 delivered as " + first);
  }

  /** Whether every node is up and delivered every sn (a crashed node has not). */
  static boolean allDelivered(Simulation sim, List<NodeId> nodes) {
    for (NodeId id : nodes) {
      if (!sim.isUp(id)) {
        return false;
      }
    }
    return PbftSimulationTest.allDelivered(sim, nodes);
  }

  static String states(Simulation sim) {
    List<String> s = new ArrayList<>();
    for (NodeId id : sim.upNodes()) {
      s.add(host(sim, id).orderer + " " + host(sim, id).delivered.keySet());
    }
    return s.toString();
  }
}
