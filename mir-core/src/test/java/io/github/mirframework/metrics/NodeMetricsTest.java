package io.github.mirframework.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.pb.TestingUint;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.net.inprocess.InProcessNetwork;
import io.github.mirframework.node.Node;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A node reports its modules' batches and offers its gauges and its transport's counters. */
@Timeout(30)
class NodeMetricsTest {
  static final ModuleId SINK = ModuleId.of("sink");

  /** Sums what the node reports, per module. */
  static final class Collected implements NodeMetrics {
    final Map<ModuleId, AtomicLong> events = new ConcurrentHashMap<>();
    final Map<ModuleId, AtomicLong> batches = new ConcurrentHashMap<>();
    final Map<ModuleId, ModuleGauges> moduleGauges = new ConcurrentHashMap<>();
    final Map<ModuleId, TransportStats> transports = new ConcurrentHashMap<>();
    NodeGauges node;

    @Override
    public ModuleMetrics module(ModuleId module, ModuleGauges gauges) {
      moduleGauges.put(module, gauges);
      AtomicLong e = events.computeIfAbsent(module, k -> new AtomicLong());
      AtomicLong b = batches.computeIfAbsent(module, k -> new AtomicLong());
      return (n, nanos) -> {
        assertThat(nanos).isNotNegative(); // every batch is timed by default
        e.addAndGet(n);
        b.incrementAndGet();
      };
    }

    @Override
    public void node(NodeGauges gauges) {
      node = gauges;
    }

    @Override
    public void transport(ModuleId module, TransportStats stats) {
      transports.put(module, stats);
    }
  }

  @Test
  void everyAppliedEventIsReportedWithItsBatchAndTheGaugesAreReadable() throws Exception {
    Collected metrics = new Collected();
    CountDownLatch seen = new CountDownLatch(100);
    PassiveModule sink =
        events -> {
          for (Event e : events) {
            if (e.payload() instanceof TestingUint) {
              seen.countDown();
            }
          }
          return EventList.empty();
        };
    InProcessNetwork net = new InProcessNetwork(List.of(NodeId.of("0")));
    try (Node node =
        Node.builder(NodeId.of("0"))
            .module("net", net.transport(NodeId.of("0")))
            .module(SINK, sink)
            .metrics(metrics)
            .build()) {
      node.start();
      for (int i = 0; i < 100; i++) {
        node.injectEvents(EventList.of(Events.testingUint(SINK, i)));
      }
      assertThat(seen.await(10, TimeUnit.SECONDS)).isTrue();
      // 100 numbers and Init.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (metrics.events.get(SINK).get() < 101 && System.nanoTime() < deadline) {
        java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
      }
      assertThat(metrics.events.get(SINK).get()).isEqualTo(101);
      assertThat(metrics.batches.get(SINK).get()).isBetween(1L, 101L);
      assertThat(metrics.moduleGauges.get(SINK).processedEvents()).isEqualTo(101);
      assertThat(metrics.moduleGauges.get(SINK).bufferedEvents()).isZero();
      assertThat(metrics.node.droppedMessages()).isZero();
      assertThat(metrics.node.inputPaused()).isFalse();
      assertThat(metrics.transports).containsOnlyKeys(ModuleId.of("net"));
    }
  }
}
