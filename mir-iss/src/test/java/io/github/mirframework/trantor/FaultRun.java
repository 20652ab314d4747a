package io.github.mirframework.trantor;

import com.google.protobuf.ByteString;
import io.github.mirframework.checkpoint.pb.StableCheckpoint;
import io.github.mirframework.client.ClientEvents;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.crypto.PseudoCrypto;
import io.github.mirframework.event.EventList;
import io.github.mirframework.iss.pbft.CrashingWal;
import io.github.mirframework.iss.pbft.SentVotes;
import io.github.mirframework.mempool.SimpleMempool;
import io.github.mirframework.module.Module;
import io.github.mirframework.sim.NetworkModel;
import io.github.mirframework.sim.Simulation;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.stream.Collectors;

/**
 * The whole Trantor stack on 4 simulated nodes with faults, for the loss and crash-recovery tests:
 * every node's transport is watched for conflicting votes ({@link SentVotes}), one node (the
 * victim) may get a WAL that crashes it after a chosen append ({@link CrashingWal}), every
 * incarnation of a node gets its own application, whose state (the applied request IDs, in order)
 * is what its snapshots hold, and clients resubmit every request not yet applied everywhere every
 * {@link #RESUBMIT_PERIOD}, as a client that waits for replies would.
 */
final class FaultRun {
  static final List<NodeId> NODES = TrantorSimulationTest.NODES;
  static final Duration RESUBMIT_PERIOD = Duration.ofSeconds(2);

  /** An application whose state is the list of request IDs it applied, in order. */
  static final class ListApp implements AppLogic.Static {
    final List<String> applied = new ArrayList<>();
    final Set<String> seen = new HashSet<>();
    final List<String> problems = new ArrayList<>();
    int restores;

    @Override
    public void applyTxs(List<Request> txs) {
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
      return ByteString.copyFrom(String.join("\n", applied), StandardCharsets.UTF_8);
    }

    @Override
    public void restoreState(StableCheckpoint checkpoint) {
      restores++;
      String s = checkpoint.getSnapshot().getAppData().toStringUtf8();
      applied.clear();
      seen.clear();
      if (!s.isEmpty()) {
        for (String id : s.split("\n", -1)) {
          applied.add(id);
          if (!seen.add(id)) {
            problems.add(id + " twice in a restored state");
          }
        }
      }
    }
  }

  final Simulation sim;
  final SentVotes votes = new SentVotes();
  final CrashingWal.Counter counter = new CrashingWal.Counter();
  final Map<NodeId, List<ListApp>> incarnations = new HashMap<>();
  final NodeId victim;
  private final Map<NodeId, CrashingWal> victimWal = new HashMap<>();
  private List<Request> requests = List.of();

  FaultRun(long seed, NetworkModel network, NodeId victim) {
    this(seed, network, victim, (id, modules) -> {}, Duration.ofNanos(1000));
  }

  /**
   * As {@link #FaultRun(long, NetworkModel, NodeId)}; {@code customize} may replace or wrap modules
   * of each incarnation of each node before it starts, and a module takes up to {@code
   * maxProcessing} of virtual time per batch (the simulation's default is 1 µs).
   */
  FaultRun(
      long seed,
      NetworkModel network,
      NodeId victim,
      BiConsumer<NodeId, Map<ModuleId, Module>> customize,
      Duration maxProcessing) {
    this.victim = victim;
    votes.persistedBeforeSent(victim, counter);
    StableCheckpoint genesis =
        Trantor.genesisCheckpoint(ByteString.EMPTY, TrantorSimulationTest.PARAMS);
    sim =
        Simulation.builder(seed)
            .nodes(NODES)
            .network(network)
            .processingDelay(Duration.ZERO, maxProcessing)
            .factory(
                (id, env) -> {
                  ListApp app = new ListApp();
                  incarnations.computeIfAbsent(id, k -> new ArrayList<>()).add(app);
                  Map<ModuleId, Module> m =
                      new LinkedHashMap<>(
                          Trantor.modules(
                              id,
                              null,
                              genesis,
                              PseudoCrypto.create(NODES, id),
                              AppLogic.fromStatic(app, TrantorSimulationTest.MEMBERSHIP),
                              TrantorSimulationTest.PARAMS));
                  m.put(Trantor.NET, votes.capturing(id, env.transport()));
                  m.put(ModuleId.of("timer"), env.timer());
                  if (id.equals(victim)) {
                    CrashingWal w = new CrashingWal(env.wal(), counter);
                    victimWal.put(id, w);
                    m.put(ModuleId.of("wal"), w);
                  } else {
                    m.put(ModuleId.of("wal"), env.wal());
                  }
                  customize.accept(id, m);
                  return m;
                })
            .build();
  }

  /** Crashes the victim right after its WAL append {@code k} and restarts it after {@code down}. */
  FaultRun crashAfterAppend(long k, Duration down) {
    counter.crashAt = k;
    counter.onCrash =
        () ->
            sim.after(
                Duration.ZERO,
                () -> {
                  sim.crash(victim);
                  sim.after(down, () -> sim.restart(victim));
                });
    return this;
  }

  /** Submits {@code reqs} to every running node now and resubmits the unapplied ones later. */
  void submit(List<Request> reqs) {
    requests = List.copyOf(reqs);
    resubmit();
  }

  /**
   * Adds {@code reqs} to the requests of a run started with {@link #submit} and submits them to
   * every running node now (later resubmissions include them).
   */
  void submitMore(List<Request> reqs) {
    List<Request> all = new ArrayList<>(requests);
    all.addAll(reqs);
    requests = List.copyOf(all);
    for (NodeId id : sim.upNodes()) {
      sim.inject(id, EventList.of(ClientEvents.newRequests(SimpleMempool.DEFAULT_ID, reqs)));
    }
  }

  private void resubmit() {
    List<Request> pending = new ArrayList<>();
    for (Request r : requests) {
      String id = r.getClientId() + "." + r.getReqNo();
      for (NodeId n : NODES) {
        if (sim.isUp(n) && !current(n).seen.contains(id)) {
          pending.add(r);
          break;
        }
      }
    }
    if (!pending.isEmpty()) {
      for (NodeId id : sim.upNodes()) {
        sim.inject(id, EventList.of(ClientEvents.newRequests(SimpleMempool.DEFAULT_ID, pending)));
      }
    }
    sim.after(RESUBMIT_PERIOD, this::resubmit);
  }

  /** The application of the node's latest incarnation. */
  ListApp current(NodeId id) {
    List<ListApp> l = incarnations.get(id);
    return l.get(l.size() - 1);
  }

  /** The victim's WAL entries now. */
  int victimWalSize() {
    return victimWal.get(victim).size();
  }

  boolean allApplied(List<NodeId> nodes) {
    for (NodeId id : nodes) {
      if (!sim.isUp(id) || current(id).applied.size() < requests.size()) {
        return false;
      }
    }
    return true;
  }

  /**
   * Runs until every node of {@code nodes} applied every request, then checks: no conflicting votes
   * by any node; every incarnation of every node applied nothing twice, and what it applied is a
   * prefix of one common order; the nodes applied all requests in that order.
   */
  void runAndCheck(List<NodeId> nodes, Duration bound, String where) {
    boolean done = sim.runUntil(() -> allApplied(nodes), bound);
    sim.check(votes.conflicts().isEmpty(), "conflicting votes" + where + ": " + votes.conflicts());
    List<String> reference = null;
    for (NodeId id : NODES) {
      for (ListApp app : incarnations.get(id)) {
        sim.check(app.problems.isEmpty(), "node " + id + where + ": " + app.problems);
        if (reference == null || app.applied.size() > reference.size()) {
          if (reference != null) {
            sim.check(
                app.applied.subList(0, reference.size()).equals(reference),
                "node " + id + " applied another order" + where);
          }
          reference = app.applied;
        } else {
          sim.check(
              reference.subList(0, app.applied.size()).equals(app.applied),
              "node " + id + " applied another order" + where);
        }
      }
    }
    sim.check(
        done,
        "not every node applied all "
            + requests.size()
            + " requests"
            + where
            + ": "
            + nodes.stream()
                .map(id -> id + (sim.isUp(id) ? "=" + current(id).applied.size() : " down"))
                .collect(Collectors.joining(", ")));
    Set<String> all = new HashSet<>();
    for (Request r : requests) {
      all.add(r.getClientId() + "." + r.getReqNo());
    }
    sim.check(
        new HashSet<>(current(nodes.get(0)).applied).equals(all),
        "applied something else than the requests" + where);
  }
}
