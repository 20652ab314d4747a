package io.github.mirframework.event;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * An ordered, growable list of events: the unit modules consume and produce.
 *
 * <p>An event list is <strong>not</strong> thread-safe. Whoever hands a list to a module or to a
 * node gives it away and must not change it afterwards; modules may return (and the node may reuse)
 * the lists they receive.
 */
public final class EventList implements Iterable<Event> {
  private static final Event[] NONE = new Event[0];

  private Event[] items;
  private int size;

  private EventList(Event[] items, int size) {
    this.items = items;
    this.size = size;
  }

  /** Returns a new empty list. */
  public static EventList empty() {
    return new EventList(NONE, 0);
  }

  /** Returns a new empty list with room for {@code capacity} events. */
  public static EventList withCapacity(int capacity) {
    return new EventList(capacity == 0 ? NONE : new Event[capacity], 0);
  }

  /** Returns a new list of the given events. */
  public static EventList of(Event... events) {
    for (Event e : events) {
      Objects.requireNonNull(e, "event");
    }
    return new EventList(events.clone(), events.length);
  }

  /** Returns a new list of the given events, in iteration order. */
  public static EventList of(Collection<Event> events) {
    EventList list = withCapacity(events.size());
    for (Event e : events) {
      list.add(e);
    }
    return list;
  }

  /** Number of events in the list. */
  public int size() {
    return size;
  }

  /** Whether the list has no events. */
  public boolean isEmpty() {
    return size == 0;
  }

  /** The event at position {@code i}. */
  public Event get(int i) {
    Objects.checkIndex(i, size);
    return items[i];
  }

  /** Appends an event and returns this list. */
  public EventList add(Event e) {
    Objects.requireNonNull(e, "event");
    if (size == items.length) {
      items = Arrays.copyOf(items, Math.max(8, size * 2));
    }
    items[size++] = e;
    return this;
  }

  /** Appends all events of {@code other} (which is not changed) and returns this list. */
  public EventList addAll(EventList other) {
    if (other.size == 0) {
      return this;
    }
    ensureCapacity(size + other.size);
    System.arraycopy(other.items, 0, items, size, other.size);
    size += other.size;
    return this;
  }

  /** Appends all given events and returns this list. */
  public EventList addAll(Collection<Event> events) {
    ensureCapacity(size + events.size());
    for (Event e : events) {
      add(e);
    }
    return this;
  }

  private void ensureCapacity(int n) {
    if (n > items.length) {
      items = Arrays.copyOf(items, Math.max(n, items.length * 2));
    }
  }

  /** Removes all events. */
  public void clear() {
    Arrays.fill(items, 0, size, null);
    size = 0;
  }

  /** Returns a new list with the first {@code n} events (or all, if fewer). */
  public EventList head(int n) {
    if (n < 0) {
      throw new IllegalArgumentException("head size must not be negative, got " + n);
    }
    int k = Math.min(n, size);
    return new EventList(Arrays.copyOf(items, k), k);
  }

  /**
   * Returns the events without their follow-ups (the {@link Split#plain()} part) and all their
   * follow-ups, in order (the {@link Split#followUps()} part). Only one level is stripped:
   * follow-ups keep their own follow-ups. When no event has follow-ups, {@code plain} is this very
   * list and no copy is made.
   */
  public Split stripFollowUps() {
    int first = -1;
    for (int i = 0; i < size; i++) {
      if (items[i].hasFollowUps()) {
        first = i;
        break;
      }
    }
    if (first < 0) {
      return new Split(this, empty());
    }
    EventList plain = withCapacity(size);
    EventList followUps = empty();
    for (int i = 0; i < size; i++) {
      Event e = items[i];
      if (e.hasFollowUps()) {
        followUps.addAll(e.followUps());
        plain.add(e.stripped());
      } else {
        plain.add(e);
      }
    }
    return new Split(plain, followUps);
  }

  /**
   * The result of {@link #stripFollowUps()}.
   *
   * @param plain the events without follow-ups
   * @param followUps the follow-ups of all events, in order
   */
  public record Split(EventList plain, EventList followUps) {}

  /** Returns the events as an unmodifiable list (a copy). */
  public List<Event> toList() {
    return Collections.unmodifiableList(new ArrayList<>(Arrays.asList(items).subList(0, size)));
  }

  @Override
  public void forEach(Consumer<? super Event> action) {
    for (int i = 0; i < size; i++) {
      action.accept(items[i]);
    }
  }

  @Override
  public Iterator<Event> iterator() {
    return new Iterator<>() {
      private int next;

      @Override
      public boolean hasNext() {
        return next < size;
      }

      @Override
      public Event next() {
        if (next >= size) {
          throw new NoSuchElementException();
        }
        return items[next++];
      }
    };
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof EventList other) || other.size != size) {
      return false;
    }
    for (int i = 0; i < size; i++) {
      if (!items[i].equals(other.items[i])) {
        return false;
      }
    }
    return true;
  }

  @Override
  public int hashCode() {
    int h = 1;
    for (int i = 0; i < size; i++) {
      h = 31 * h + items[i].hashCode();
    }
    return h;
  }

  @Override
  public String toString() {
    return toList().toString();
  }
}
