package io.github.mirframework.event;

import com.google.protobuf.Message;
import com.google.protobuf.TextFormat;
import io.github.mirframework.types.ModuleId;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * An event: an immutable envelope holding the destination module, a protobuf payload and an ordered
 * list of follow-up events.
 *
 * <p>The node routes an event by the top-level part of its destination. Follow-ups are released for
 * processing only after the event itself has been applied by its destination module; this is how a
 * protocol expresses "persist, then send". Follow-ups of the same parent are not ordered with
 * respect to each other once released.
 *
 * <p>Events are passed between the modules of a node as live objects; they are serialized only at
 * the edges (WAL, event logs, network) by {@link EventCodec}. Instances are immutable and safe to
 * share between threads; two events are equal when destination, payload and follow-ups are equal.
 */
public final class Event {
  private final ModuleId destination;
  private final Message payload;
  private final List<Event> followUps;

  private Event(ModuleId destination, Message payload, List<Event> followUps) {
    this.destination = destination;
    this.payload = payload;
    this.followUps = followUps;
  }

  /** Returns an event without follow-ups. */
  public static Event of(ModuleId destination, Message payload) {
    return new Event(
        Objects.requireNonNull(destination, "destination"),
        Objects.requireNonNull(payload, "payload"),
        List.of());
  }

  /** Returns an event with the given follow-ups. */
  public static Event of(ModuleId destination, Message payload, List<Event> followUps) {
    return of(destination, payload).withFollowUps(followUps);
  }

  /** The module this event is addressed to. */
  public ModuleId destination() {
    return destination;
  }

  /** The payload. */
  public Message payload() {
    return payload;
  }

  /** Whether the payload is an instance of {@code type}. */
  public boolean is(Class<? extends Message> type) {
    return type.isInstance(payload);
  }

  /**
   * Returns the payload cast to {@code type}.
   *
   * @throws ClassCastException naming both types if the payload has another type
   */
  public <T extends Message> T payload(Class<T> type) {
    if (!type.isInstance(payload)) {
      throw new ClassCastException(
          "event payload is " + payload.getClass().getName() + ", not " + type.getName());
    }
    return type.cast(payload);
  }

  /** The follow-up events, in the order they were added (an unmodifiable list). */
  public List<Event> followUps() {
    return followUps;
  }

  /** Whether this event has follow-ups. */
  public boolean hasFollowUps() {
    return !followUps.isEmpty();
  }

  /** Returns a copy of this event whose follow-ups are this event's followed by {@code more}. */
  public Event withFollowUps(List<Event> more) {
    if (more.isEmpty()) {
      return this;
    }
    List<Event> all = new ArrayList<>(followUps.size() + more.size());
    all.addAll(followUps);
    for (Event e : more) {
      all.add(Objects.requireNonNull(e, "follow-up event"));
    }
    return new Event(destination, payload, Collections.unmodifiableList(all));
  }

  /** Returns a copy of this event with one more follow-up. */
  public Event withFollowUp(Event next) {
    return withFollowUps(List.of(next));
  }

  /**
   * Returns a copy of this event without follow-ups (Mir's {@code Strip}); this event if it has
   * none.
   */
  public Event stripped() {
    return followUps.isEmpty() ? this : new Event(destination, payload, List.of());
  }

  /** Returns a copy of this event addressed to another module, keeping payload and follow-ups. */
  public Event redirect(ModuleId newDestination) {
    return new Event(Objects.requireNonNull(newDestination), payload, followUps);
  }

  /** Returns a copy of this event with another payload, keeping destination and follow-ups. */
  public Event withPayload(Message newPayload) {
    return new Event(destination, Objects.requireNonNull(newPayload), followUps);
  }

  /** The simple name of the payload's protobuf type, e.g. {@code "Init"}. */
  public String typeName() {
    return payload.getDescriptorForType().getName();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Event e
        && e.destination.equals(destination)
        && e.payload.equals(payload)
        && e.followUps.equals(followUps);
  }

  @Override
  public int hashCode() {
    return Objects.hash(destination, payload, followUps);
  }

  /** A one-line readable form: destination, payload type and fields, and follow-ups. */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    sb.append(destination)
        .append(" <- ")
        .append(payload.getDescriptorForType().getFullName())
        .append('{')
        .append(TextFormat.printer().emittingSingleLine(true).printToString(payload).trim())
        .append('}');
    if (!followUps.isEmpty()) {
      sb.append(" then ").append(followUps);
    }
    return sb.toString();
  }
}
