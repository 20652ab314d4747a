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
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The cost of the Micrometer binding per event, in <em>thread CPU time</em>, which a loaded machine
 * disturbs much less than the wall-clock throughput of {@link NodeThroughputBenchmark}: the
 * engine's step function (as in {@link EngineStepBenchmark}, 4 forwarding modules) runs alternately
 * without and with metrics, 10 measured rounds of 10 million events each, and the medians are
 * compared. Run with {@code java -cp benchmarks/target/benchmarks.jar
 * io.github.mirframework.benchmarks.MetricsOverhead}.
 */
public final class MetricsOverhead {
  private Engine engine;
  private ModuleMetrics[] metrics;

  private MetricsOverhead(int modules, int batchSize, boolean withMetrics) {
    Map<ModuleId, Module> m = new LinkedHashMap<>();
    for (int i = 0; i < modules; i++) {
      m.put(ModuleId.of("m" + i), new Forwarder(ModuleId.of("m" + ((i + 1) % modules))));
    }
    engine = new Engine(m, NodeConfig.defaults().withMaxEventBatchSize(batchSize));
    EventList seed = EventList.withCapacity(modules * batchSize * 2);
    for (int i = 0; i < modules * batchSize * 2; i++) {
      seed.add(Events.testingUint(ModuleId.of("m" + (i % modules)), i));
    }
    engine.route(seed);
    metrics = new ModuleMetrics[modules];
    if (withMetrics) {
      NodeMetrics nm = new MicrometerMetrics(new SimpleMeterRegistry()).forNode(NodeId.of("b"));
      for (int i = 0; i < modules; i++) {
        metrics[i] =
            nm.module(
                engine.moduleId(i),
                new ModuleGauges() {
                  @Override
                  public int bufferedEvents() {
                    return 0;
                  }

                  @Override
                  public long processedEvents() {
                    return 0;
                  }
                });
      }
    }
  }

  private long run(long events) {
    long done = 0;
    while (done < events) {
      Engine.Batch b = engine.nextBatch();
      done += b.events().size();
      engine.complete(b, Engine.process(b, null, metrics[b.slot()]));
    }
    return done;
  }

  /** Prints the median CPU time per event without and with metrics, for batches of 1 and 512. */
  public static void main(String[] args) {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    for (int batch : new int[] {1, 512}) {
      List<Double> off = new ArrayList<>();
      List<Double> on = new ArrayList<>();
      for (int round = 0; round < 12; round++) {
        for (boolean withMetrics : new boolean[] {false, true}) {
          MetricsOverhead b = new MetricsOverhead(4, batch, withMetrics);
          b.run(2_000_000);
          long t0 = threads.getCurrentThreadCpuTime();
          long n = b.run(10_000_000);
          double ns = (threads.getCurrentThreadCpuTime() - t0) / (double) n;
          if (round >= 2) {
            (withMetrics ? on : off).add(ns);
          }
        }
      }
      Collections.sort(off);
      Collections.sort(on);
      double offMedian = off.get(off.size() / 2);
      double onMedian = on.get(on.size() / 2);
      System.out.printf(
          Locale.ROOT,
          "batch=%d modules=4: off %.1f ns/event (min %.1f, max %.1f); micrometer %.1f (min %.1f,"
              + " max %.1f); overhead %+.1f%%%n",
          batch,
          offMedian,
          off.get(0),
          off.get(off.size() - 1),
          onMedian,
          on.get(0),
          on.get(on.size() - 1),
          100 * (onMedian / offMedian - 1));
    }
  }
}
