package io.github.mirframework.examples.rbc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.github.mirframework.dsl.DslModule;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.examples.rbc.pb.Broadcast;
import io.github.mirframework.examples.rbc.pb.Deliver;
import io.github.mirframework.examples.rbc.pb.EchoMsg;
import io.github.mirframework.examples.rbc.pb.ReadyMsg;
import io.github.mirframework.examples.rbc.pb.SendMsg;
import io.github.mirframework.module.Module;
import io.github.mirframework.sim.NetworkModel;
import io.github.mirframework.sim.SimEnvironment;
import io.github.mirframework.sim.Simulation;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Reliable broadcast in the deterministic simulation: faults, crashes and Byzantine nodes. */
class ReliableBroadcastSimulationTest {
  static final List<NodeId> MEMBERS = NodeId.range(4);
  static final ReliableBroadcast.Config CONFIG = ReliableBroadcast.Config.defaults(MEMBERS);
  static final ModuleId RBC = CONFIG.self();
  static final ModuleId APP = CONFIG.consumer();

  /** Every node correct: the same factory a real deployment uses, with the simulated transport. */
  static Map<ModuleId, Module> correctNode(NodeId id, SimEnvironment env) {
    return RbcNode.modules(CONFIG, id, env.transport());
  }

  static void broadcast(Simulation sim, NodeId at, String value) {
    sim.inject(
        at,
        EventList.of(
            Event.of(
                RBC, Broadcast.newBuilder().setValue(ByteString.copyFromUtf8(value)).build())));
  }

  static List<Deliver> delivered(Simulation sim, NodeId id) {
    return sim.module(id, APP, DeliveryLog.class).delivered();
  }

  /** Checks agreement and integrity over the given correct nodes: no instance has two values. */
  static void checkSafety(Simulation sim, List<NodeId> correct) {
    Map<String, ByteString> valueOf = new HashMap<>();
    for (NodeId id : correct) {
      Set<String> seen = new HashSet<>();
      for (Deliver d : delivered(sim, id)) {
        String instance = d.getOrigin() + "/" + d.getSeq();
        sim.check(seen.add(instance), id + " delivered " + instance + " twice");
        ByteString prev = valueOf.putIfAbsent(instance, d.getValue());
        sim.check(
            prev == null || prev.equals(d.getValue()),
            "instance " + instance + " delivered as '" + prev + "' and '" + d.getValue() + "'");
      }
    }
  }

  @Test
  void everyBroadcastIsDeliveredEverywhereDespiteDuplicatesAndReordering() {
    Simulation sim =
        Simulation.builder(Simulation.seedOr(1))
            .nodes(MEMBERS)
            .network(
                NetworkModel.defaults()
                    .withLatency(Duration.ofMillis(1), Duration.ofMillis(40))
                    .withDuplicateRate(0.2))
            .factory(ReliableBroadcastSimulationTest::correctNode)
            .build();
    for (NodeId id : MEMBERS) {
      for (int i = 0; i < 3; i++) {
        broadcast(sim, id, id + "-" + i);
      }
    }
    boolean done =
        sim.runUntil(
            () -> MEMBERS.stream().allMatch(id -> delivered(sim, id).size() == 12),
            Duration.ofSeconds(10));
    sim.check(done, "not every node delivered the 12 broadcasts");
    checkSafety(sim, MEMBERS);
    for (NodeId id : MEMBERS) {
      ReliableBroadcast rbc = sim.module(id, RBC, ReliableBroadcast.class);
      assertThat(rbc.openInstances()).as("delivered instances are forgotten").isZero();
      assertThat(rbc.droppedMessages()).as("duplicates of votes are dropped").isPositive();
    }
  }

  @Test
  void aCrashedNodeDoesNotStopTheOthers() {
    Simulation sim =
        Simulation.builder(Simulation.seedOr(2))
            .nodes(MEMBERS)
            .factory(ReliableBroadcastSimulationTest::correctNode)
            .build();
    NodeId crashed = MEMBERS.get(3);
    List<NodeId> alive = MEMBERS.subList(0, 3);
    broadcast(sim, MEMBERS.get(0), "before the crash");
    sim.runFor(Duration.ofMillis(1)); // the SEND is on its way, but not all votes yet
    sim.crash(crashed);
    for (NodeId id : alive) {
      broadcast(sim, id, "after the crash from " + id);
    }
    boolean done =
        sim.runUntil(
            () -> alive.stream().allMatch(id -> delivered(sim, id).size() == 4),
            Duration.ofSeconds(10));
    sim.check(done, "the 3 correct nodes (2f + 1) did not deliver everything");
    checkSafety(sim, alive);
  }

  @Test
  void ownBroadcastsBeyondTheWindowWaitAndAreAllDelivered() {
    Simulation sim =
        Simulation.builder(Simulation.seedOr(3))
            .nodes(MEMBERS)
            .factory(ReliableBroadcastSimulationTest::correctNode)
            .build();
    int count = 3 * CONFIG.window() + 1;
    for (int i = 0; i < count; i++) {
      broadcast(sim, MEMBERS.get(1), "v" + i);
    }
    boolean done =
        sim.runUntil(
            () -> MEMBERS.stream().allMatch(id -> delivered(sim, id).size() == count),
            Duration.ofSeconds(30));
    sim.check(done, "not all " + count + " broadcasts delivered");
    checkSafety(sim, MEMBERS);
  }

  static LongStream lossSeeds() {
    return LongStream.rangeClosed(1, 5);
  }

  /** With lost messages, delivery is not guaranteed (no retransmission), but agreement is. */
  @ParameterizedTest
  @MethodSource("lossSeeds")
  void lostMessagesNeverCauseDisagreement(long seed) {
    Simulation sim =
        Simulation.builder(seed)
            .nodes(MEMBERS)
            .network(NetworkModel.defaults().withDropRate(0.25).withDuplicateRate(0.1))
            .factory(ReliableBroadcastSimulationTest::correctNode)
            .build();
    for (NodeId id : MEMBERS) {
      for (int i = 0; i < 5; i++) {
        broadcast(sim, id, id + "-" + i);
      }
    }
    sim.runFor(Duration.ofSeconds(5));
    checkSafety(sim, MEMBERS);
    long total = MEMBERS.stream().mapToLong(id -> delivered(sim, id).size()).sum();
    sim.check(total > 0, "nothing delivered at all");
  }

  // ---------------------------------------------------------------------------------------------
  // Byzantine nodes

  static final NodeId BYZANTINE = MEMBERS.get(3);
  static final NodeId INTRUDER = NodeId.of("intruder");

  /**
   * A Byzantine member: as origin of its instance 0 it sends value "A" to nodes 0 and 1 and "B" to
   * node 2, echoes and readies both, and sends malformed and out-of-window votes.
   */
  static Map<ModuleId, Module> byzantineNode(NodeId id, SimEnvironment env) {
    DslModule evil = new DslModule(RBC, CONFIG.net());
    ByteString a = ByteString.copyFromUtf8("A");
    ByteString b = ByteString.copyFromUtf8("B");
    evil.uponInit(
        () -> {
          evil.sendMessage(
              SendMsg.newBuilder().setSeq(0).setValue(a).build(), MEMBERS.subList(0, 2));
          evil.sendMessage(
              SendMsg.newBuilder().setSeq(0).setValue(b).build(), List.of(MEMBERS.get(2)));
          for (ByteString v : List.of(a, b)) {
            evil.sendMessage(vote(false, BYZANTINE, 0, v), MEMBERS);
            evil.sendMessage(vote(true, BYZANTINE, 0, v), MEMBERS);
          }
          // Votes that must be rejected: unknown origin, far future instance, oversized value,
          // and a forged READY for node 0's first instance with a value node 0 never sent.
          evil.sendMessage(vote(true, NodeId.of("nobody"), 0, a), MEMBERS);
          evil.sendMessage(vote(true, MEMBERS.get(0), 1_000_000, a), MEMBERS);
          evil.sendMessage(
              vote(
                  false,
                  MEMBERS.get(0),
                  0,
                  ByteString.copyFrom(new byte[CONFIG.maxValueBytes() + 1])),
              MEMBERS);
          evil.sendMessage(
              vote(true, MEMBERS.get(0), 0, ByteString.copyFromUtf8("forged")), MEMBERS);
        });
    Map<ModuleId, Module> modules = new LinkedHashMap<>();
    modules.put(CONFIG.net(), env.transport());
    modules.put(RBC, evil);
    modules.put(APP, new DeliveryLog(APP));
    return modules;
  }

  /** Not a member at all: its messages must be dropped unread. */
  static Map<ModuleId, Module> intruderNode(NodeId id, SimEnvironment env) {
    DslModule evil = new DslModule(RBC, CONFIG.net());
    evil.uponInit(
        () -> {
          for (int i = 0; i < 3; i++) {
            evil.sendMessage(
                vote(true, MEMBERS.get(1), 0, ByteString.copyFromUtf8("intruded")), MEMBERS);
          }
        });
    Map<ModuleId, Module> modules = new LinkedHashMap<>();
    modules.put(CONFIG.net(), env.transport());
    modules.put(RBC, evil);
    return modules;
  }

  static com.google.protobuf.Message vote(boolean ready, NodeId origin, long seq, ByteString v) {
    return ready
        ? ReadyMsg.newBuilder().setOrigin(origin.value()).setSeq(seq).setValue(v).build()
        : EchoMsg.newBuilder().setOrigin(origin.value()).setSeq(seq).setValue(v).build();
  }

  static LongStream byzantineSeeds() {
    return LongStream.rangeClosed(1, 5);
  }

  @ParameterizedTest
  @MethodSource("byzantineSeeds")
  void anEquivocatingOriginAndForgedVotesCannotBreakAgreement(long seed) {
    List<NodeId> all = new ArrayList<>(MEMBERS);
    all.add(INTRUDER);
    List<NodeId> correct = MEMBERS.subList(0, 3);
    Simulation sim =
        Simulation.builder(seed)
            .nodes(all)
            .network(NetworkModel.defaults().withLatency(Duration.ZERO, Duration.ofMillis(20)))
            .factory(
                (id, env) ->
                    id.equals(BYZANTINE)
                        ? byzantineNode(id, env)
                        : id.equals(INTRUDER) ? intruderNode(id, env) : correctNode(id, env))
            .build();
    for (NodeId id : correct) {
      broadcast(sim, id, "honest " + id);
    }
    // The correct nodes' broadcasts are delivered by all correct nodes (f = 1 Byzantine)...
    boolean done =
        sim.runUntil(
            () ->
                correct.stream()
                    .allMatch(
                        id ->
                            delivered(sim, id).stream()
                                    .filter(d -> !d.getOrigin().equals(BYZANTINE.value()))
                                    .count()
                                == 3),
            Duration.ofSeconds(10));
    sim.check(done, "correct broadcasts not delivered everywhere");
    sim.runFor(Duration.ofSeconds(1));
    // ...no instance is delivered with two values, the forged value never...
    checkSafety(sim, correct);
    for (NodeId id : correct) {
      for (Deliver d : delivered(sim, id)) {
        sim.check(
            !d.getValue().toStringUtf8().equals("forged")
                && !d.getValue().toStringUtf8().equals("intruded"),
            id + " delivered a forged value: " + d);
      }
      // ...and every bad message was counted as dropped, not thrown.
      assertThat(sim.module(id, RBC, ReliableBroadcast.class).droppedMessages())
          .as("messages dropped at " + id)
          .isGreaterThanOrEqualTo(3 + 3);
    }
  }
}
