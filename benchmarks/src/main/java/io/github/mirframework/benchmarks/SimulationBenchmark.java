package io.github.mirframework.benchmarks;

import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.pb.Init;
import io.github.mirframework.event.pb.MessageReceived;
import io.github.mirframework.event.pb.TestingUint;
import io.github.mirframework.module.Module;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.sim.NetworkModel;
import io.github.mirframework.sim.Simulation;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Simulated events per wall-clock second: 4 nodes, each starting 256 "tokens" that every receiver
 * forwards to a random node, over the simulated network (0–10 ms latency, no loss, so the token
 * population stays constant), with the simulated timer module registered. The {@code events}
 * counter is the number of events the nodes' modules processed.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class SimulationBenchmark {
  static final ModuleId NET = ModuleId.of("net");
  static final ModuleId TOKENS = ModuleId.of("tokens");

  /** Forwards every token it receives to a random node. */
  static final class Tokens implements PassiveModule {
    private final List<NodeId> all;
    private final RandomGenerator random;

    Tokens(List<NodeId> all, RandomGenerator random) {
      this.all = all;
      this.random = random;
    }

    @Override
    public EventList applyEvents(EventList events) {
      EventList out = EventList.withCapacity(events.size());
      for (Event e : events) {
        if (e.payload() instanceof Init) {
          for (int i = 0; i < 256; i++) {
            out.add(send(i));
          }
        } else if (e.payload() instanceof MessageReceived) {
          out.add(send(0));
        }
      }
      return out;
    }

    private Event send(long v) {
      return Events.sendMessage(
          NET,
          TOKENS,
          TestingUint.newBuilder().setValue(v).build(),
          List.of(all.get(random.nextInt(all.size()))));
    }
  }

  /** Events processed, reported as a rate. */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.OPERATIONS)
  public static class Counters {
    /** Events processed by all modules of all nodes. */
    public long events;
  }

  /** A fresh simulation per iteration. */
  @State(Scope.Thread)
  public static class Sim {
    Simulation sim;

    /** Builds the simulation. */
    @Setup(Level.Iteration)
    public void setUp() {
      sim =
          Simulation.builder(1)
              .nodes(4)
              .network(NetworkModel.defaults())
              .factory(
                  (id, env) -> {
                    Map<ModuleId, Module> m = new LinkedHashMap<>();
                    m.put(NET, env.transport());
                    m.put(ModuleId.of("timer"), env.timer());
                    m.put(TOKENS, new Tokens(env.allNodes(), env.random()));
                    return m;
                  })
              .build();
    }
  }

  /** Runs 10 ms of virtual time. */
  @Benchmark
  public long tenMillisecondsOfVirtualTime(Sim s, Counters c) {
    long before = s.sim.eventsProcessed();
    s.sim.runFor(Duration.ofMillis(10));
    long n = s.sim.eventsProcessed() - before;
    c.events += n;
    return n;
  }
}
