package io.github.mirframework.iss;

import com.google.protobuf.ByteString;
import io.github.mirframework.availability.pb.Cert;
import io.github.mirframework.checkpoint.CheckpointProtocol;
import io.github.mirframework.checkpoint.pb.StableCheckpoint;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.crypto.CryptoModule;
import io.github.mirframework.crypto.EcdsaCrypto;
import io.github.mirframework.crypto.HasherModule;
import io.github.mirframework.crypto.PseudoCrypto;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.iss.pb.SbMessage;
import io.github.mirframework.iss.pb.StableCheckpointMessage;
import io.github.mirframework.iss.pbft.pb.PbftMessage;
import io.github.mirframework.iss.pbft.pb.Prepare;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * ISS on 4 nodes in the deterministic simulation with the real PBFT orderers, hasher, crypto
 * (pseudo keys) and checkpoint protocol, and stand-ins for availability ({@link FakeAvailability})
 * and the application side ({@link FakeIssApp}). Every run checks that correct nodes deliver the
 * same certificate at every sequence number, in order, nothing twice. A failure names the seed;
 * rerun one with {@code -Dmir.sim.seed=N}.
 */
@Timeout(120)
class IssSimulationTest {
  static final List<NodeId> NODES = NodeId.range(4);
  static final Membership MEMBERSHIP =
      new Membership(
          NODES.stream()
              .collect(
                  Collectors.toMap(
                      Function.identity(), n -> NodeAddress.of("10.0.0." + n.value(), 7000))));
  static final Iss.Params PARAMS =
      Iss.Params.defaults(MEMBERSHIP).adjustSpeed(Duration.ofMillis(100));
  static final int EPOCH_LENGTH = 16;

  /** Mir's policy: every node leads a segment in every epoch, even a crashed one. */
  static final Iss.Params SIMPLE_PARAMS = PARAMS.withLeaderPolicy(new SimpleLeaderPolicy(NODES));

  static final StableCheckpoint GENESIS =
      Iss.genesisCheckpoint(ByteString.copyFrom(LittleEndian.u64(0)), PARAMS);
  static final Map<NodeId, EcdsaCrypto> KEYS =
      NODES.stream()
          .collect(Collectors.toMap(Function.identity(), n -> PseudoCrypto.create(NODES, n)));
  static final ModuleId APP = ModuleId.of("batchfetcher");
  static final ModuleId AVAILABILITY = ModuleId.of("availability");

  static LongStream seeds() {
    String s = System.getProperty("mir.sim.seed");
    return s == null || s.isBlank()
        ? LongStream.rangeClosed(1, 2)
        : LongStream.of(Long.parseLong(s));
  }

  static Simulation simulation(long seed, NetworkModel network) {
    return simulation(seed, network, e -> Iss.membershipProto(MEMBERSHIP));
  }

  static Simulation simulation(
      long seed,
      NetworkModel network,
      java.util.function.LongFunction<io.github.mirframework.checkpoint.pb.Membership> config) {
    return simulation(seed, network, config, PARAMS);
  }

  static Simulation simulation(
      long seed,
      NetworkModel network,
      java.util.function.LongFunction<io.github.mirframework.checkpoint.pb.Membership> config,
      Iss.Params params) {
    StableCheckpoint genesis =
        Iss.genesisCheckpoint(ByteString.copyFrom(LittleEndian.u64(0)), params);
    return builder(seed, network, config, params, genesis).build();
  }

  static Simulation.Builder builder(
      long seed,
      NetworkModel network,
      java.util.function.LongFunction<io.github.mirframework.checkpoint.pb.Membership> config) {
    return builder(seed, network, config, PARAMS, GENESIS);
  }

  static Simulation.Builder builder(
      long seed,
      NetworkModel network,
      java.util.function.LongFunction<io.github.mirframework.checkpoint.pb.Membership> config,
      Iss.Params params,
      StableCheckpoint genesis) {
    return Simulation.builder(seed)
        .nodes(NODES)
        .network(network)
        .factory(
            (id, env) -> {
              Map<ModuleId, Module> m = new LinkedHashMap<>();
              m.put(ModuleId.of("net"), env.transport());
              m.put(ModuleId.of("timer"), env.timer());
              m.put(ModuleId.of("wal"), env.wal());
              m.put(HasherModule.DEFAULT_ID, new HasherModule());
              m.put(CryptoModule.DEFAULT_ID, new CryptoModule(KEYS.get(id)));
              m.put(Iss.DEFAULT_ID, new Iss(id, Iss.Config.defaults(), params, genesis));
              m.put(AVAILABILITY, new FakeAvailability(id));
              m.put(
                  CheckpointProtocol.DEFAULT_ID,
                  CheckpointProtocol.factory(CheckpointProtocol.Config.defaults(), id));
              m.put(APP, new FakeIssApp(config));
              return m;
            });
  }

  static NetworkModel network() {
    return NetworkModel.defaults().withLatency(Duration.ofMillis(1), Duration.ofMillis(20));
  }

  static FakeIssApp app(Simulation sim, NodeId id) {
    return sim.module(id, APP, FakeIssApp.class);
  }

  static Iss iss(Simulation sim, NodeId id) {
    return sim.module(id, Iss.DEFAULT_ID, Iss.class);
  }

  static void injectRequests(Simulation sim, int count) {
    for (NodeId id : sim.upNodes()) {
      FakeAvailability a = sim.module(id, AVAILABILITY, FakeAvailability.class);
      for (int i = 0; i < count; i++) {
        a.pending.add(
            Request.newBuilder()
                .setClientId("c" + i % 3)
                .setReqNo(i)
                .setData(ByteString.copyFromUtf8("tx" + i))
                .build());
      }
    }
  }

  static boolean delivered(Simulation sim, List<NodeId> nodes, long sns) {
    for (NodeId id : nodes) {
      if (app(sim, id).nextSn < sns) {
        return false;
      }
    }
    return true;
  }

  /** Correct nodes delivered the same certificates in sn order, nothing twice. */
  static void checkSafety(Simulation sim, List<NodeId> correct, boolean byzantineInput) {
    Map<Long, Cert> seen = new TreeMap<>();
    for (NodeId id : correct) {
      FakeIssApp a = app(sim, id);
      sim.check(a.problems.isEmpty(), "node " + id + ": " + a.problems);
      sim.check(
          byzantineInput || iss(sim, id).rejectedMessages() == 0,
          "node " + id + " rejected messages");
      for (Map.Entry<Long, Cert> d : a.delivered.entrySet()) {
        Cert other = seen.putIfAbsent(d.getKey(), d.getValue());
        sim.check(
            other == null || other.equals(d.getValue()),
            "sn "
                + d.getKey()
                + ": node "
                + id
                + " delivered "
                + d.getValue()
                + ", other "
                + other);
      }
    }
  }

  static void run(Simulation sim, List<NodeId> correct, long sns, Duration bound) {
    run(sim, correct, sns, bound, false);
  }

  static void run(
      Simulation sim, List<NodeId> correct, long sns, Duration bound, boolean byzantineInput) {
    boolean done = sim.runUntil(() -> delivered(sim, correct, sns), bound);
    checkSafety(sim, correct, byzantineInput);
    List<String> states = new ArrayList<>();
    for (NodeId id : correct) {
      Iss iss = iss(sim, id);
      states.add(
          id
              + ": epoch "
              + iss.currentEpoch()
              + " next "
              + app(sim, id).nextSn
              + " orderers "
              + iss.orderers(iss.currentEpoch().value()));
    }
    sim.check(done, "not every correct node delivered " + sns + " sns: " + states);
  }

  static long aborted(FakeIssApp a, long below) {
    return a.delivered.headMap(below).values().stream()
        .filter(c -> c.getTypeCase() == Cert.TypeCase.TYPE_NOT_SET)
        .count();
  }

  @ParameterizedTest(name = "seed={0}")
  @MethodSource("seeds")
  void goodCaseAllNodesDeliverTheSameCertificatesOverSeveralEpochs(long seed) {
    Simulation sim = simulation(seed, network().withDuplicateRate(0.05));
    injectRequests(sim, 40);
    long sns = 4L * EPOCH_LENGTH;
    run(sim, NODES, sns, Duration.ofSeconds(30));
    for (NodeId id : NODES) {
      FakeIssApp a = app(sim, id);
      sim.check(aborted(a, sns) == 0, "node " + id + " aborted sns in the good case");
      sim.check(a.epochs.subList(0, 3).equals(List.of(1L, 2L, 3L)), "epochs " + a.epochs);
      sim.check(
          a.stableCheckpoints.containsAll(List.of(16L, 32L, 48L)),
          "node " + id + " stable checkpoints " + a.stableCheckpoints);
      // Segments are interleaved: sn k of an epoch is led by node k mod 4.
      for (long sn = 0; sn < sns; sn++) {
        String batch = a.delivered.get(sn).getMsc().getBatchId().toStringUtf8();
        sim.check(batch.startsWith("node " + (sn % 4) + " "), "sn " + sn + " has batch " + batch);
      }
      // Pruning garbage-collects the availability instances of old epochs.
      sim.check(
          !sim.module(id, AVAILABILITY, FakeAvailability.class).garbageCollected.isEmpty(),
          "node " + id + " never garbage-collected availability instances");
      // Epochs more than one behind the latest stable checkpoint are pruned.
      Iss iss = iss(sim, id);
      long stableEpoch = iss.lastStableCheckpoint().getSn() / EPOCH_LENGTH;
      sim.check(
          iss.retainedEpochs().get(0).value() >= stableEpoch - 1,
          "node " + id + " retains " + iss.retainedEpochs() + " at stable epoch " + stableEpoch);
    }
  }

  @ParameterizedTest(name = "seed={0}")
  @MethodSource("seeds")
  void withACrashedNodeItsSegmentsAreAbortedConsistently(long seed) {
    // Mir's simple policy keeps the crashed node a leader: its segment is aborted in every epoch.
    Simulation sim =
        simulation(seed, network(), e -> Iss.membershipProto(MEMBERSHIP), SIMPLE_PARAMS);
    NodeId crashed = NodeId.of("3");
    sim.crash(crashed);
    List<NodeId> correct = NODES.subList(0, 3);
    long sns = 3L * EPOCH_LENGTH;
    run(sim, correct, sns, Duration.ofSeconds(60));
    for (NodeId id : correct) {
      FakeIssApp a = app(sim, id);
      for (long sn = 0; sn < sns; sn++) {
        boolean empty = a.delivered.get(sn).getTypeCase() == Cert.TypeCase.TYPE_NOT_SET;
        sim.check(empty == (sn % 4 == 3), "node " + id + " sn " + sn + " empty=" + empty);
      }
    }
  }

  @ParameterizedTest(name = "seed={0}")
  @MethodSource("seeds")
  void aLeaderCrashingMidwayHasItsRemainingSnsAbortedConsistently(long seed) {
    Simulation sim =
        simulation(seed, network(), e -> Iss.membershipProto(MEMBERSHIP), SIMPLE_PARAMS);
    injectRequests(sim, 20);
    NodeId crashed = NodeId.of("0");
    sim.after(Duration.ofMillis(250), () -> sim.crash(crashed));
    List<NodeId> correct = NODES.subList(1, 4);
    long sns = 3L * EPOCH_LENGTH;
    run(sim, correct, sns, Duration.ofSeconds(60));
    for (NodeId id : correct) {
      FakeIssApp a = app(sim, id);
      // Node 0's segments of later epochs are all aborted.
      for (long sn = EPOCH_LENGTH; sn < sns; sn += 4) {
        sim.check(
            a.delivered.get(sn).getTypeCase() == Cert.TypeCase.TYPE_NOT_SET,
            "node " + id + " sn " + sn + " not aborted");
      }
      sim.check(aborted(a, sns) < sns, "everything aborted");
    }
  }

  @ParameterizedTest(name = "seed={0}")
  @MethodSource("seeds")
  void withTheDefaultPolicyACrashedLeaderIsDroppedAfterItsFirstAbortedSegment(long seed) {
    Simulation sim = simulation(seed, network());
    injectRequests(sim, 20);
    NodeId crashed = NodeId.of("0");
    sim.after(Duration.ofMillis(250), () -> sim.crash(crashed));
    List<NodeId> correct = NODES.subList(1, 4);
    long sns = 6L * EPOCH_LENGTH;
    run(sim, correct, sns, Duration.ofSeconds(60));
    for (NodeId id : correct) {
      FakeIssApp a = app(sim, id);
      // Only the crashed node's segment of the epoch it crashed in is aborted (4 sns at most);
      // Mir's policy aborts 4 in every epoch after.
      sim.check(aborted(a, sns) <= 4, "node " + id + ": " + aborted(a, sns) + " aborted");
      sim.check(aborted(a, sns) > 0, "node " + id + ": the crash aborted nothing");
      Iss iss = iss(sim, id);
      sim.check(
          iss.currentLeaders().equals(List.of(NodeId.of("1"), NodeId.of("2"), NodeId.of("3"))),
          "node " + id + " leaders " + iss.currentLeaders());
    }
  }

  @ParameterizedTest(name = "seed={0}")
  @MethodSource("seeds")
  void withOneLeaderOnlyThatNodeProposesAndACrashMovesLeadershipOn(long seed) {
    Iss.Params one = PARAMS.withLeaderCount(1);
    Simulation sim = simulation(seed, network(), e -> Iss.membershipProto(MEMBERSHIP), one);
    injectRequests(sim, 20);
    run(sim, NODES, 8, Duration.ofSeconds(30)); // epochs of 4 sns: node 0 leads them all
    for (NodeId id : NODES) {
      sim.check(
          iss(sim, id).currentLeaders().equals(List.of(NodeId.of("0"))),
          "leaders " + iss(sim, id).currentLeaders());
    }
    sim.crash(NodeId.of("0"));
    List<NodeId> correct = NODES.subList(1, 4);
    long target = app(sim, NodeId.of("1")).nextSn + 12;
    run(sim, correct, target, Duration.ofSeconds(60));
    for (NodeId id : correct) {
      sim.check(
          iss(sim, id).currentLeaders().equals(List.of(NodeId.of("1"))),
          "node " + id + " leaders " + iss(sim, id).currentLeaders());
    }
  }

  @ParameterizedTest(name = "seed={0}")
  @MethodSource("seeds")
  void underMessageLossAllNodesStillAgree(long seed) {
    Simulation sim = simulation(seed, network().withDropRate(0.05).withDuplicateRate(0.05));
    injectRequests(sim, 20);
    run(sim, NODES, 3L * EPOCH_LENGTH, Duration.ofSeconds(90));
  }

  @ParameterizedTest(name = "seed={0}")
  @MethodSource("seeds")
  void aNodePartitionedForSeveralEpochsCatchesUpByStateTransfer(long seed) {
    Simulation sim = simulation(seed, network());
    injectRequests(sim, 20);
    NodeId lagging = NodeId.of("3");
    List<NodeId> others = NODES.subList(0, 3);
    sim.partition(List.of(lagging));
    run(sim, others, 5L * EPOCH_LENGTH, Duration.ofSeconds(60));
    sim.check(app(sim, lagging).nextSn < EPOCH_LENGTH, "the partitioned node made progress");
    sim.heal();
    long target = app(sim, NodeId.of("0")).nextSn + 2L * EPOCH_LENGTH;
    run(sim, NODES, target, Duration.ofSeconds(60));
    FakeIssApp a = app(sim, lagging);
    sim.check(
        !a.restoredAt.isEmpty() && a.restoredAt.getLast() > 0,
        "no state transfer: " + a.restoredAt);
    sim.check(
        iss(sim, lagging).currentEpoch().value()
            >= iss(sim, NodeId.of("0")).currentEpoch().value() - 1,
        "lagging node still behind");
  }

  /** Hostile orderer messages, as if sent by node 3 (a member) and node 9 (never a member). */
  static EventList garbage(long round) {
    EventList l = EventList.empty();
    PbftMessage prepare =
        PbftMessage.newBuilder()
            .setPrepare(
                Prepare.newBuilder()
                    .setSn(round)
                    .setView(0)
                    .setDigest(ByteString.copyFromUtf8("forged " + round)))
            .build();
    List<SbMessage> msgs =
        List.of(
            IssEvents.sbMessage(-1, 0, prepare),
            IssEvents.sbMessage(0, Long.MAX_VALUE, prepare),
            IssEvents.sbMessage(0, -3, prepare),
            IssEvents.sbMessage(round % 5, round % 4, prepare),
            IssEvents.sbMessage(round % 5 + 1, 0, PbftMessage.getDefaultInstance()),
            IssEvents.sbMessage(1000 + round, 0, prepare));
    for (SbMessage m : msgs) {
      for (String from : List.of("3", "9")) {
        l.add(Events.messageReceived(NodeId.of(from), Events.netMessage(Iss.DEFAULT_ID, m)));
      }
    }
    l.add(
        Events.messageReceived(
            NodeId.of("3"),
            Events.netMessage(
                Iss.DEFAULT_ID,
                StableCheckpointMessage.newBuilder().setCheckpoint(GENESIS).build())));
    return l;
  }

  @ParameterizedTest(name = "seed={0}")
  @MethodSource("seeds")
  void hostileOrdererMessagesAreRejectedWithoutHarm(long seed) {
    Simulation sim = simulation(seed, network());
    injectRequests(sim, 20);
    List<NodeId> targets = NODES.subList(0, 3);
    for (int r = 0; r < 40; r++) {
      long round = r;
      sim.after(
          Duration.ofMillis(50L * r),
          () -> {
            for (NodeId id : targets) {
              sim.inject(id, garbage(round));
            }
          });
    }
    run(sim, NODES, 3L * EPOCH_LENGTH, Duration.ofSeconds(60), true);
    for (NodeId id : targets) {
      sim.check(iss(sim, id).rejectedMessages() > 0, "node " + id + " rejected nothing");
    }
  }

  @ParameterizedTest(name = "seed={0}")
  @MethodSource("seeds")
  void aNodeRemovedByReconfigurationStopsAndTheOthersGoOnWithShorterEpochs(long seed) {
    NodeId removed = NodeId.of("3");
    Membership smaller = MEMBERSHIP.without(removed);
    // Decided in epoch 1, the smaller membership governs epoch 1 + ConfigOffset = 3.
    Simulation sim =
        simulation(seed, network(), e -> Iss.membershipProto(e >= 1 ? smaller : MEMBERSHIP));
    injectRequests(sim, 20);
    List<NodeId> remaining = NODES.subList(0, 3);
    // Epochs 0-2 have 16 sns, epochs 3-5 have 12.
    long sns = 3L * EPOCH_LENGTH + 3L * 12;
    run(sim, remaining, sns, Duration.ofSeconds(60));
    checkSafety(sim, NODES, false);
    sim.check(
        app(sim, removed).nextSn == 3L * EPOCH_LENGTH,
        "removed node went on: " + app(sim, removed).nextSn);
    for (NodeId id : remaining) {
      FakeIssApp a = app(sim, id);
      sim.check(aborted(a, sns) == 0, "node " + id + " aborted sns");
      for (long sn = 3L * EPOCH_LENGTH; sn < sns; sn++) {
        String batch = a.delivered.get(sn).getMsc().getBatchId().toStringUtf8();
        sim.check(
            batch.startsWith("node " + ((sn - 3L * EPOCH_LENGTH) % 3) + " "),
            "sn " + sn + " has batch " + batch);
      }
    }
  }

  @ParameterizedTest(name = "seed={0}")
  @MethodSource("seeds")
  void aNodeRestartedAfterSeveralEpochsCatchesUpByStateTransfer(long seed) {
    Simulation sim = simulation(seed, network());
    injectRequests(sim, 20);
    NodeId restarted = NodeId.of("2");
    List<NodeId> others = List.of(NodeId.of("0"), NodeId.of("1"), NodeId.of("3"));
    // Let node 2 take part in the first epochs, so that the others know it reached them.
    run(sim, NODES, 2L * EPOCH_LENGTH, Duration.ofSeconds(30));
    sim.crash(restarted);
    run(sim, others, 6L * EPOCH_LENGTH, Duration.ofSeconds(60));
    // It restarts from the genesis checkpoint, with empty application state.
    sim.restart(restarted);
    long target = app(sim, NodeId.of("0")).nextSn + 2L * EPOCH_LENGTH;
    run(sim, NODES, target, Duration.ofSeconds(60));
    sim.check(
        app(sim, restarted).restoredAt.getLast() >= 6L * EPOCH_LENGTH,
        "no state transfer: " + app(sim, restarted).restoredAt);
  }

  /** A run is a function of its seed: the same seed gives the same events, in the same order. */
  @ParameterizedTest(name = "seed={0}")
  @MethodSource("seeds")
  void aRunWithACrashAndDuplicatesIsReproducedExactlyFromItsSeed(long seed) {
    List<String> digests = new ArrayList<>();
    for (int run = 0; run < 2; run++) {
      Simulation sim =
          builder(seed, network().withDuplicateRate(0.1), e -> Iss.membershipProto(MEMBERSHIP))
              .recordEvents(true)
              .build();
      injectRequests(sim, 10);
      sim.after(Duration.ofMillis(300), () -> sim.crash(NodeId.of("1")));
      run(
          sim,
          List.of(NodeId.of("0"), NodeId.of("2"), NodeId.of("3")),
          2L * EPOCH_LENGTH,
          Duration.ofSeconds(60));
      digests.add(sim.eventLogDigest() + " at " + sim.now());
    }
    sim0Check(digests);
  }

  static void sim0Check(List<String> digests) {
    org.assertj.core.api.Assertions.assertThat(digests.get(1)).isEqualTo(digests.get(0));
  }
}
