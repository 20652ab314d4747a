package io.github.mirframework.wal.file;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.PayloadRegistry;
import io.github.mirframework.event.pb.Init;
import io.github.mirframework.event.pb.TestingString;
import io.github.mirframework.event.pb.TestingUint;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.node.Node;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import io.github.mirframework.types.RetentionIndex;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real node that persists its state changes in a {@link FileWal}, is stopped and restarted. */
class FileWalNodeTest {
  private static final ModuleId WAL = ModuleId.of("wal");
  private static final ModuleId COUNTER = ModuleId.of("counter");
  private static final Duration WAIT = Duration.ofSeconds(10);

  @TempDir Path dir;

  /**
   * Adds up the numbers it is sent. Live additions (after Init) are persisted with a {@code
   * WalAppend} whose follow-up tells the counter the addition is durable; additions arriving before
   * Init are replayed from the WAL and only applied.
   */
  static final class Counter implements PassiveModule {
    final List<String> seen = new CopyOnWriteArrayList<>();
    volatile long total;
    private boolean initialized;

    @Override
    public EventList applyEvents(EventList events) {
      EventList out = EventList.empty();
      for (Event e : events) {
        switch (e.payload()) {
          case Init ignored -> {
            initialized = true;
            seen.add("Init");
          }
          case TestingUint add -> {
            total += add.getValue();
            if (!initialized) {
              seen.add("replayed " + add.getValue());
            } else {
              seen.add("added " + add.getValue());
              out.add(
                  Events.walAppend(
                          WAL, Events.testingUint(COUNTER, add.getValue()), RetentionIndex.ZERO)
                      .withFollowUp(Events.testingString(COUNTER, "durable " + add.getValue())));
            }
          }
          case TestingString note -> seen.add(note.getValue());
          default -> throw new IllegalArgumentException("unexpected " + e);
        }
      }
      return out;
    }
  }

  private static Node node(FileWal wal, Counter counter) {
    return Node.builder(NodeId.of("0")).wal(wal).module(WAL, wal).module(COUNTER, counter).build();
  }

  private static void await(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + WAIT + " waiting until " + what);
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
    }
  }

  @Test
  void aRestartedNodeSeesItsPersistedStateChangesBeforeInit() throws Exception {
    PayloadRegistry registry = PayloadRegistry.withCoreTypes();
    Counter first = new Counter();
    try (FileWal wal = FileWal.open(dir, registry);
        Node node = node(wal, first)) {
      node.start();
      await(() -> first.seen.contains("Init"), "the counter was initialized");
      node.injectEvents(
          EventList.of(
              Events.testingUint(COUNTER, 1),
              Events.testingUint(COUNTER, 2),
              Events.testingUint(COUNTER, 3)));
      await(() -> first.seen.contains("durable 3"), "all additions were made durable");
      node.stop();
      assertThat(node.failure()).isEmpty();
    }
    assertThat(first.seen)
        .containsSubsequence("added 1", "durable 1")
        .containsSubsequence("added 3", "durable 3");

    Counter second = new Counter();
    try (FileWal wal = FileWal.open(dir, registry);
        Node node = node(wal, second)) {
      node.start();
      await(() -> second.seen.contains("Init"), "the restarted counter was initialized");
      node.stop();
      assertThat(node.failure()).isEmpty();
    }
    assertThat(second.seen).containsExactly("replayed 1", "replayed 2", "replayed 3", "Init");
    assertThat(second.total).isEqualTo(6);
  }
}
