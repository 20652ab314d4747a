package io.github.mirframework.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.module.ActiveModule;
import io.github.mirframework.module.EventSink;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Port of Mir's TestNode_Backpressure: a fast active "blabber" floods a slow passive "consumer";
 * the node must pause the blabber so that the number of submitted events never runs away from the
 * number consumed. Instead of Mir's fixed sleeps, the consumer is gated by the test, which makes
 * the bound exact and the test fast.
 */
class NodeBackpressureTest {
  private static final ModuleId CONSUMER = ModuleId.of("consumer");
  private static final NodeConfig CONFIG = NodeConfig.defaults();
  private static final int BLABBER_BATCH = CONFIG.pauseInputThreshold() / 10;

  /** Emits batches of events for the consumer as fast as the node lets it. */
  static final class Blabber implements ActiveModule {
    final AtomicLong submitted = new AtomicLong();

    /** True from just before an emit call until its result has been counted. */
    volatile boolean inEmit;

    private volatile Thread thread;
    private volatile boolean closed;

    /**
     * Whether the blabber is blocked inside {@code emit} (and not just returning from an emit that
     * was accepted, with its count not yet updated).
     */
    boolean blockedInEmit() {
      Thread t = thread;
      return inEmit && t != null && t.getState() == Thread.State.WAITING;
    }

    @Override
    public void start(EventSink sink) {
      thread =
          new Thread(
              () -> {
                try {
                  while (!closed) {
                    EventList batch = EventList.withCapacity(BLABBER_BATCH);
                    for (int i = 0; i < BLABBER_BATCH; i++) {
                      batch.add(Events.testingUint(CONSUMER, 0));
                    }
                    inEmit = true;
                    if (!sink.emit(batch)) {
                      return;
                    }
                    submitted.addAndGet(BLABBER_BATCH);
                    inEmit = false;
                  }
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              },
              "blabber");
      thread.start();
    }

    @Override
    public void applyEvents(EventList events) {}

    @Override
    public void close() {
      closed = true;
      thread.interrupt();
      try {
        thread.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Consumes one event per permit the test releases. */
  static final class GatedConsumer implements PassiveModule {
    final Semaphore permits = new Semaphore(0);
    final AtomicLong consumed = new AtomicLong();

    @Override
    public EventList applyEvents(EventList events) throws InterruptedException {
      for (int i = 0; i < events.size(); i++) {
        if (events.get(i).is(io.github.mirframework.event.pb.TestingUint.class)) {
          permits.acquire();
          consumed.incrementAndGet();
        }
      }
      return EventList.empty();
    }
  }

  private static long bound(GatedConsumer c) {
    // Consumed + what can sit in the buffer before pausing + one batch being consumed + one batch
    // of overshoot.
    return c.consumed.get()
        + CONFIG.pauseInputThreshold()
        + CONFIG.maxEventBatchSize()
        + 2L * BLABBER_BATCH;
  }

  @Test
  void blabberIsPausedWhileTheConsumerIsSlowAndResumedWhenItCatchesUp() throws Exception {
    Blabber blabber = new Blabber();
    GatedConsumer consumer = new GatedConsumer();
    Node node =
        Node.builder(NodeId.of("bp"))
            .module("blabber", blabber)
            .module(CONSUMER, consumer)
            .config(CONFIG)
            .build();
    try {
      node.start();
      // The consumer is blocked, so once more than the pause threshold is buffered, input stays
      // paused and the
      // blabber's next emit() blocks until the consumer catches up: its count is stable from then
      // on.
      NodeTest.await(
          () -> node.bufferedEvents() > CONFIG.pauseInputThreshold() && blabber.blockedInEmit(),
          "the blabber is paused");
      long pausedAt = blabber.submitted.get();
      assertThat(pausedAt).isLessThanOrEqualTo(bound(consumer));
      // Let the consumer drain a little less than what would resume input: nothing more may be
      // submitted.
      int belowResume =
          node.bufferedEvents() - CONFIG.resumeInputThreshold() - 2 * CONFIG.maxEventBatchSize();
      if (belowResume > 0) {
        consumer.permits.release(belowResume);
        NodeTest.await(
            () -> consumer.consumed.get() == belowResume, "the consumer took its permits");
        assertThat(blabber.submitted.get()).isEqualTo(pausedAt);
      }
      // Now let the consumer run freely for a while: the blabber resumes, the bound keeps holding.
      for (int round = 0; round < 20; round++) {
        long target = consumer.consumed.get() + CONFIG.pauseInputThreshold() / 2;
        consumer.permits.release(CONFIG.pauseInputThreshold());
        NodeTest.await(() -> consumer.consumed.get() >= target, "the consumer made progress");
        assertThat(blabber.submitted.get()).isLessThanOrEqualTo(bound(consumer));
      }
      assertThat(blabber.submitted.get()).isGreaterThan(pausedAt);
    } finally {
      consumer.permits.release(Integer.MAX_VALUE / 2);
      node.stop();
    }
    assertThat(node.failure()).isEmpty();
    assertThat(blabber.submitted.get()).isLessThanOrEqualTo(bound(consumer));
  }
}
