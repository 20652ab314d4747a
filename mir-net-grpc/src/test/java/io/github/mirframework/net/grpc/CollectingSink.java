package io.github.mirframework.net.grpc;

import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.NetMessages;
import io.github.mirframework.event.pb.MessageReceived;
import io.github.mirframework.event.pb.TestingString;
import io.github.mirframework.module.EventSink;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * Stands in for a node: collects what a transport emits. Can be made to block like a node whose
 * input is paused.
 */
final class CollectingSink implements EventSink {
  /** A received test message: sender and text. */
  record Received(String from, String text) {}

  private final List<Received> received = new ArrayList<>();
  private volatile CountDownLatch gate;

  @Override
  public boolean emit(EventList events) throws InterruptedException {
    CountDownLatch g = gate;
    if (g != null) {
      g.await();
    }
    synchronized (this) {
      for (Event e : events) {
        MessageReceived m = e.payload(MessageReceived.class);
        String text =
            NetMessages.unpack(m.getMsg(), TestingString.class)
                .map(TestingString::getValue)
                .orElse("<" + m.getMsg().getPayload().getTypeUrl() + ">");
        received.add(new Received(m.getFrom(), text));
      }
    }
    return true;
  }

  synchronized List<Received> received() {
    return List.copyOf(received);
  }

  synchronized int count() {
    return received.size();
  }

  synchronized List<String> textsFrom(String from) {
    List<String> out = new ArrayList<>();
    for (Received r : received) {
      if (r.from().equals(from)) {
        out.add(r.text());
      }
    }
    return out;
  }

  /** From now on, emit() blocks until {@link #unblock()}. */
  void block() {
    gate = new CountDownLatch(1);
  }

  void unblock() {
    CountDownLatch g = gate;
    gate = null;
    if (g != null) {
      g.countDown();
    }
  }
}
