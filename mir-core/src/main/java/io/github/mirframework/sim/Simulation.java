package io.github.mirframework.sim;

import io.github.mirframework.event.DecodeResult;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventCodec;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.pb.EventRecord;
import io.github.mirframework.event.pb.Init;
import io.github.mirframework.event.pb.SendMessage;
import io.github.mirframework.event.pb.TimerDelay;
import io.github.mirframework.event.pb.TimerGarbageCollect;
import io.github.mirframework.event.pb.TimerRepeat;
import io.github.mirframework.eventlog.Interceptor;
import io.github.mirframework.metrics.ModuleGauges;
import io.github.mirframework.metrics.ModuleMetrics;
import io.github.mirframework.metrics.NodeGauges;
import io.github.mirframework.metrics.NodeMetrics;
import io.github.mirframework.metrics.OrderingMetrics;
import io.github.mirframework.module.ActiveModule;
import io.github.mirframework.module.Module;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.node.NodeConfig;
import io.github.mirframework.node.internal.Engine;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import io.github.mirframework.wal.WriteAheadLog;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.random.RandomGenerator;

/**
 * A deterministic simulation of several nodes built from the real modules, on one thread, in
 * virtual time.
 *
 * <p>Each node runs the same {@link Engine} step function as a real {@code Node}. Instead of
 * threads, the simulation keeps a queue of actions ordered by virtual time: batch completions
 * (processing takes a random, small virtual time), message deliveries (latency, loss and
 * duplication from the {@link NetworkModel}, partitions), timer firings, and actions the test
 * scheduled (crashes, restarts, injections). All randomness comes from one seed, so a run is
 * reproduced exactly from its seed; every failure this class reports names the seed.
 *
 * <p>Crash and restart: {@link #crash} discards the node's state, buffered events, in-flight work
 * and timers; messages to a crashed node are lost. {@link #restart} rebuilds its modules with the
 * factory, replays its simulated WAL (see {@link SimEnvironment#wal()}) and sends {@code Init}.
 *
 * <p>Not thread-safe: a simulation is driven by one thread.
 */
public final class Simulation {
  private static final ModuleId NO_MODULE = ModuleId.of("-");

  private record Action(long time, long seq, Runnable run) {}

  private final class SimNode {
    final NodeId id;
    final int index;
    final SimWal.Store walStore = new SimWal.Store();
    int incarnation = -1;
    boolean up;
    Engine engine;
    Map<ModuleId, Module> modules;
    Interceptor interceptor;
    NodeMetrics metrics;
    ModuleMetrics[] moduleMetrics;
    long gcIndex;

    SimNode(NodeId id, int index) {
      this.id = id;
      this.index = index;
    }
  }

  private final long seed;
  private final SplittableRandom rng;
  private final SimNodeFactory factory;
  private final long minProcessingNs;
  private final long maxProcessingNs;
  private final NodeConfig nodeConfig;
  private final Function<NodeId, Interceptor> interceptors;
  private final Function<NodeId, NodeMetrics> metrics;
  private final Map<NodeId, SimNode> nodes = new LinkedHashMap<>();
  private final List<NodeId> nodeIds;
  private final PriorityQueue<Action> queue =
      new PriorityQueue<>(
          (a, b) -> a.time != b.time ? Long.compare(a.time, b.time) : Long.compare(a.seq, b.seq));
  private final MessageDigest digest;
  private final ByteArrayOutputStream logBytes;
  private final DataOutputStream logOut;
  private NetworkModel network;
  private List<Set<NodeId>> partition = List.of();
  private long nowNs;
  private long seq;
  private long eventsProcessed;
  private long messagesSent;
  private long messagesDropped;
  private long messagesDelivered;

  private Simulation(Builder b) {
    this.seed = b.seed;
    this.rng = new SplittableRandom(b.seed);
    this.factory = Objects.requireNonNull(b.factory, "a node factory is required");
    this.network = b.network;
    this.minProcessingNs = b.minProcessing.toNanos();
    this.maxProcessingNs = b.maxProcessing.toNanos();
    this.nodeConfig = b.nodeConfig;
    this.interceptors = b.interceptors;
    this.metrics = b.metrics;
    this.nodeIds = List.copyOf(b.nodeIds);
    if (nodeIds.isEmpty()) {
      throw new IllegalArgumentException("a simulation needs at least one node");
    }
    if (new HashSet<>(nodeIds).size() != nodeIds.size()) {
      throw new IllegalArgumentException("node IDs must be distinct: " + nodeIds);
    }
    if (b.recordEvents || b.keepEventLog) {
      try {
        digest = MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
      logBytes = b.keepEventLog ? new ByteArrayOutputStream() : null;
      logOut = logBytes == null ? null : new DataOutputStream(logBytes);
    } else {
      digest = null;
      logBytes = null;
      logOut = null;
    }
    int i = 0;
    for (NodeId id : nodeIds) {
      nodes.put(id, new SimNode(id, i++));
    }
    for (NodeId id : nodeIds) {
      startNode(nodes.get(id));
    }
  }

  /** Returns a builder for a simulation with the given seed. */
  public static Builder builder(long seed) {
    return new Builder(seed);
  }

  /**
   * The seed to use for a test: the system property {@code mir.sim.seed} if set (to reproduce a
   * reported failure), else {@code defaultSeed}.
   */
  public static long seedOr(long defaultSeed) {
    String s = System.getProperty("mir.sim.seed");
    return s == null || s.isBlank() ? defaultSeed : Long.parseLong(s.trim());
  }

  /** The seed of this run. */
  public long seed() {
    return seed;
  }

  /** The current virtual time since the start. */
  public Duration now() {
    return Duration.ofNanos(nowNs);
  }

  /** The IDs of all nodes, in declaration order. */
  public List<NodeId> nodeIds() {
    return nodeIds;
  }

  /** Whether the node is running (not crashed). */
  public boolean isUp(NodeId id) {
    return node(id).up;
  }

  /** The nodes that are running. */
  public List<NodeId> upNodes() {
    List<NodeId> out = new ArrayList<>();
    for (SimNode n : nodes.values()) {
      if (n.up) {
        out.add(n.id);
      }
    }
    return out;
  }

  /**
   * The module registered as {@code moduleId} in the current incarnation of a node.
   *
   * @throws IllegalArgumentException if there is no such module or it has another type
   */
  public <T> T module(NodeId id, ModuleId moduleId, Class<T> type) {
    SimNode n = node(id);
    Module m = n.modules == null ? null : n.modules.get(moduleId);
    if (!type.isInstance(m)) {
      throw new IllegalArgumentException(
          "node " + id + " has no module '" + moduleId + "' of type " + type.getSimpleName());
    }
    return type.cast(m);
  }

  /** Changes the network model from now on (messages already in flight keep their fate). */
  public void network(NetworkModel model) {
    this.network = Objects.requireNonNull(model);
  }

  /**
   * Partitions the network: from now on, messages between nodes in different groups are lost. Nodes
   * not named in any group form one more group.
   */
  @SafeVarargs
  public final void partition(Collection<NodeId>... groups) {
    List<Set<NodeId>> g = new ArrayList<>();
    Set<NodeId> rest = new HashSet<>(nodeIds);
    for (Collection<NodeId> c : groups) {
      g.add(Set.copyOf(c));
      rest.removeAll(c);
    }
    if (!rest.isEmpty()) {
      g.add(Set.copyOf(rest));
    }
    partition = List.copyOf(g);
  }

  /** Ends any partition. */
  public void heal() {
    partition = List.of();
  }

  private boolean separated(NodeId a, NodeId b) {
    for (Set<NodeId> g : partition) {
      if (g.contains(a)) {
        return !g.contains(b);
      }
    }
    return false;
  }

  /** Schedules an action (e.g. a crash) at a virtual time offset from now. */
  public void after(Duration delay, Runnable action) {
    schedule(nowNs + nonNegative(delay), action);
  }

  /**
   * Crashes a node now: its state, queued events, in-flight work and timers are lost. Modules that
   * are {@link AutoCloseable} are closed to release files and locks (a crash cannot interrupt a
   * module in the middle of a batch, so whatever a module made durable before is kept).
   */
  public void crash(NodeId id) {
    SimNode n = node(id);
    if (!n.up) {
      return;
    }
    n.up = false;
    n.engine = null;
    // Release OS resources (files, locks) of modules that hold them, e.g. a file-backed WAL, so
    // that the restarted
    // incarnation can open them again. What a module had made durable stays; nothing else survives.
    for (Module m : n.modules.values()) {
      if (m instanceof AutoCloseable c) {
        try {
          c.close();
        } catch (Exception e) {
          throw new SimulationException(
              seed, "closing a module of crashed node " + id + " failed", e);
        }
      }
    }
    n.modules = null;
  }

  /** Restarts a crashed node: new modules from the factory, WAL replay, then Init. */
  public void restart(NodeId id) {
    SimNode n = node(id);
    if (n.up) {
      throw new IllegalStateException("node " + id + " is running; crash it first");
    }
    startNode(n);
  }

  /**
   * Adds events to a node's buffers now, as {@code Node.injectEvents} does.
   *
   * @throws IllegalStateException if the node is down
   */
  public void inject(NodeId id, EventList events) {
    SimNode n = node(id);
    if (!n.up) {
      throw new IllegalStateException("node " + id + " is down");
    }
    n.engine.checkRoutable(events);
    routeTo(n, events);
  }

  /** Runs until the virtual time has advanced by {@code duration}. */
  public void runFor(Duration duration) {
    runUntilTime(nowNs + nonNegative(duration), () -> false);
  }

  /**
   * Runs until {@code condition} holds (checked after every action) or {@code timeout} of virtual
   * time has passed.
   *
   * @return whether the condition holds
   */
  public boolean runUntil(BooleanSupplier condition, Duration timeout) {
    return runUntilTime(nowNs + nonNegative(timeout), condition);
  }

  /**
   * Runs until nothing is left to do (no pending events, actions or timers) or the timeout passes.
   */
  public boolean runUntilQuiet(Duration timeout) {
    return runUntilTime(nowNs + nonNegative(timeout), () -> false) && queue.isEmpty();
  }

  private boolean runUntilTime(long deadline, BooleanSupplier condition) {
    while (true) {
      dispatchReady();
      if (condition.getAsBoolean()) {
        return true;
      }
      Action next = queue.peek();
      if (next == null) {
        return true;
      }
      if (next.time > deadline) {
        nowNs = deadline;
        return false;
      }
      queue.poll();
      nowNs = next.time;
      next.run.run();
    }
  }

  /**
   * Throws an {@link AssertionError} naming the seed unless {@code condition} holds; for test
   * assertions that should tell how to reproduce a failure.
   */
  public void check(boolean condition, String message) {
    if (!condition) {
      throw new AssertionError(message + " [simulation seed " + seed + ", at " + now() + "]");
    }
  }

  /** Number of events processed by all modules of all nodes. */
  public long eventsProcessed() {
    return eventsProcessed;
  }

  /** Number of message copies sent between distinct nodes. */
  public long messagesSent() {
    return messagesSent;
  }

  /** Number of message copies lost (drop rate, partition, crashed or unknown destination). */
  public long messagesDropped() {
    return messagesDropped;
  }

  /** Number of message copies delivered, including messages to self. */
  public long messagesDelivered() {
    return messagesDelivered;
  }

  /**
   * The SHA-256 of the recorded event log, in hex (requires {@link Builder#recordEvents
   * recordEvents(true)}).
   */
  public String eventLogDigest() {
    if (digest == null) {
      throw new IllegalStateException("event recording is off; use Builder.recordEvents(true)");
    }
    try {
      return HexFormat.of().formatHex(((MessageDigest) digest.clone()).digest());
    } catch (CloneNotSupportedException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The recorded event log so far (requires {@link Builder#keepEventLog keepEventLog(true)}). */
  public byte[] eventLog() {
    if (logBytes == null) {
      throw new IllegalStateException("the event log is not kept; use Builder.keepEventLog(true)");
    }
    return logBytes.toByteArray();
  }

  // ---------------------------------------------------------------------------------------------------------------

  private SimNode node(NodeId id) {
    SimNode n = nodes.get(id);
    if (n == null) {
      throw new IllegalArgumentException("no node " + id + " in the simulation");
    }
    return n;
  }

  private void schedule(long time, Runnable action) {
    queue.add(new Action(time, seq++, action));
  }

  /** Schedules an action that only runs if the node is still in the same incarnation. */
  private void scheduleFor(SimNode n, long time, Runnable action) {
    int inc = n.incarnation;
    schedule(
        time,
        () -> {
          if (n.up && n.incarnation == inc) {
            action.run();
          }
        });
  }

  private void startNode(SimNode n) {
    n.incarnation++;
    n.gcIndex = 0;
    n.metrics = metrics == null ? null : metrics.apply(n.id);
    Env env = new Env(n);
    Map<ModuleId, Module> modules;
    try {
      modules = new LinkedHashMap<>(factory.create(n.id, env));
    } catch (RuntimeException e) {
      throw new SimulationException(seed, "the factory failed for node " + n.id, e);
    }
    WriteAheadLog wal = null;
    for (Map.Entry<ModuleId, Module> e : modules.entrySet()) {
      if (e.getValue() instanceof ActiveModule) {
        throw new SimulationException(
            seed,
            "module '"
                + e.getKey()
                + "' of node "
                + n.id
                + " is active; active modules cannot run in the simulation (use the environment's"
                + " transport and timer)",
            null);
      }
      if (e.getValue() instanceof WriteAheadLog w) {
        if (wal != null) {
          throw new SimulationException(seed, "node " + n.id + " has two WAL modules", null);
        }
        wal = w;
      }
    }
    n.modules = modules;
    n.interceptor = interceptors == null ? null : interceptors.apply(n.id);
    n.engine = new Engine(modules, nodeConfig);
    n.moduleMetrics = n.metrics == null ? null : registerMetrics(n.metrics, n.engine);
    n.up = true;
    EventList start = EventList.empty();
    if (wal != null) {
      try {
        start.addAll(wal.loadAll());
      } catch (IOException e) {
        throw new SimulationException(seed, "node " + n.id + " could not load its WAL", e);
      }
    }
    for (ModuleId m : n.engine.moduleIds()) {
      start.add(Events.init(m));
    }
    routeTo(n, start);
  }

  /**
   * Registers the modules and the node with a binding, as a real node does; the gauges read the
   * engine without a lock (read them from the simulation's thread).
   */
  private static ModuleMetrics[] registerMetrics(NodeMetrics metrics, Engine engine) {
    ModuleMetrics[] out = new ModuleMetrics[engine.moduleCount()];
    for (int i = 0; i < out.length; i++) {
      int slot = i;
      out[i] =
          metrics.module(
              engine.moduleId(i),
              new ModuleGauges() {
                @Override
                public int bufferedEvents() {
                  return engine.bufferedEvents(slot);
                }

                @Override
                public long processedEvents() {
                  return engine.processedEvents(slot);
                }
              });
    }
    metrics.node(
        new NodeGauges() {
          @Override
          public int bufferedEvents() {
            return engine.bufferedEvents();
          }

          @Override
          public long bufferedBytes() {
            return engine.bufferedBytes();
          }

          @Override
          public boolean inputPaused() {
            return engine.inputPaused();
          }

          @Override
          public long droppedMessages() {
            return engine.droppedMessages();
          }
        });
    return out;
  }

  private void routeTo(SimNode n, EventList events) {
    try {
      n.engine.route(events);
    } catch (RuntimeException e) {
      throw SimulationException.nodeFailed(seed, n.id, now(), e);
    }
  }

  private void dispatchReady() {
    for (SimNode n : nodes.values()) {
      while (n.up) {
        Engine.Batch batch = n.engine.nextBatch();
        if (batch == null) {
          break;
        }
        record(n, batch);
        EventList output;
        try {
          output =
              Engine.process(
                  batch,
                  n.interceptor,
                  n.moduleMetrics == null ? null : n.moduleMetrics[batch.slot()]);
        } catch (RuntimeException e) {
          throw SimulationException.nodeFailed(seed, n.id, now(), e);
        }
        eventsProcessed += batch.events().size();
        long delay = uniform(minProcessingNs, maxProcessingNs);
        Engine engine = n.engine;
        scheduleFor(
            n,
            nowNs + delay,
            () -> {
              try {
                engine.complete(batch, output);
              } catch (RuntimeException e) {
                throw SimulationException.nodeFailed(seed, n.id, now(), e);
              }
            });
      }
    }
  }

  private void record(SimNode n, Engine.Batch batch) {
    if (digest == null) {
      return;
    }
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(buf);
    try {
      out.writeLong(nowNs);
      out.writeUTF(n.id.value());
      out.writeInt(n.incarnation);
      out.writeUTF(batch.moduleId().value());
      out.writeInt(batch.events().size());
      for (Event e : batch.events()) {
        byte[] b = EventCodec.toRecord(e.stripped()).toByteArray();
        out.writeInt(b.length);
        out.write(b);
      }
      out.flush();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    byte[] entry = buf.toByteArray();
    digest.update(entry);
    if (logOut != null) {
      logBytes.writeBytes(entry);
    }
  }

  private long uniform(long min, long max) {
    return max <= min ? min : min + rng.nextLong(max - min + 1);
  }

  private static long nonNegative(Duration d) {
    if (d.isNegative()) {
      throw new IllegalArgumentException("duration must not be negative: " + d);
    }
    return d.toNanos();
  }

  // --- simulated environment
  // ------------------------------------------------------------------------------------

  private final class Env implements SimEnvironment {
    private final SimNode node;
    private final int incarnation;

    Env(SimNode node) {
      this.node = node;
      this.incarnation = node.incarnation;
    }

    @Override
    public NodeId nodeId() {
      return node.id;
    }

    @Override
    public List<NodeId> allNodes() {
      return nodeIds;
    }

    @Override
    public int incarnation() {
      return incarnation;
    }

    @Override
    public PassiveModule transport() {
      return new Transport(node);
    }

    @Override
    public PassiveModule timer() {
      return new Timer(node);
    }

    @Override
    public SimWal wal() {
      return new SimWal(node.walStore);
    }

    @Override
    public RandomGenerator random() {
      return new SplittableRandom(
          seed * 0x9E3779B97F4A7C15L + node.index * 1_000_003L + incarnation);
    }

    @Override
    public Duration now() {
      return Simulation.this.now();
    }

    @Override
    public NodeMetrics metrics() {
      return node.metrics;
    }

    @Override
    public OrderingMetrics orderingMetrics() {
      return node.metrics == null ? null : node.metrics.ordering(() -> nowNs);
    }
  }

  /** The simulated transport of one node incarnation. */
  private final class Transport implements PassiveModule {
    /** Never takes network input: received messages addressed here are dropped by the node. */
    @Override
    public boolean receivesMessages() {
      return false;
    }

    private final SimNode self;

    Transport(SimNode self) {
      this.self = self;
    }

    @Override
    public EventList applyEvents(EventList events) {
      for (Event e : events) {
        switch (e.payload()) {
          case SendMessage s -> send(s);
          case Init i -> {}
          default ->
              throw new IllegalArgumentException(
                  "the simulated transport cannot handle events of type " + e.typeName());
        }
      }
      return EventList.empty();
    }

    private void send(SendMessage s) {
      for (String d : s.getDestinationsList()) {
        SimNode dest = nodes.get(nodeIdOrNull(d));
        if (dest == null) {
          messagesDropped++;
          continue;
        }
        if (dest == self) {
          deliver(dest, s);
          continue;
        }
        int copies = rng.nextDouble() < network.duplicateRate() ? 2 : 1;
        for (int c = 0; c < copies; c++) {
          messagesSent++;
          if (separated(self.id, dest.id) || rng.nextDouble() < network.dropRate()) {
            messagesDropped++;
            continue;
          }
          long latency = uniform(network.minLatency().toNanos(), network.maxLatency().toNanos());
          schedule(nowNs + latency, () -> deliver(dest, s));
        }
      }
    }

    private void deliver(SimNode dest, SendMessage s) {
      if (!dest.up) {
        messagesDropped++;
        return;
      }
      Event received;
      try {
        received = Events.messageReceived(self.id, s.getMsg());
      } catch (IllegalArgumentException e) {
        messagesDropped++; // a malformed destination module from a faulty sender
        return;
      }
      messagesDelivered++;
      routeTo(dest, EventList.of(received));
    }
  }

  private static NodeId nodeIdOrNull(String s) {
    try {
      return NodeId.of(s);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** The simulated timer of one node incarnation. */
  private final class Timer implements PassiveModule {
    /** Never takes network input: received messages addressed here are dropped by the node. */
    @Override
    public boolean receivesMessages() {
      return false;
    }

    private final SimNode self;

    Timer(SimNode self) {
      this.self = self;
    }

    @Override
    public EventList applyEvents(EventList events) {
      for (Event e : events) {
        switch (e.payload()) {
          case TimerDelay d -> {
            EventList wrapped = decode(d.getEventsList());
            scheduleFor(self, nowNs + d.getDelayNs(), () -> routeTo(self, copy(wrapped)));
          }
          case TimerRepeat r -> {
            if (r.getPeriodNs() <= 0) {
              throw new IllegalArgumentException("repeating timer with period 0");
            }
            repeat(decode(r.getEventsList()), r.getPeriodNs(), r.getRetentionIndex(), nowNs);
          }
          case TimerGarbageCollect g ->
              self.gcIndex = Math.max(self.gcIndex, g.getRetentionIndex());
          case Init i -> {}
          default ->
              throw new IllegalArgumentException(
                  "the simulated timer cannot handle events of type " + e.typeName());
        }
      }
      return EventList.empty();
    }

    private void repeat(EventList events, long periodNs, long retentionIndex, long at) {
      scheduleFor(
          self,
          at,
          () -> {
            if (retentionIndex >= self.gcIndex) {
              routeTo(self, copy(events));
              repeat(events, periodNs, retentionIndex, nowNs + periodNs);
            }
          });
    }

    private EventList decode(List<EventRecord> records) {
      DecodeResult<EventList> d = EventCodec.shared().fromRecords(records);
      if (d instanceof DecodeResult.Error<EventList> err) {
        throw new IllegalArgumentException("timer event holds a bad event: " + err.reason());
      }
      return d.orElseThrow();
    }

    private EventList copy(EventList l) {
      return EventList.withCapacity(l.size()).addAll(l);
    }
  }

  /** Builds a {@link Simulation}. */
  public static final class Builder {
    private final long seed;
    private List<NodeId> nodeIds = NodeId.range(4);
    private SimNodeFactory factory;
    private NetworkModel network = NetworkModel.defaults();
    private Duration minProcessing = Duration.ZERO;
    private Duration maxProcessing = Duration.ofNanos(1000);
    private NodeConfig nodeConfig = NodeConfig.defaults();
    private boolean recordEvents;
    private boolean keepEventLog;
    private Function<NodeId, Interceptor> interceptors;
    private Function<NodeId, NodeMetrics> metrics;

    private Builder(long seed) {
      this.seed = seed;
    }

    /**
     * The nodes {@code "0"} .. {@code "n-1"} (default 4); as in {@link
     * io.github.mirframework.testing.Deployment.Builder}.
     */
    public Builder nodes(int n) {
      return nodes(NodeId.range(n));
    }

    /**
     * The nodes, in declaration order (copied); as in {@link
     * io.github.mirframework.testing.Deployment.Builder}.
     */
    public Builder nodes(List<NodeId> ids) {
      this.nodeIds = List.copyOf(ids);
      return this;
    }

    /** How to build each node's modules. Required. */
    public Builder factory(SimNodeFactory f) {
      this.factory = Objects.requireNonNull(f);
      return this;
    }

    /** The network model (default {@link NetworkModel#defaults()}). */
    public Builder network(NetworkModel model) {
      this.network = Objects.requireNonNull(model);
      return this;
    }

    /** Range of the virtual time a module takes per batch (default 0–1 µs, as Mir's SMR test). */
    public Builder processingDelay(Duration min, Duration max) {
      if (min.isNegative() || max.compareTo(min) < 0) {
        throw new IllegalArgumentException("bad processing delay range [" + min + ", " + max + "]");
      }
      this.minProcessing = min;
      this.maxProcessing = max;
      return this;
    }

    /** Engine configuration of every node (default {@link NodeConfig#defaults()}). */
    public Builder nodeConfig(NodeConfig config) {
      this.nodeConfig = Objects.requireNonNull(config);
      return this;
    }

    /**
     * Whether to record every processed event (time, node, incarnation, module, serialized event)
     * into a digest, {@link Simulation#eventLogDigest()} (default off). Two runs with the same seed
     * have the same digest; a test compares them to check determinism. {@code false} turns
     * recording off, and with it {@link #keepEventLog}.
     */
    public Builder recordEvents(boolean on) {
      this.recordEvents = on;
      if (!on) {
        this.keepEventLog = false;
      }
      return this;
    }

    /**
     * Whether to keep the bytes of the recorded events too, {@link Simulation#eventLog()} (default
     * off; memory grows with the run). {@code true} turns {@link #recordEvents} on.
     */
    public Builder keepEventLog(boolean keep) {
      this.keepEventLog = keep;
      if (keep) {
        this.recordEvents = true;
      }
      return this;
    }

    /**
     * An interceptor for each start of a node (e.g. an event {@code Recorder}): {@code factory} is
     * called every time a node starts (initially and at each {@link Simulation#restart}), and the
     * interceptor it returns sees every batch that incarnation processes, as a real node's
     * interceptor does. The simulation does not close interceptors; their creator does. Default:
     * none.
     */
    public Builder interceptors(Function<NodeId, Interceptor> factory) {
      this.interceptors = Objects.requireNonNull(factory);
      return this;
    }

    /**
     * Where each node reports its metrics, so that a simulated run can be inspected: {@code
     * factory} is called every time a node starts (initially and at each {@link
     * Simulation#restart}); the modules of that incarnation and the node are registered with the
     * binding it returns, as {@code Node.Builder.metrics} does, and the node's factory gets its
     * ordering recorder, timed with the virtual clock, from {@link
     * SimEnvironment#orderingMetrics()}. Module times are real time spent in {@code applyEvents},
     * not virtual time. The gauges read the simulation's state without locking: read them from the
     * thread that runs the simulation, between runs. A binding that registers a node's meters once
     * (as the Micrometer binding does) keeps showing the first incarnation's per-module counters
     * after a restart; its ordering counters add up. Default: none.
     */
    public Builder metrics(Function<NodeId, NodeMetrics> factory) {
      this.metrics = Objects.requireNonNull(factory);
      return this;
    }

    /** Builds the simulation and starts every node at virtual time 0. */
    public Simulation build() {
      return new Simulation(this);
    }
  }
}
