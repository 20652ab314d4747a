package io.github.mirframework.testing;

import com.google.protobuf.Message;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.pb.Init;
import io.github.mirframework.module.PassiveModule;
import java.util.ArrayList;
import java.util.List;

/**
 * A test application module: records the payload of every event it receives (except {@code Init}),
 * in order. Thread-safe for reading while its node runs.
 */
public final class FakeApp implements PassiveModule {
  private final List<Message> delivered = new ArrayList<>();

  @Override
  public synchronized EventList applyEvents(EventList events) {
    for (Event e : events) {
      if (!(e.payload() instanceof Init)) {
        delivered.add(e.payload());
      }
    }
    return EventList.empty();
  }

  /** A copy of the delivered payloads, in delivery order. */
  public synchronized List<Message> delivered() {
    return List.copyOf(delivered);
  }

  /** Number of delivered payloads. */
  public synchronized int deliveredCount() {
    return delivered.size();
  }
}
