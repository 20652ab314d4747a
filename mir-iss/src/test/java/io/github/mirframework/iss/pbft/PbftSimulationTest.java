package io.github.mirframework.iss.pbft;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import io.github.mirframework.crypto.CryptoModule;
import io.github.mirframework.crypto.EcdsaCrypto;
import io.github.mirframework.crypto.HasherModule;
import io.github.mirframework.crypto.PseudoCrypto;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.NetMessages;
import io.github.mirframework.event.pb.Init;
import io.github.mirframework.event.pb.MessageReceived;
import io.github.mirframework.event.pb.NetMessage;
import io.github.mirframework.event.pb.SendMessage;
import io.github.mirframework.iss.pbft.pb.CatchUpRequest;
import io.github.mirframework.iss.pbft.pb.Commit;
import io.github.mirframework.iss.pbft.pb.Done;
import io.github.mirframework.iss.pbft.pb.NewView;
import io.github.mirframework.iss.pbft.pb.PSetEntry;
import io.github.mirframework.iss.pbft.pb.PbftMessage;
import io.github.mirframework.iss.pbft.pb.Prepare;
import io.github.mirframework.iss.pbft.pb.Preprepare;
import io.github.mirframework.iss.pbft.pb.PreprepareRequest;
import io.github.mirframework.iss.pbft.pb.SignedViewChange;
import io.github.mirframework.iss.pbft.pb.ViewChange;
import io.github.mirframework.module.Module;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.sim.NetworkModel;
import io.github.mirframework.sim.Simulation;
import io.github.mirframework.types.EpochNr;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import io.github.mirframework.types.SeqNr;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The PBFT orderer of one segment on 4 nodes in the deterministic simulation, with the real hasher
 * and crypto modules (pseudo keys), the simulated transport, timer and WAL: good case, crashed
 * leader (from the start and midway), message loss, an equivocating leader and a Byzantine node
 * sending garbage and forged view-change messages. Safety (no two correct nodes deliver different
 * outcomes for a sequence number, nothing twice) is checked on every run, liveness where at most
 * one node is faulty. A failure names the seed; rerun one with {@code -Dmir.sim.seed=N}.
 */
@Timeout(120)
class PbftSimulationTest {
  static final List<NodeId> NODES = NodeId.range(4);
  static final NodeId N0 = NodeId.of("0");
  static final NodeId N1 = NodeId.of("1");
  static final NodeId N2 = NodeId.of("2");
  static final NodeId N3 = NodeId.of("3");
  static final List<SeqNr> SNS = List.of(SeqNr.of(0), SeqNr.of(4), SeqNr.of(8), SeqNr.of(12));
  static final Segment SEGMENT = new Segment(EpochNr.of(0), 0, N0, NODES, SNS);
  static final PbftParams PARAMS = PbftParams.fromMaxProposeDelay(Duration.ofMillis(100), 4);
  static final Map<NodeId, EcdsaCrypto> KEYS =
      NODES.stream()
          .collect(Collectors.toMap(Function.identity(), n -> PseudoCrypto.create(NODES, n)));

  static LongStream seeds() {
    String s = System.getProperty("mir.sim.seed");
    return s == null || s.isBlank()
        ? LongStream.rangeClosed(1, 4)
        : LongStream.of(Long.parseLong(s));
  }

  // ---------------------------------------------------------------------------------------------
  // Harness

  static Simulation simulation(
      long seed, NetworkModel network, Map<NodeId, Function<NodeId, PassiveModule>> custom) {
    return builder(seed, network, custom).build();
  }

  static Simulation.Builder builder(
      long seed, NetworkModel network, Map<NodeId, Function<NodeId, PassiveModule>> custom) {
    return Simulation.builder(seed)
        .nodes(NODES)
        .network(network)
        .factory(
            (id, env) -> {
              Map<ModuleId, Module> m = new LinkedHashMap<>();
              m.put(OrdererHost.NET, env.transport());
              m.put(OrdererHost.TIMER, env.timer());
              m.put(OrdererHost.WAL, env.wal());
              m.put(OrdererHost.HASHER, new HasherModule());
              m.put(OrdererHost.CRYPTO, new CryptoModule(KEYS.get(id)));
              m.put(
                  OrdererHost.SELF,
                  custom.containsKey(id)
                      ? custom.get(id).apply(id)
                      : new OrdererHost(id, SEGMENT, PARAMS));
              return m;
            });
  }

  static NetworkModel network() {
    return NetworkModel.defaults().withLatency(Duration.ofMillis(1), Duration.ofMillis(20));
  }

  static OrdererHost host(Simulation sim, NodeId id) {
    return sim.module(id, OrdererHost.SELF, OrdererHost.class);
  }

  static boolean allDelivered(Simulation sim, List<NodeId> nodes) {
    for (NodeId id : nodes) {
      if (host(sim, id).delivered.size() < SNS.size()) {
        return false;
      }
    }
    return true;
  }

  /** No node delivered twice or inconsistently, and correct nodes agree on every outcome. */
  static void checkSafety(Simulation sim, List<NodeId> correct) {
    Map<SeqNr, OrdererHost.Delivery> seen = new LinkedHashMap<>();
    Map<SeqNr, NodeId> seenAt = new LinkedHashMap<>();
    for (NodeId id : correct) {
      OrdererHost h = host(sim, id);
      sim.check(h.problems.isEmpty(), "node " + id + ": " + h.problems);
      for (Map.Entry<SeqNr, OrdererHost.Delivery> d : h.delivered.entrySet()) {
        sim.check(SNS.contains(d.getKey()), "node " + id + " delivered foreign sn " + d.getKey());
        OrdererHost.Delivery other = seen.putIfAbsent(d.getKey(), d.getValue());
        sim.check(
            other == null || other.equals(d.getValue()),
            "sn "
                + d.getKey()
                + ": node "
                + seenAt.get(d.getKey())
                + " delivered "
                + other
                + ", node "
                + id
                + " delivered "
                + d.getValue());
        seenAt.putIfAbsent(d.getKey(), id);
      }
    }
  }

  static void runToCompletion(Simulation sim, List<NodeId> correct, Duration bound) {
    boolean done = sim.runUntil(() -> allDelivered(sim, correct), bound);
    checkSafety(sim, correct);
    List<String> states = new ArrayList<>();
    for (NodeId id : correct) {
      states.add(host(sim, id).orderer + " " + host(sim, id).delivered.keySet());
    }
    sim.check(done, "not every correct node delivered every sn: " + states);
    // Keep running a while: no late delivery may contradict the earlier ones.
    sim.runFor(Duration.ofSeconds(2));
    checkSafety(sim, correct);
  }

  static ByteString cert(int k) {
    return ByteString.copyFromUtf8("cert " + k + " of node 0");
  }

  // ---------------------------------------------------------------------------------------------
  // Scenarios

  @ParameterizedTest(name = "seed={0}")
  @MethodSource("seeds")
  void goodCaseEveryNodeDeliversTheLeadersProposalsInView0(long seed) {
    Simulation sim = simulation(seed, network().withDuplicateRate(0.1), Map.of());
    runToCompletion(sim, NODES, Duration.ofSeconds(5));
    for (NodeId id : NODES) {
      OrdererHost h = host(sim, id);
      for (int i = 0; i < SNS.size(); i++) {
        sim.check(
            h.delivered.get(SNS.get(i)).equals(new OrdererHost.Delivery(cert(i + 1), false)),
            "node " + id + " delivered " + h.delivered.get(SNS.get(i)) + " for " + SNS.get(i));
      }
      sim.check(h.orderer.view() == 0, "node " + id + " left view 0: " + h.orderer);
      sim.check(h.orderer.isStable(), "node " + id + " is not stable: " + h.orderer);
      sim.check(h.orderer.rejectedMessages() == 0, "node " + id + " rejected messages");
    }
  }

  @ParameterizedTest(name = "seed={0}")
  @MethodSource("seeds")
  void withTheLeaderCrashedFromTheStartEverySnIsAbortedAfterAViewChange(long seed) {
    Simulation sim = simulation(seed, network(), Map.of());
    sim.crash(N0);
    List<NodeId> correct = List.of(N1, N2, N3);
    runToCompletion(sim, correct, Duration.ofSeconds(30));
    for (NodeId id : correct) {
      OrdererHost h = host(sim, id);
      for (SeqNr sn : SNS) {
        sim.check(
            h.delivered.get(sn).equals(new OrdererHost.Delivery(ByteString.EMPTY, true)),
            "node " + id + " delivered " + h.delivered.get(sn) + " for " + sn);
      }
      sim.check(h.orderer.view() >= 1, "node " + id + " never changed view");
    }
  }

  @ParameterizedTest(name = "seed={0}")
  @MethodSource("seeds")
  void withTheLeaderCrashingMidwayEarlierProposalsSurviveAndTheRestIsAborted(long seed) {
    Simulation sim = simulation(seed, network(), Map.of());
    // Proposals go out at about 100, 200, 300 and 400 ms.
    sim.after(Duration.ofMillis(150 + seed * 40), () -> sim.crash(N0));
    List<NodeId> correct = List.of(N1, N2, N3);
    runToCompletion(sim, correct, Duration.ofSeconds(30));
    OrdererHost h = host(sim, N1);
    sim.check(
        !h.delivered.get(SNS.get(0)).aborted(), "the first proposal was aborted: " + h.delivered);
    boolean seenAborted = false;
    for (int i = 0; i < SNS.size(); i++) {
      OrdererHost.Delivery d = h.delivered.get(SNS.get(i));
      // Proposals are made in order, so once one is aborted, all later ones are.
      sim.check(
          d.aborted() || (!seenAborted && d.certData().equals(cert(i + 1))),
          "unexpected outcome " + d + " for " + SNS.get(i) + " in " + h.delivered);
      seenAborted |= d.aborted();
    }
  }

  /**
   * 10% of all messages are lost. Like Mir, PBFT does not retransmit Preprepares, Prepares, Commits
   * or NewViews (it relies on the transport, and on view changes with doubling timeouts, Done
   * messages and catch-up), so it may need several views; safety must hold and every sequence
   * number must still be delivered everywhere.
   */
  @ParameterizedTest(name = "seed={0}")
  @MethodSource("seeds")
  void withTenPercentMessageLossEveryNodeStillDeliversTheSameOutcomes(long seed) {
    Simulation sim = simulation(seed, network().withDropRate(0.1), Map.of());
    runToCompletion(sim, NODES, Duration.ofSeconds(180));
    sim.check(sim.messagesDropped() > 0, "nothing was lost");
  }

  /**
   * Seeds of the loss sweeps: 1..8 by default, 1..N with {@code -Dmir.sweep.seeds=N} (e.g. 200), or
   * the single seed of {@code -Dmir.sim.seed}.
   */
  static LongStream sweepSeeds() {
    String one = System.getProperty("mir.sim.seed");
    if (one != null && !one.isBlank()) {
      return LongStream.of(Long.parseLong(one));
    }
    String n = System.getProperty("mir.sweep.seeds");
    return LongStream.rangeClosed(1, n == null || n.isBlank() ? 8 : Long.parseLong(n));
  }

  /**
   * Liveness under steady loss with too few nodes: one node (a different one per seed, the leader
   * for every fourth seed) is crashed from the start and 10 % of all messages are lost for the
   * whole run, with latencies of 1 to 20 ms reordering the rest. The three others need every one of
   * their votes; without retransmission a slot could stall forever (Mir, and Mir-Java before).
   * Every sequence number must be delivered, the same everywhere, within a bound.
   */
  @ParameterizedTest(name = "seed={0}")
  @MethodSource("sweepSeeds")
  void withOneNodeCrashedAndSteadyTenPercentLossEverySnIsStillDelivered(long seed) {
    Simulation sim = simulation(seed, network().withDropRate(0.1), Map.of());
    NodeId crashed = NODES.get((int) (seed % NODES.size()));
    sim.crash(crashed);
    List<NodeId> correct = new ArrayList<>(NODES);
    correct.remove(crashed);
    runToCompletion(sim, correct, Duration.ofSeconds(120));
  }

  /**
   * Everything at once: the leader crashes midway while 10% of messages are lost or duplicated
   * during the first 30 s. With only three nodes left, a view needs every one of their Prepares and
   * Commits, and timeouts double per view, so progress under loss can take long; once the loss
   * stops, the next view with a live primary finishes the segment.
   */
  @ParameterizedTest(name = "seed={0}")
  @MethodSource("seeds")
  void withTheLeaderCrashingUnderMessageLossTheOthersStillAgreeOnEverySn(long seed) {
    Simulation sim = simulation(seed, network().withDropRate(0.1).withDuplicateRate(0.1), Map.of());
    sim.after(Duration.ofMillis(100 + seed * 70), () -> sim.crash(N0));
    sim.after(Duration.ofSeconds(30), () -> sim.network(network()));
    runToCompletion(sim, List.of(N1, N2, N3), Duration.ofSeconds(600));
  }

  /** A run is a function of its seed: the same seed gives the same events, in the same order. */
  @ParameterizedTest(name = "seed={0}")
  @MethodSource("seeds")
  void aViewChangeUnderLossIsReproducedExactlyFromItsSeed(long seed) {
    List<String> digests = new ArrayList<>();
    for (int run = 0; run < 2; run++) {
      Simulation sim =
          builder(seed, network().withDropRate(0.1), Map.of()).recordEvents(true).build();
      sim.after(Duration.ofMillis(250), () -> sim.crash(N0));
      sim.after(Duration.ofSeconds(30), () -> sim.network(network()));
      runToCompletion(sim, List.of(N1, N2, N3), Duration.ofSeconds(600));
      digests.add(sim.eventLogDigest() + " at " + sim.now());
    }
    assertThat(digests.get(1)).isEqualTo(digests.get(0));
  }

  /**
   * A simulation whose leader (node 0) sends one proposal to {@code a} and another to {@code b}.
   */
  static Simulation withEquivocatingLeader(long seed, List<NodeId> a, List<NodeId> b) {
    return simulation(
        seed,
        network(),
        Map.of(N0, id -> new OrdererHost(id, SEGMENT, PARAMS, l -> equivocate(l, a, b))));
  }

  /**
   * The leader sends one proposal to itself and node 1 and another to nodes 2 and 3 for every
   * sequence number: neither gathers a strong quorum of Prepares, so view 1 aborts them all.
   */
  @ParameterizedTest(name = "seed={0}")
  @MethodSource("seeds")
  void anEquivocatingLeaderCannotGetTwoProposalsDeliveredForOneSn(long seed) {
    Simulation sim = withEquivocatingLeader(seed, List.of(N0, N1), List.of(N2, N3));
    List<NodeId> correct = List.of(N1, N2, N3);
    runToCompletion(sim, correct, Duration.ofSeconds(30));
    for (NodeId id : correct) {
      for (SeqNr sn : SNS) {
        OrdererHost.Delivery d = host(sim, id).delivered.get(sn);
        sim.check(d.aborted(), "node " + id + " delivered " + d + " for " + sn);
      }
    }
  }

  /**
   * A leader that sends the real proposal to {@code a} and another one to {@code b}, while its own
   * orderer otherwise follows the protocol.
   */
  static List<Event> equivocate(List<Event> events, List<NodeId> a, List<NodeId> b) {
    List<Event> out = new ArrayList<>();
    for (Event e : events) {
      List<Event> followUps = equivocate(e.followUps(), a, b);
      if (e.payload() instanceof SendMessage s) {
        var pp = NetMessages.unpack(s.getMsg(), PbftMessage.class);
        if (pp.isPresent() && pp.get().hasPreprepare()) {
          Preprepare real = pp.get().getPreprepare();
          Preprepare twin =
              real.toBuilder().setCertData(ByteString.copyFromUtf8("evil twin")).build();
          out.add(
              Events.sendMessage(
                  OrdererHost.NET,
                  OrdererHost.SELF,
                  PbftMessage.newBuilder().setPreprepare(real).build(),
                  a));
          out.add(
              Events.sendMessage(
                      OrdererHost.NET,
                      OrdererHost.SELF,
                      PbftMessage.newBuilder().setPreprepare(twin).build(),
                      b)
                  .withFollowUps(followUps));
          continue;
        }
      }
      out.add(Event.of(e.destination(), e.payload(), followUps));
    }
    return out;
  }

  @ParameterizedTest(name = "seed={0}")
  @MethodSource("seeds")
  void aByzantineNodeSendingGarbageAndForgedViewChangesCannotStopOrFoolTheOthers(long seed) {
    Simulation sim = simulation(seed, network(), Map.of(N3, GarbageNode::new));
    List<NodeId> correct = List.of(N0, N1, N2);
    runToCompletion(sim, correct, Duration.ofSeconds(30));
    for (NodeId id : correct) {
      OrdererHost h = host(sim, id);
      for (int i = 0; i < SNS.size(); i++) {
        sim.check(
            h.delivered.get(SNS.get(i)).equals(new OrdererHost.Delivery(cert(i + 1), false)),
            "node " + id + " delivered " + h.delivered.get(SNS.get(i)));
      }
      sim.check(h.orderer.rejectedMessages() > 0, "node " + id + " rejected nothing");
    }
  }

  /**
   * With the leader crashed, the Byzantine-free view change must also get past a node that sends
   * forged NewViews and ViewChanges. Node 3 is Byzantine and node 0 crashed would be two faults, so
   * here node 0 crashes and node 3 only adds garbage while otherwise following the protocol.
   */
  @ParameterizedTest(name = "seed={0}")
  @MethodSource("seeds")
  void aViewChangeSucceedsDespiteForgedViewChangeMessages(long seed) {
    Simulation sim =
        simulation(
            seed,
            network(),
            Map.of(N3, id -> new OrdererHost(id, SEGMENT, PARAMS, withForgeries(id))));
    sim.crash(N0);
    List<NodeId> correct = List.of(N1, N2, N3);
    runToCompletion(sim, correct, Duration.ofSeconds(30));
    for (NodeId id : List.of(N1, N2)) {
      sim.check(host(sim, id).orderer.rejectedMessages() > 0, "node " + id + " rejected nothing");
    }
  }

  /**
   * The leader sends its real proposals to nodes 0, 1 and 2 and other ones to node 3: the real ones
   * commit at nodes 0 to 2 (a strong quorum), and node 3, which can neither commit nor get a view
   * change through alone, catches up from their Done messages.
   */
  @ParameterizedTest(name = "seed={0}")
  @MethodSource("seeds")
  void aNodeFooledByAnEquivocatingLeaderCatchesUpWithTheCommittedProposals(long seed) {
    Simulation sim = withEquivocatingLeader(seed, List.of(N0, N1, N2), List.of(N3));
    List<NodeId> correct = List.of(N1, N2, N3);
    runToCompletion(sim, correct, Duration.ofSeconds(30));
    for (NodeId id : correct) {
      for (int i = 0; i < SNS.size(); i++) {
        OrdererHost.Delivery d = host(sim, id).delivered.get(SNS.get(i));
        sim.check(
            d.equals(new OrdererHost.Delivery(cert(i + 1), false)),
            "node " + id + " delivered " + d + " for " + SNS.get(i));
      }
    }
  }

  /**
   * Node 0 (the leader) is cut off for a while, so the others change to view 1, whose primary, node
   * 1, is Byzantine: its NewViews re-propose data nobody prepared. The correct nodes reject them,
   * move on to view 2 (primary node 2) and finish there; node 0 joins after the partition.
   */
  @ParameterizedTest(name = "seed={0}")
  @MethodSource("seeds")
  void correctNodesRejectABadNewViewAndFinishInTheNextView(long seed) {
    Simulation sim =
        simulation(
            seed,
            network(),
            Map.of(
                N1, id -> new OrdererHost(id, SEGMENT, PARAMS, PbftSimulationTest::forgeNewView)));
    sim.partition(List.of(N0));
    sim.after(Duration.ofSeconds(4), sim::heal);
    List<NodeId> correct = List.of(N0, N2, N3);
    runToCompletion(sim, correct, Duration.ofSeconds(60));
    for (NodeId id : List.of(N2, N3)) {
      OrdererHost h = host(sim, id);
      sim.check(h.orderer.view() >= 2, "node " + id + " did not leave view 1: " + h.orderer);
      sim.check(h.orderer.rejectedMessages() > 0, "node " + id + " accepted the bad NewView");
      for (SeqNr sn : SNS) {
        sim.check(h.delivered.get(sn).aborted(), "node " + id + " delivered " + h.delivered);
      }
    }
  }

  /** Replaces every Preprepare of the NewViews this node sends by one with forged data. */
  static List<Event> forgeNewView(List<Event> events) {
    List<Event> out = new ArrayList<>();
    for (Event e : events) {
      List<Event> followUps = forgeNewView(e.followUps());
      if (e.payload() instanceof SendMessage s) {
        var msg = NetMessages.unpack(s.getMsg(), PbftMessage.class);
        if (msg.isPresent() && msg.get().hasNewView()) {
          NewView.Builder nv = msg.get().getNewView().toBuilder();
          for (int i = 0; i < nv.getPrepreparesCount(); i++) {
            nv.setPreprepares(
                i,
                nv.getPreprepares(i).toBuilder()
                    .setAborted(false)
                    .setCertData(ByteString.copyFromUtf8("forged by the new primary")));
          }
          out.add(
              Events.sendMessage(
                      OrdererHost.NET,
                      OrdererHost.SELF,
                      PbftMessage.newBuilder().setNewView(nv).build(),
                      NODES)
                  .withFollowUps(followUps));
          continue;
        }
      }
      out.add(Event.of(e.destination(), e.payload(), followUps));
    }
    return out;
  }

  /** Adds forged view-change messages to the first 50 outputs of an otherwise correct node. */
  static UnaryOperator<List<Event>> withForgeries(NodeId id) {
    int[] batches = {0};
    return events -> {
      if (batches[0]++ >= 50) {
        return events;
      }
      List<Event> out = new ArrayList<>(events);
      out.addAll(GarbageNode.forgedViewChangeMessages(id));
      return out;
    };
  }

  // ---------------------------------------------------------------------------------------------
  // A Byzantine node

  /** Answers every message with garbage, forged and malformed PBFT messages. */
  static final class GarbageNode implements PassiveModule {
    @Override
    public boolean receivesMessages() {
      return true;
    }

    final NodeId self;
    final EcdsaCrypto key;
    int reactions;

    GarbageNode(NodeId self) {
      this.self = self;
      this.key = KEYS.get(self);
    }

    @Override
    public EventList applyEvents(EventList events) {
      EventList out = EventList.empty();
      for (Event e : events) {
        switch (e.payload()) {
          case Init i -> out.addAll(garbage(self, key));
          case MessageReceived m -> {
            // Bounded, so that the simulation stays fast.
            if (!m.getFrom().equals(self.value()) && reactions++ < 200) {
              var msg = NetMessages.unpack(m.getMsg(), PbftMessage.class);
              if (msg.isPresent() && msg.get().hasPreprepare()) {
                out.addAll(echoWrong(msg.get().getPreprepare()));
              }
              if (reactions % 20 == 0) {
                out.addAll(garbage(self, key));
              }
            }
          }
          default -> {}
        }
      }
      return out;
    }

    static List<Event> echoWrong(Preprepare pp) {
      ByteString wrong = ByteString.copyFromUtf8("a digest of something else....!!");
      return List.of(
          send(
              PbftMessage.newBuilder()
                  .setPrepare(
                      Prepare.newBuilder().setSn(pp.getSn()).setView(pp.getView()).setDigest(wrong))
                  .build()),
          send(
              PbftMessage.newBuilder()
                  .setCommit(
                      Commit.newBuilder().setSn(pp.getSn()).setView(pp.getView()).setDigest(wrong))
                  .build()),
          send(
              PbftMessage.newBuilder()
                  .setCatchUpResponse(pp.toBuilder().setCertData(ByteString.copyFromUtf8("forged")))
                  .build()));
    }

    static Event send(PbftMessage msg) {
      return Events.sendMessage(OrdererHost.NET, OrdererHost.SELF, msg, NODES);
    }

    static List<Event> garbage(NodeId self, EcdsaCrypto key) {
      List<Event> out = new ArrayList<>();
      ByteString d = ByteString.copyFromUtf8("0123456789abcdef0123456789abcdef");
      // A proposal although not the primary; with data though aborted; for foreign sns and views.
      out.add(
          send(
              PbftMessage.newBuilder()
                  .setPreprepare(Preprepare.newBuilder().setSn(0).setView(0).setCertData(d))
                  .build()));
      out.add(
          send(
              PbftMessage.newBuilder()
                  .setPreprepare(
                      Preprepare.newBuilder().setSn(4).setView(3).setAborted(true).setCertData(d))
                  .build()));
      out.add(
          send(
              PbftMessage.newBuilder()
                  .setPrepare(Prepare.newBuilder().setSn(5).setView(0).setDigest(d))
                  .build()));
      out.add(
          send(
              PbftMessage.newBuilder()
                  .setPrepare(Prepare.newBuilder().setSn(4).setView(-1).setDigest(d))
                  .build()));
      out.add(
          send(
              PbftMessage.newBuilder()
                  .setCommit(Commit.newBuilder().setSn(8).setView(1000).setDigest(d))
                  .build()));
      out.add(
          send(
              PbftMessage.newBuilder()
                  .setCommit(Commit.newBuilder().setSn(8).setView(0).setDigest(ByteString.EMPTY))
                  .build()));
      // Future-view messages that get buffered.
      out.add(
          send(
              PbftMessage.newBuilder()
                  .setPrepare(Prepare.newBuilder().setSn(12).setView(2).setDigest(d))
                  .build()));
      // Done messages with wrong digests and a wrong count; requests and unsolicited responses.
      Done.Builder done = Done.newBuilder();
      for (int i = 0; i < SNS.size(); i++) {
        done.addDigests(d);
      }
      out.add(send(PbftMessage.newBuilder().setDone(done).build()));
      out.add(send(PbftMessage.newBuilder().setDone(Done.newBuilder().addDigests(d)).build()));
      out.add(
          send(
              PbftMessage.newBuilder()
                  .setCatchUpRequest(CatchUpRequest.newBuilder().setSn(77).setDigest(d))
                  .build()));
      out.add(
          send(
              PbftMessage.newBuilder()
                  .setPreprepareRequest(PreprepareRequest.newBuilder().setSn(0).setDigest(d))
                  .build()));
      out.add(
          send(
              PbftMessage.newBuilder()
                  .setMissingPreprepare(Preprepare.newBuilder().setSn(0).setCertData(d))
                  .build()));
      out.add(send(PbftMessage.getDefaultInstance()));
      // Undecodable bytes.
      NetMessage undecodable =
          NetMessage.newBuilder()
              .setDestModule(OrdererHost.SELF.value())
              .setPayload(
                  Any.newBuilder()
                      .setTypeUrl(Any.pack(PbftMessage.getDefaultInstance()).getTypeUrl())
                      .setValue(ByteString.copyFrom(new byte[] {(byte) 0x80})))
              .build();
      out.add(Events.sendMessage(OrdererHost.NET, undecodable, NODES));
      out.addAll(forgedViewChangeMessages(self));
      return out;
    }

    /**
     * ViewChanges and NewViews a Byzantine node can send: a ViewChange with a bad signature,
     * malformed ones (foreign sn, entry not below the view, duplicate entries) signed correctly, a
     * ViewChange for a view whose primary is somebody else, and NewViews for view 3 (whose primary
     * is node 3) carrying ViewChanges forged in the names of other nodes or too few of them.
     */
    static List<Event> forgedViewChangeMessages(NodeId self) {
      EcdsaCrypto key = KEYS.get(self);
      List<Event> out = new ArrayList<>();
      ByteString d = ByteString.copyFromUtf8("0123456789abcdef0123456789abcdef");
      ViewChange good = ViewChange.newBuilder().setView(1).build();
      ViewChange view3 = ViewChange.newBuilder().setView(3).build();
      out.add(
          send(
              PbftMessage.newBuilder()
                  .setSignedViewChange(
                      SignedViewChange.newBuilder()
                          .setViewChange(good)
                          .setSignature(ByteString.copyFromUtf8("not a signature")))
                  .build()));
      for (ViewChange bad :
          List.of(
              good.toBuilder()
                  .addPSet(PSetEntry.newBuilder().setSn(3).setView(0).setDigest(d))
                  .build(),
              good.toBuilder()
                  .addPSet(PSetEntry.newBuilder().setSn(4).setView(1).setDigest(d))
                  .build(),
              good.toBuilder()
                  .addPSet(PSetEntry.newBuilder().setSn(4).setView(0).setDigest(d))
                  .addPSet(PSetEntry.newBuilder().setSn(4).setView(0).setDigest(d))
                  .build(),
              ViewChange.newBuilder().setView(0).build())) {
        out.add(
            send(
                PbftMessage.newBuilder()
                    .setSignedViewChange(
                        SignedViewChange.newBuilder()
                            .setViewChange(bad)
                            .setSignature(key.sign(PbftData.viewChangeSigData(bad))))
                    .build()));
      }
      NewView.Builder forged = NewView.newBuilder().setView(3);
      for (NodeId n : List.of(N0, N1, N2)) {
        forged
            .addViewChangeSenders(n.value())
            .addSignedViewChanges(
                SignedViewChange.newBuilder()
                    .setViewChange(view3)
                    .setSignature(key.sign(PbftData.viewChangeSigData(view3))));
      }
      for (SeqNr sn : SNS) {
        forged
            .addPreprepareSeqNrs(sn.value())
            .addPreprepares(
                Preprepare.newBuilder()
                    .setSn(sn.value())
                    .setView(3)
                    .setCertData(ByteString.copyFromUtf8("forged in view 3")));
      }
      out.add(send(PbftMessage.newBuilder().setNewView(forged).build()));
      NewView tooFew = forged.clone().clearViewChangeSenders().clearSignedViewChanges().build();
      out.add(send(PbftMessage.newBuilder().setNewView(tooFew).build()));
      return out;
    }
  }
}
