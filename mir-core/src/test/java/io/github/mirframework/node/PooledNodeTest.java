package io.github.mirframework.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Every test of {@link NodeTest} again with the modules on a pool of two worker threads ({@link
 * Node.Builder#workerThreads}), plus what only the pool does.
 */
class PooledNodeTest extends NodeTest {
  @Override
  NodeConfig config() {
    return NodeConfig.defaults().withWorkerThreads(2);
  }

  @Test
  void aPoolRunsEveryModuleOnItsWorkersOneBatchAtATime() throws Exception {
    int modules = 12;
    int rounds = 2_000;
    AtomicInteger inside = new AtomicInteger();
    AtomicInteger overlaps = new AtomicInteger();
    List<String> threadNames = java.util.Collections.synchronizedList(new ArrayList<>());
    AtomicInteger done = new AtomicInteger();
    Node.Builder b =
        Node.builder(NodeId.of("pool")).config(NodeConfig.defaults().withWorkerThreads(3));
    for (int m = 0; m < modules; m++) {
      ModuleId next = ModuleId.of("m" + ((m + 1) % modules));
      AtomicInteger mine = new AtomicInteger();
      PassiveModule module =
          events -> {
            if (mine.incrementAndGet() != 1) {
              overlaps.incrementAndGet();
            }
            inside.incrementAndGet();
            threadNames.add(Thread.currentThread().getName());
            EventList out = EventList.empty();
            for (Event e : events) {
              if (e.payload() instanceof io.github.mirframework.event.pb.Init) {
                continue;
              }
              long hops = ((com.google.protobuf.Int64Value) e.payload()).getValue();
              if (hops < rounds) {
                out.add(Event.of(next, com.google.protobuf.Int64Value.of(hops + 1)));
              } else {
                done.incrementAndGet();
              }
            }
            inside.decrementAndGet();
            mine.decrementAndGet();
            return out;
          };
      b.module(ModuleId.of("m" + m), module);
    }
    Node node = track(b.build());
    node.start();
    EventList tokens = EventList.empty();
    for (int m = 0; m < modules; m++) {
      tokens.add(Event.of(ModuleId.of("m" + m), com.google.protobuf.Int64Value.of(0)));
    }
    node.injectEvents(tokens);
    await(() -> done.get() == modules, "every token made its hops");
    assertThat(overlaps).hasValue(0);
    assertThat(liveThreadsOf(node.id())).hasSize(3).allMatch(n -> n.startsWith("mir-pool-worker-"));
    assertThat(threadNames).allMatch(n -> n.startsWith("mir-pool-worker-"));
    node.stop();
    assertThat(liveThreadsOf(node.id())).isEmpty();
  }

  @Test
  void negativeWorkerCountsAreRejected() {
    assertThatThrownBy(() -> NodeConfig.defaults().withWorkerThreads(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("workerThreads must be between 0");
  }
}
