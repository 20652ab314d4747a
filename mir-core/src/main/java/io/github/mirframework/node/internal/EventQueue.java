package io.github.mirframework.node.internal;

import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import java.util.ArrayList;
import java.util.List;

/** An unbounded FIFO ring buffer of events. Not thread-safe. */
final class EventQueue {
  private Event[] ring = new Event[64];
  private int head;
  private int size;

  int size() {
    return size;
  }

  boolean isEmpty() {
    return size == 0;
  }

  void add(Event e) {
    if (size == ring.length) {
      grow();
    }
    ring[(head + size) & (ring.length - 1)] = e;
    size++;
  }

  private void grow() {
    Event[] bigger = new Event[ring.length * 2];
    int firstPart = Math.min(size, ring.length - head);
    System.arraycopy(ring, head, bigger, 0, firstPart);
    System.arraycopy(ring, 0, bigger, firstPart, size - firstPart);
    ring = bigger;
    head = 0;
  }

  /** Removes up to {@code max} events from the front into a new list. */
  EventList poll(int max) {
    int n = Math.min(max, size);
    EventList out = EventList.withCapacity(n);
    int mask = ring.length - 1;
    for (int i = 0; i < n; i++) {
      int idx = (head + i) & mask;
      out.add(ring[idx]);
      ring[idx] = null;
    }
    head = (head + n) & mask;
    size -= n;
    return out;
  }

  /** A copy of the queued events, front first. */
  List<Event> snapshot() {
    List<Event> out = new ArrayList<>(size);
    int mask = ring.length - 1;
    for (int i = 0; i < size; i++) {
      out.add(ring[(head + i) & mask]);
    }
    return out;
  }
}
