package io.github.mirframework.benchmarks;

import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.metrics.ModuleGauges;
import io.github.mirframework.metrics.ModuleMetrics;
import io.github.mirframework.metrics.NodeMetrics;
import io.github.mirframework.metrics.micrometer.MicrometerMetrics;
import io.github.mirframework.module.Module;
import io.github.mirframework.node.NodeConfig;
import io.github.mirframework.node.internal.Engine;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Events per second through the bare deterministic step function ({@link Engine}) on one thread:
 * take a batch, process it, complete it. The same ring of forwarding modules as {@link
 * NodeThroughputBenchmark}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Thread)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class EngineStepBenchmark {
  static final int STEPS = 64;

  @Param({"1", "4", "16"})
  int modules;

  @Param({"1", "512"})
  int batchSize;

  /** Whether batches are reported to the Micrometer binding ({@code micrometer}) or not. */
  @Param({"off", "micrometer"})
  String metrics;

  private Engine engine;
  private ModuleMetrics[] moduleMetrics;

  @Setup
  public void setUp() {
    Map<ModuleId, Module> m = new LinkedHashMap<>();
    for (int i = 0; i < modules; i++) {
      m.put(ModuleId.of("m" + i), new Forwarder(ModuleId.of("m" + ((i + 1) % modules))));
    }
    engine = new Engine(m, NodeConfig.defaults().withMaxEventBatchSize(batchSize));
    // Enough events that every module always has a full batch waiting.
    EventList seed = EventList.withCapacity(modules * batchSize * 2);
    for (int i = 0; i < modules * batchSize * 2; i++) {
      seed.add(Events.testingUint(ModuleId.of("m" + (i % modules)), i));
    }
    engine.route(seed);
    moduleMetrics = new ModuleMetrics[modules];
    if (metrics.equals("micrometer")) {
      NodeMetrics nm = new MicrometerMetrics(new SimpleMeterRegistry()).forNode(NodeId.of("b"));
      for (int i = 0; i < modules; i++) {
        int slot = i;
        moduleMetrics[i] =
            nm.module(
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
    } else if (!metrics.equals("off")) {
      throw new IllegalArgumentException("metrics must be off or micrometer, got " + metrics);
    }
  }

  /** Processes {@link #STEPS} batches; reported per event. */
  @Benchmark
  @OperationsPerInvocation(STEPS)
  public int steps() {
    int events = 0;
    for (int i = 0; i < STEPS; i++) {
      Engine.Batch b = engine.nextBatch();
      events += b.events().size();
      engine.complete(b, Engine.process(b, null, moduleMetrics[b.slot()]));
    }
    return events;
  }
}
