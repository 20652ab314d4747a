package io.github.mirframework.testing;

import io.github.mirframework.event.EventList;
import io.github.mirframework.module.Module;
import io.github.mirframework.net.inprocess.InProcessNetwork;
import io.github.mirframework.node.Node;
import io.github.mirframework.node.NodeConfig;
import io.github.mirframework.sim.NetworkModel;
import io.github.mirframework.sim.SimEnvironment;
import io.github.mirframework.sim.Simulation;
import io.github.mirframework.timer.TimerModule;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;
import java.util.random.RandomGenerator;

/**
 * An in-JVM deployment of N nodes built from a per-node module factory (Mir's deploytest), over a
 * choice of transports: the deterministic {@linkplain Kind#SIMULATED simulation} (virtual time),
 * the {@linkplain Kind#IN_PROCESS in-process} transport with real threads, or any {@link
 * TransportProvider} (e.g. gRPC).
 *
 * <p>The same factory and the same assertions work for every kind. Not thread-safe: drive it from
 * one thread.
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

  private Deployment(Builder b) {
    this.kind = b.kind;
    this.seed = b.seed;
    this.nodeIds = List.copyOf(b.nodeIds);
    NodeFactory factory = Objects.requireNonNull(b.factory, "a node factory is required");
    if (kind == Kind.SIMULATED) {
      provider = null;
      sim =
          Simulation.builder(seed)
              .nodes(nodeIds)
              .network(b.network)
              .nodeConfig(b.nodeConfig)
              .factory((id, env) -> factory.create(id, simEnv(env)))
              .build();
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
          };
      Map<ModuleId, Module> modules = new LinkedHashMap<>(factory.create(id, env));
      realModules.put(id, modules);
      nodes.put(id, Node.builder(id).modules(modules).config(b.nodeConfig).build());
    }
    for (Node n : nodes.values()) {
      n.start();
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

  /** Stops every real node (joining all their threads) and releases the transports. */
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

    /** The nodes, in declaration order (copied), as in {@link Simulation.Builder}. */
    public Builder nodes(List<NodeId> ids) {
      this.nodeIds = List.copyOf(ids);
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
