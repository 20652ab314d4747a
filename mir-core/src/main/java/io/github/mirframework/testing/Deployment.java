package io.github.mirframework.testing;

import io.github.mirframework.event.EventList;
import io.github.mirframework.eventlog.Recorder;
import io.github.mirframework.module.Module;
import io.github.mirframework.module.Modules;
import io.github.mirframework.net.inprocess.InProcessNetwork;
import io.github.mirframework.node.Node;
import io.github.mirframework.node.NodeConfig;
import io.github.mirframework.sim.NetworkModel;
import io.github.mirframework.sim.SimEnvironment;
import io.github.mirframework.sim.Simulation;
import io.github.mirframework.timer.TimerModule;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import io.github.mirframework.wal.WriteAheadLog;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.random.RandomGenerator;
import java.util.stream.Stream;

/**
 * An in-JVM deployment of N nodes built from a per-node module factory (Mir's deploytest), over a
 * choice of transports: the deterministic {@linkplain Kind#SIMULATED simulation} (virtual time),
 * the {@linkplain Kind#IN_PROCESS in-process} transport with real threads, or any {@link
 * TransportProvider} (e.g. gRPC).
 *
 * <p>The same factory and the same assertions work for every kind. Optionally, every node records
 * its events with a {@link Recorder} ({@link Builder#recordEventsTo}: one directory per start of a
 * node, see {@link #logDirectories()}), threaded nodes get a write-ahead log ({@link
 * Builder#wals}), and some nodes start later ({@link Builder#startLater}, {@link #start}).
 *
 * <p>Not thread-safe: drive it from one thread.
 */
public final class Deployment implements AutoCloseable {

  /** How the nodes are connected and driven. */
  public enum Kind {
    /** One thread, virtual time, seeded faults: {@link Simulation}. */
    SIMULATED,
    /** Real {@link Node}s with threads, connected by an {@link InProcessNetwork}. */
    IN_PROCESS,
    /** Real {@link Node}s with the transports of a {@link TransportProvider}. */
    PROVIDED
  }

  /** Builds the modules of one node. */
  @FunctionalInterface
  public interface NodeFactory {
    /** Returns the node's modules by top-level ID, in registration order. */
    Map<ModuleId, Module> create(NodeId id, NodeEnvironment env);
  }

  private final Kind kind;
  private final long seed;
  private final List<NodeId> nodeIds;
  private final Simulation sim;
  private final Map<NodeId, Node> nodes = new LinkedHashMap<>();
  private final Map<NodeId, Map<ModuleId, Module>> realModules = new LinkedHashMap<>();
  private final TransportProvider provider;
  private final Path recordRoot;
  private final Map<NodeId, List<Path>> logDirs = new LinkedHashMap<>();
  private final List<Recorder> simRecorders = new ArrayList<>();
  private final List<AutoCloseable> wals = new ArrayList<>();
  private final Set<NodeId> notStarted = new HashSet<>();

  private Deployment(Builder b) {
    this.kind = b.kind;
    this.seed = b.seed;
    this.nodeIds = List.copyOf(b.nodeIds);
    this.recordRoot = b.recordRoot;
    NodeFactory factory = Objects.requireNonNull(b.factory, "a node factory is required");
    if (!nodeIds.containsAll(b.startLater)) {
      throw new IllegalArgumentException("startLater names nodes not in " + nodeIds);
    }
    for (NodeId id : nodeIds) {
      logDirs.put(id, new ArrayList<>());
    }
    if (kind == Kind.SIMULATED) {
      provider = null;
      AtomicReference<Simulation> simRef = new AtomicReference<>();
      Simulation.Builder sb =
          Simulation.builder(seed)
              .nodes(nodeIds)
              .network(b.network)
              .nodeConfig(b.nodeConfig)
              .factory((id, env) -> factory.create(id, simEnv(env)));
      if (recordRoot != null) {
        sb.interceptors(
            id -> {
              Simulation s = simRef.get();
              if (s == null && b.startLater.contains(id)) {
                return null; // Not started yet: crashed right after the build, before any event.
              }
              Recorder r = newRecorder(id, () -> s == null ? 0 : s.now().toMillis());
              simRecorders.add(r);
              return r;
            });
      }
      sim = sb.build();
      simRef.set(sim);
      for (NodeId id : b.startLater) {
        // Nothing has run yet: a crash now is a node that has not started.
        sim.crash(id);
        notStarted.add(id);
      }
      return;
    }
    sim = null;
    if (kind == Kind.IN_PROCESS) {
      InProcessNetwork net = new InProcessNetwork(nodeIds);
      provider =
          new TransportProvider() {
            @Override
            public void prepare(List<NodeId> ids) {}

            @Override
            public io.github.mirframework.module.ActiveModule transport(NodeId id) {
              return net.transport(id);
            }

            @Override
            public void close() {}
          };
    } else {
      provider = Objects.requireNonNull(b.provider, "PROVIDED needs a transport provider");
    }
    try {
      provider.prepare(nodeIds);
    } catch (Exception e) {
      throw new IllegalStateException("could not prepare the transports: " + e.getMessage(), e);
    }
    for (NodeId id : nodeIds) {
      RandomGenerator random = new SplittableRandom(seed * 31 + nodeIds.indexOf(id));
      Module wal = b.wals == null ? Modules.nullPassive() : b.wals.apply(id);
      if (b.wals != null && !(wal instanceof WriteAheadLog)) {
        throw new IllegalArgumentException("the WAL of node " + id + " is not a WriteAheadLog");
      }
      if (wal instanceof AutoCloseable c) {
        wals.add(c);
      }
      NodeEnvironment env =
          new NodeEnvironment() {
            @Override
            public NodeId nodeId() {
              return id;
            }

            @Override
            public List<NodeId> allNodes() {
              return nodeIds;
            }

            @Override
            public Module transport() {
              return provider.transport(id);
            }

            @Override
            public Module timer() {
              return new TimerModule();
            }

            @Override
            public RandomGenerator random() {
              return random;
            }

            @Override
            public Module wal() {
              return wal;
            }
          };
      Map<ModuleId, Module> modules = new LinkedHashMap<>(factory.create(id, env));
      realModules.put(id, modules);
      Node.Builder nb = Node.builder(id).modules(modules).config(b.nodeConfig);
      modules.values().stream()
          .filter(m -> m instanceof WriteAheadLog)
          .map(m -> (WriteAheadLog) m)
          .findFirst()
          .ifPresent(nb::wal);
      if (recordRoot != null) {
        nb.interceptor(newRecorder(id, System::currentTimeMillis));
      }
      nodes.put(id, nb.build());
    }
    for (Node n : nodes.values()) {
      if (b.startLater.contains(n.id())) {
        notStarted.add(n.id());
      } else {
        n.start();
      }
    }
  }

  /** A recorder of one start of node {@code id}, in the next free {@code run-NNN} directory. */
  private Recorder newRecorder(NodeId id, LongSupplier time) {
    Path nodeDir = recordRoot.resolve(id.value());
    try {
      Files.createDirectories(nodeDir);
      int run;
      try (Stream<Path> existing = Files.list(nodeDir)) {
        run = (int) existing.filter(p -> p.getFileName().toString().startsWith("run-")).count();
      }
      Path dir = nodeDir.resolve(String.format("run-%03d", run));
      Recorder r = Recorder.builder(id, dir).timeSource(time).build();
      logDirs.get(id).add(dir);
      return r;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot record the events of node " + id, e);
    }
  }

  private static NodeEnvironment simEnv(SimEnvironment env) {
    return new NodeEnvironment() {
      @Override
      public NodeId nodeId() {
        return env.nodeId();
      }

      @Override
      public List<NodeId> allNodes() {
        return env.allNodes();
      }

      @Override
      public Module transport() {
        return env.transport();
      }

      @Override
      public Module timer() {
        return env.timer();
      }

      @Override
      public RandomGenerator random() {
        return env.random();
      }

      @Override
      public Module wal() {
        return env.wal();
      }
    };
  }

  /** Returns a builder of a deployment of the given kind. */
  public static Builder builder(Kind kind) {
    return new Builder(kind);
  }

  /** The kind of this deployment. */
  public Kind kind() {
    return kind;
  }

  /**
   * The seed of this deployment (drives everything in a simulation, only protocol randomness
   * otherwise).
   */
  public long seed() {
    return seed;
  }

  /** The node IDs. */
  public List<NodeId> nodeIds() {
    return nodeIds;
  }

  /** The simulation, for a {@link Kind#SIMULATED} deployment. */
  public Optional<Simulation> simulation() {
    return Optional.ofNullable(sim);
  }

  /**
   * The real node {@code id} (threaded kinds), e.g. to attach a request receiver to it.
   *
   * @throws IllegalStateException in a simulation
   * @throws IllegalArgumentException if there is no such node
   */
  public Node node(NodeId id) {
    if (sim != null) {
      throw new IllegalStateException("a simulated deployment has no real nodes");
    }
    Node n = nodes.get(id);
    if (n == null) {
      throw new IllegalArgumentException("no node " + id + " in " + nodeIds);
    }
    return n;
  }

  /**
   * Starts a node held back by {@link Builder#startLater}. In a simulation, the node is built by
   * the factory now (at the current virtual time).
   *
   * @throws IllegalStateException if the node was started already
   */
  public void start(NodeId id) {
    if (!notStarted.remove(id)) {
      throw new IllegalStateException("node " + id + " was started already (or is unknown)");
    }
    if (sim != null) {
      sim.restart(id);
    } else {
      nodes.get(id).start();
    }
  }

  /**
   * The event-log directories of every node, one per start of the node in the order of the starts
   * (a simulated node restarted after a crash gets a new one), each holding one log series with
   * {@link Recorder}'s default prefix. Empty lists if events are not recorded. Read them once the
   * deployment is closed: recorders write in the background and flush when they are closed.
   */
  public Map<NodeId, List<Path>> logDirectories() {
    Map<NodeId, List<Path>> out = new LinkedHashMap<>();
    logDirs.forEach((id, dirs) -> out.put(id, List.copyOf(dirs)));
    return out;
  }

  /**
   * The module registered as {@code moduleId} on node {@code id}: the live object, not a copy.
   *
   * <p>Thread-safety: in a {@link Kind#SIMULATED} deployment everything runs on the caller's
   * thread, so reading the module between {@link #runUntil} calls is safe. With real nodes ({@link
   * Kind#IN_PROCESS}, {@link Kind#PROVIDED}) the node's threads call the module concurrently with
   * the caller: only use what the module documents as thread-safe (for example a counter it
   * publishes through a volatile field or an atomic), or read it after {@link #close()}.
   */
  public <T> T module(NodeId id, ModuleId moduleId, Class<T> type) {
    if (sim != null) {
      return sim.module(id, moduleId, type);
    }
    Module m = realModules.getOrDefault(id, Map.of()).get(moduleId);
    if (!type.isInstance(m)) {
      throw new IllegalArgumentException(
          "node " + id + " has no module '" + moduleId + "' of type " + type.getSimpleName());
    }
    return type.cast(m);
  }

  /** Adds events to a node, as {@code Node.injectEvents} does. */
  public void inject(NodeId id, EventList events) {
    if (sim != null) {
      sim.inject(id, events);
    } else {
      nodes.get(id).injectEvents(events);
    }
  }

  /**
   * Runs until {@code condition} holds or the deadline passes: virtual time in a simulation,
   * wall-clock time otherwise. Fails fast, with the node's error, if a real node stops by an error.
   *
   * @return whether the condition holds
   */
  public boolean runUntil(BooleanSupplier condition, Duration deadline)
      throws InterruptedException {
    if (sim != null) {
      return sim.runUntil(condition, deadline);
    }
    long end = System.nanoTime() + deadline.toNanos();
    while (!condition.getAsBoolean()) {
      for (Node n : nodes.values()) {
        Optional<Throwable> f = n.failure();
        if (f.isPresent()) {
          throw new IllegalStateException("node " + n.id() + " failed: " + f.get(), f.get());
        }
      }
      if (System.nanoTime() > end) {
        return false;
      }
      Thread.sleep(1);
    }
    return true;
  }

  /** The errors of real nodes that stopped by an error, by node. */
  public Map<NodeId, Throwable> failures() {
    Map<NodeId, Throwable> out = new LinkedHashMap<>();
    nodes.forEach((id, n) -> n.failure().ifPresent(f -> out.put(id, f)));
    return out;
  }

  /**
   * Stops every real node (joining all their threads, closing their recorders), releases the
   * transports and closes the WALs given to {@link Builder#wals}; closes the recorders of a
   * simulation.
   */
  @Override
  public void close() {
    List<RuntimeException> errors = new ArrayList<>();
    for (Node n : nodes.values()) {
      try {
        n.stop();
      } catch (RuntimeException e) {
        errors.add(e);
      }
    }
    if (provider != null) {
      provider.close();
    }
    for (Recorder r : simRecorders) {
      try {
        r.close();
      } catch (IOException e) {
        errors.add(new UncheckedIOException("closing an event recorder failed", e));
      }
    }
    for (AutoCloseable w : wals) {
      try {
        w.close();
      } catch (Exception e) {
        errors.add(new IllegalStateException("closing a write-ahead log failed", e));
      }
    }
    if (!errors.isEmpty()) {
      throw errors.get(0);
    }
  }

  /** Builds a {@link Deployment}. */
  public static final class Builder {
    private final Kind kind;
    private long seed = 1;
    private List<NodeId> nodeIds = NodeId.range(4);
    private NodeFactory factory;
    private NetworkModel network = NetworkModel.defaults();
    private NodeConfig nodeConfig = NodeConfig.defaults();
    private TransportProvider provider;
    private Function<NodeId, Module> wals;
    private Path recordRoot;
    private final Set<NodeId> startLater = new HashSet<>();

    private Builder(Kind kind) {
      this.kind = Objects.requireNonNull(kind);
    }

    /** The seed (default 1). */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /** The nodes {@code "0"} .. {@code "n-1"} (default 4), as in {@link Simulation.Builder}. */
    public Builder nodes(int n) {
      return nodes(NodeId.range(n));
    }

    /**
     * The nodes, in declaration order (copied; default {@code "0"} .. {@code "3"}), as in {@link
     * Simulation.Builder}.
     *
     * @throws IllegalArgumentException if empty or not distinct
     */
    public Builder nodes(List<NodeId> ids) {
      if (ids.isEmpty() || new HashSet<>(ids).size() != ids.size()) {
        throw new IllegalArgumentException("need distinct node IDs, got " + ids);
      }
      this.nodeIds = List.copyOf(ids);
      return this;
    }

    /**
     * The write-ahead log of each node of a threaded deployment ({@link NodeEnvironment#wal()}), a
     * module that is also a {@link WriteAheadLog} (e.g. a file WAL in a per-node directory, so that
     * a later deployment over the same directories replays it). A simulation always uses its own
     * WAL. Default: none ({@link NodeEnvironment#wal()} is a module that ignores everything).
     */
    public Builder wals(Function<NodeId, Module> walOfNode) {
      this.wals = Objects.requireNonNull(walOfNode);
      return this;
    }

    /**
     * Records every node's events with a {@link Recorder} under {@code root}: each start of node
     * {@code n} writes into the next free directory {@code root/n/run-NNN} (so a later deployment
     * over the same root continues the numbering). See {@link Deployment#logDirectories()}.
     */
    public Builder recordEventsTo(Path root) {
      this.recordRoot = Objects.requireNonNull(root);
      return this;
    }

    /** Builds these nodes but does not start them; {@link Deployment#start} does. */
    public Builder startLater(NodeId... ids) {
      startLater.addAll(List.of(ids));
      return this;
    }

    /** The node factory. Required. */
    public Builder factory(NodeFactory factory) {
      this.factory = factory;
      return this;
    }

    /** The simulated network (simulations only). */
    public Builder network(NetworkModel network) {
      this.network = Objects.requireNonNull(network);
      return this;
    }

    /** Engine configuration of every node. */
    public Builder nodeConfig(NodeConfig config) {
      this.nodeConfig = Objects.requireNonNull(config);
      return this;
    }

    /** The transports, for {@link Kind#PROVIDED}. */
    public Builder transports(TransportProvider provider) {
      this.provider = provider;
      return this;
    }

    /** Builds and starts the deployment. */
    public Deployment build() {
      return new Deployment(this);
    }
  }
}
