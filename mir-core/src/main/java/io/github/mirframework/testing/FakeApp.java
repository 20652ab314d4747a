package io.github.mirframework.testing;

import com.google.protobuf.Message;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.pb.Init;
import io.github.mirframework.event.pb.MessageReceived;
import io.github.mirframework.module.PassiveModule;
import java.util.ArrayList;
import java.util.List;

/**
 * A test application module: records the payload of every event it receives from its own node
 * (except {@code Init}), in order. It takes no messages from peers ({@link #receivesMessages()} is
 * {@code false}), and a {@code MessageReceived} that reaches it anyway (e.g. applied directly) is
 * counted, not recorded as a delivery. Thread-safe for reading while its node runs.
 */
public final class FakeApp implements PassiveModule {
  private final List<Message> delivered = new ArrayList<>();
  private long ignoredPeerMessages;

  @Override
  public synchronized EventList applyEvents(EventList events) {
    for (Event e : events) {
      if (e.payload() instanceof MessageReceived) {
        ignoredPeerMessages++;
      } else if (!(e.payload() instanceof Init)) {
        delivered.add(e.payload());
      }
    }
    return EventList.empty();
  }

  /** A copy of the delivered payloads, in delivery order. */
  public synchronized List<Message> delivered() {
    return List.copyOf(delivered);
  }

  /** Number of peer messages that reached this module and were ignored. */
  public synchronized long ignoredPeerMessages() {
    return ignoredPeerMessages;
  }

  /** Number of delivered payloads. */
  public synchronized int deliveredCount() {
    return delivered.size();
  }
}
