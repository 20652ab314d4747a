package io.github.mirframework.examples.rbc;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.github.mirframework.dsl.DslModule;
import io.github.mirframework.event.EventList;
import io.github.mirframework.examples.rbc.pb.Broadcast;
import io.github.mirframework.examples.rbc.pb.Deliver;
import io.github.mirframework.examples.rbc.pb.EchoMsg;
import io.github.mirframework.examples.rbc.pb.ReadyMsg;
import io.github.mirframework.examples.rbc.pb.SendMsg;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Bracha's reliable broadcast for {@code n >= 3f + 1} nodes, many instances at once: every node may
 * broadcast a sequence of values, and instance {@code (origin, seq)} is the origin's {@code seq}-th
 * value. If a correct node delivers {@code v} for an instance, every correct node delivers {@code
 * v} for it (even if the origin is Byzantine and sends different values to different nodes); what a
 * correct origin broadcasts is delivered by every correct node, as long as messages between correct
 * nodes arrive.
 *
 * <ol>
 *   <li>The origin sends {@code SEND(seq, v)} to all.
 *   <li>On the first {@code SEND} of an instance from its origin, a node sends {@code ECHO(v)} to
 *       all.
 *   <li>On {@code ECHO(v)} from more than {@code (n + f) / 2} nodes, or {@code READY(v)} from
 *       {@code f + 1} nodes, a node sends {@code READY(v)} to all (once per instance).
 *   <li>On {@code READY(v)} from {@code 2f + 1} nodes, a node delivers {@code v}.
 * </ol>
 *
 * <p><b>Untrusted input.</b> Only members' messages are handled ({@link
 * DslModule#uponMemberMessage}); a message with a value over {@code maxValueBytes}, a non-member
 * origin, an instance outside the window, or a second vote of the same node is dropped with {@link
 * DslModule#reject} and counted in {@link #droppedMessages()}.
 *
 * <p><b>Bounded state.</b> Per origin, only instances {@code low <= seq < low + window} are kept,
 * where {@code low} is the origin's first instance this node has not delivered; a delivered prefix
 * is forgotten. At most {@code n * window} instances are open, each with at most {@code 2n} votes
 * of at most {@code maxValueBytes} each. A node's own broadcasts beyond its window wait locally.
 *
 * <p><b>Scaling.</b> Vote handlers mark the instance on a keyed condition ({@link
 * DslModule#uponKeyedCondition}), so after each batch only the instances that got votes are
 * checked.
 *
 * <p>Not thread-safe: a passive module, called by one thread at a time.
 */
public final class ReliableBroadcast implements PassiveModule {

  /**
   * The module's configuration.
   *
   * @param self this module's ID
   * @param net the transport module
   * @param consumer the module that gets the {@link Deliver} events
   * @param members all nodes, this one included
   * @param maxValueBytes the largest value accepted
   * @param window how many instances per origin are open at once
   */
  public record Config(
      ModuleId self,
      ModuleId net,
      ModuleId consumer,
      List<NodeId> members,
      int maxValueBytes,
      int window) {
    /** Validates and copies. */
    public Config {
      Objects.requireNonNull(self, "self");
      Objects.requireNonNull(net, "net");
      Objects.requireNonNull(consumer, "consumer");
      members = List.copyOf(members);
      if (members.isEmpty() || new HashSet<>(members).size() != members.size()) {
        throw new IllegalArgumentException("members must be distinct and non-empty: " + members);
      }
      if (maxValueBytes < 1 || window < 1) {
        throw new IllegalArgumentException("maxValueBytes and window must be positive");
      }
    }

    /** Modules "rbc", "net" and "app", values up to 64 KiB, 16 open instances per origin. */
    public static Config defaults(List<NodeId> members) {
      return new Config(
          ModuleId.of("rbc"), ModuleId.of("net"), ModuleId.of("app"), members, 64 << 10, 16);
    }
  }

  /** An instance: the origin's {@code seq}-th broadcast. */
  private record InstanceId(NodeId origin, long seq) {}

  /** What this node knows about one instance. */
  private static final class Instance {
    boolean echoed;
    boolean readied;
    boolean delivered;
    final Map<NodeId, ByteString> echoes = new HashMap<>();
    final Map<NodeId, ByteString> readies = new HashMap<>();
  }

  private final Config config;
  private final DslModule dsl;
  private final Set<NodeId> members;
  private final int f;
  private final int echoQuorum;
  private final Map<InstanceId, Instance> instances = new HashMap<>();
  private final Map<NodeId, Long> low = new HashMap<>();
  private final ArrayDeque<ByteString> waiting = new ArrayDeque<>();
  private final DslModule.KeyedCondition<InstanceId> votesChanged;
  private final NodeId self;
  private long nextOwnSeq;
  private long delivered;

  /** Creates the module of node {@code self}. */
  public ReliableBroadcast(Config config, NodeId self) {
    this.config = Objects.requireNonNull(config, "config");
    this.self = Objects.requireNonNull(self, "self");
    if (!config.members().contains(self)) {
      throw new IllegalArgumentException(self + " is not a member of " + config.members());
    }
    this.members = Set.copyOf(config.members());
    int n = members.size();
    this.f = (n - 1) / 3;
    this.echoQuorum = (n + f) / 2 + 1;
    for (NodeId m : config.members()) {
      low.put(m, 0L);
    }

    dsl = new DslModule(config.self(), config.net());
    dsl.upon(Broadcast.class, this::onBroadcast);
    dsl.uponMemberMessage(SendMsg.class, config.members(), this::onSend);
    dsl.uponMemberMessage(
        EchoMsg.class,
        config.members(),
        (from, m) -> onVote(from, m, m.getOrigin(), m.getSeq(), m.getValue(), false));
    dsl.uponMemberMessage(
        ReadyMsg.class,
        config.members(),
        (from, m) -> onVote(from, m, m.getOrigin(), m.getSeq(), m.getValue(), true));
    votesChanged = dsl.uponKeyedCondition(this::checkInstance);
  }

  @Override
  public EventList applyEvents(EventList events) throws Exception {
    return dsl.applyEvents(events);
  }

  /** Takes votes from peers (network input is opt-in). */
  @Override
  public boolean receivesMessages() {
    return true;
  }

  /** Messages dropped as invalid (see the class documentation). */
  public long droppedMessages() {
    return dsl.droppedMessages();
  }

  /** Instances delivered by this node. */
  public long deliveredCount() {
    return delivered;
  }

  /** Instances currently held in memory. */
  public int openInstances() {
    return instances.size();
  }

  // -------------------------------------------------------------------------------------------

  /** Local input from the consumer: trusted, so a too-large value is a programming error. */
  private void onBroadcast(Broadcast b) {
    if (b.getValue().size() > config.maxValueBytes()) {
      throw new IllegalArgumentException(
          "value of " + b.getValue().size() + " bytes exceeds " + config.maxValueBytes());
    }
    waiting.add(b.getValue());
    sendWaiting();
  }

  private void sendWaiting() {
    while (!waiting.isEmpty() && nextOwnSeq < low.get(self) + config.window()) {
      SendMsg msg = SendMsg.newBuilder().setSeq(nextOwnSeq++).setValue(waiting.poll()).build();
      dsl.sendMessage(msg, config.members());
    }
  }

  private void onSend(NodeId from, SendMsg msg) {
    Optional<Instance> inst = open(from, msg, from, msg.getSeq(), msg.getValue());
    if (inst.isEmpty()) {
      return;
    }
    if (inst.get().echoed) {
      dsl.reject(from, msg, "second SEND for instance " + msg.getSeq());
      return;
    }
    inst.get().echoed = true;
    dsl.sendMessage(
        EchoMsg.newBuilder()
            .setOrigin(from.value())
            .setSeq(msg.getSeq())
            .setValue(msg.getValue())
            .build(),
        config.members());
  }

  private void onVote(
      NodeId from, Message msg, String originText, long seq, ByteString value, boolean ready) {
    NodeId origin;
    try {
      origin = NodeId.of(originText);
    } catch (IllegalArgumentException e) {
      dsl.reject(from, msg, "malformed origin");
      return;
    }
    Optional<Instance> inst = open(from, msg, origin, seq, value);
    if (inst.isEmpty()) {
      return;
    }
    Map<NodeId, ByteString> votes = ready ? inst.get().readies : inst.get().echoes;
    if (votes.putIfAbsent(from, value) != null) {
      dsl.reject(from, msg, "second vote for " + origin + "/" + seq);
      return;
    }
    votesChanged.mark(new InstanceId(origin, seq));
  }

  /**
   * Returns the state of instance (origin, seq), creating it if it is in the window; otherwise
   * rejects the message.
   */
  private Optional<Instance> open(
      NodeId from, Message msg, NodeId origin, long seq, ByteString value) {
    if (!members.contains(origin)) {
      dsl.reject(from, msg, "origin " + origin + " is not a member");
      return Optional.empty();
    }
    if (value.size() > config.maxValueBytes()) {
      dsl.reject(from, msg, "value of " + value.size() + " bytes exceeds the limit");
      return Optional.empty();
    }
    long lo = low.get(origin);
    if (seq < lo) {
      return Optional.empty(); // a late vote for an instance this node delivered: not an error
    }
    if (seq >= lo + config.window()) {
      dsl.reject(from, msg, "instance " + seq + " outside the window [" + lo + ", +window)");
      return Optional.empty();
    }
    return Optional.of(instances.computeIfAbsent(new InstanceId(origin, seq), k -> new Instance()));
  }

  /** The keyed condition: runs after a batch for each instance that got votes in it. */
  private void checkInstance(InstanceId id) {
    Instance inst = instances.get(id);
    if (inst == null) {
      return; // delivered and forgotten in the same batch
    }
    if (!inst.readied) {
      Optional<ByteString> v = valueWith(inst.echoes, echoQuorum);
      if (v.isEmpty()) {
        v = valueWith(inst.readies, f + 1);
      }
      if (v.isPresent()) {
        inst.readied = true;
        dsl.sendMessage(
            ReadyMsg.newBuilder()
                .setOrigin(id.origin().value())
                .setSeq(id.seq())
                .setValue(v.get())
                .build(),
            config.members());
      }
    }
    if (!inst.delivered) {
      Optional<ByteString> v = valueWith(inst.readies, 2 * f + 1);
      if (v.isPresent()) {
        inst.delivered = true;
        delivered++;
        dsl.emit(
            config.consumer(),
            Deliver.newBuilder()
                .setOrigin(id.origin().value())
                .setSeq(id.seq())
                .setValue(v.get())
                .build());
        forgetDeliveredPrefix(id.origin());
      }
    }
  }

  private static Optional<ByteString> valueWith(Map<NodeId, ByteString> votes, int quorum) {
    if (votes.size() < quorum) {
      return Optional.empty();
    }
    Map<ByteString, Integer> counts = new HashMap<>();
    for (ByteString v : votes.values()) {
      if (counts.merge(v, 1, Integer::sum) >= quorum) {
        return Optional.of(v);
      }
    }
    return Optional.empty();
  }

  private void forgetDeliveredPrefix(NodeId origin) {
    long lo = low.get(origin);
    Instance inst;
    while ((inst = instances.get(new InstanceId(origin, lo))) != null && inst.delivered) {
      instances.remove(new InstanceId(origin, lo));
      lo++;
    }
    low.put(origin, lo);
    if (origin.equals(self)) {
      sendWaiting();
    }
  }

  @Override
  public String toString() {
    return "ReliableBroadcast[" + self + ", delivered=" + delivered + "]";
  }
}
