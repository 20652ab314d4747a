package io.github.mirframework.benchmarks;

import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.metrics.micrometer.MicrometerMetrics;
import io.github.mirframework.node.Node;
import io.github.mirframework.node.NodeConfig;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Events per second through the threaded {@link Node}: a ring of trivial passive modules, each
 * forwarding every event to the next, with a constant population of events circulating. One
 * operation is one event processed by a module.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Benchmark)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class NodeThroughputBenchmark {
  /** Events each benchmark invocation waits for. */
  static final int EVENTS_PER_OP = 1 << 20;

  @Param({"1", "4", "16"})
  int modules;

  @Param({"1", "512"})
  int batchSize;

  /**
   * Whether the node reports metrics: {@code off} (no binding: the engine's disabled path) or
   * {@code micrometer} (the Micrometer binding into a Prometheus registry).
   */
  @Param({"off", "micrometer"})
  String metrics;

  /** Events circulating in the ring. */
  @Param({"16384"})
  int population;

  private Node node;
  private Forwarder first;
  private PrometheusMeterRegistry registry;

  @Setup
  public void setUp() {
    Node.Builder b =
        Node.builder(NodeId.of("bench"))
            .config(
                NodeConfig.defaults()
                    .withMaxEventBatchSize(batchSize)
                    .withInputThresholds(Integer.MAX_VALUE, Integer.MAX_VALUE - 1));
    Forwarder[] fw = new Forwarder[modules];
    for (int i = 0; i < modules; i++) {
      fw[i] = new Forwarder(ModuleId.of("m" + ((i + 1) % modules)));
      b.module("m" + i, fw[i]);
    }
    first = fw[0];
    if (metrics.equals("micrometer")) {
      registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
      b.metrics(new MicrometerMetrics(registry).forNode(NodeId.of("bench")));
    } else if (!metrics.equals("off")) {
      throw new IllegalArgumentException("metrics must be off or micrometer, got " + metrics);
    }
    node = b.build();
    node.start();
    EventList seed = EventList.withCapacity(population);
    for (int i = 0; i < population; i++) {
      seed.add(Events.testingUint(ModuleId.of("m" + (i % modules)), i));
    }
    node.injectEvents(seed);
  }

  @TearDown
  public void tearDown() {
    node.stop();
    if (registry != null) {
      registry.close();
    }
  }

  /** Waits until {@link #EVENTS_PER_OP} events have been processed by all modules together. */
  @Benchmark
  @OperationsPerInvocation(EVENTS_PER_OP)
  public void events() throws InterruptedException {
    first.awaitMore(EVENTS_PER_OP / modules);
  }
}
