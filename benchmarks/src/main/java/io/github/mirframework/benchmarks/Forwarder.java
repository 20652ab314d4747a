package io.github.mirframework.benchmarks;

import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.pb.Init;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.types.ModuleId;
import java.util.concurrent.CountDownLatch;

/**
 * A trivial passive module for engine benchmarks: it forwards every event (except Init) to the next
 * module of a ring, allocating one new event per event, and counts what it processed.
 */
final class Forwarder implements PassiveModule {
  private final ModuleId next;
  private volatile long processed;
  private volatile long target = Long.MAX_VALUE;
  private volatile CountDownLatch reached;

  Forwarder(ModuleId next) {
    this.next = next;
  }

  @Override
  public EventList applyEvents(EventList events) {
    int n = events.size();
    EventList out = EventList.withCapacity(n);
    for (int i = 0; i < n; i++) {
      Event e = events.get(i);
      if (!(e.payload() instanceof Init)) {
        out.add(Event.of(next, e.payload()));
      }
    }
    long p = processed + n;
    processed = p;
    if (p >= target) {
      target = Long.MAX_VALUE;
      reached.countDown();
    }
    return out;
  }

  /** Blocks until this module has processed {@code more} further events. */
  void awaitMore(long more) throws InterruptedException {
    CountDownLatch latch = new CountDownLatch(1);
    reached = latch;
    target = processed + more;
    if (processed >= target) {
      return;
    }
    latch.await();
  }
}
