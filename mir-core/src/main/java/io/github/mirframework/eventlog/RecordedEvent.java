package io.github.mirframework.eventlog;

import com.google.protobuf.DynamicMessage;
import com.google.protobuf.Message;
import io.github.mirframework.event.Event;
import io.github.mirframework.types.ModuleId;
import java.util.List;
import java.util.Objects;

/**
 * An event as read from a log. Immutable and thread-safe (the payload is an immutable protobuf
 * message).
 *
 * @param destination the module the event was addressed to
 * @param typeName the full protobuf name of the payload's type, e.g. {@code "mir.core.Init"}
 * @param payload the payload: an instance of the generated class if the reader was given a registry
 *     that knows the type, otherwise a {@link DynamicMessage} built from the descriptors in the log
 * @param followUps the follow-up events (empty for events recorded by a node, which records events
 *     stripped of them)
 */
public record RecordedEvent(
    ModuleId destination, String typeName, Message payload, List<RecordedEvent> followUps) {

  /** Validates and copies the arguments. */
  public RecordedEvent {
    Objects.requireNonNull(destination, "destination");
    Objects.requireNonNull(typeName, "type name");
    Objects.requireNonNull(payload, "payload");
    followUps = List.copyOf(followUps);
  }

  /**
   * Returns this event as an {@link Event} (with its follow-ups), e.g. to replay it into a node. A
   * payload read as a {@link DynamicMessage} stays one, so only modules that accept dynamic
   * payloads will understand it.
   */
  public Event toEvent() {
    Event e = Event.of(destination, payload);
    if (followUps.isEmpty()) {
      return e;
    }
    return e.withFollowUps(followUps.stream().map(RecordedEvent::toEvent).toList());
  }
}
