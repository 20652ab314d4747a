package io.github.mirframework.eventlog;

import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.util.List;
import java.util.Objects;

/**
 * One batch of events as recorded: the events a module was about to process, and when. Immutable
 * and thread-safe.
 *
 * @param nodeId the node that recorded the batch
 * @param moduleId the module that processed the batch
 * @param timeMs the timestamp, in milliseconds of the recorder's time source
 * @param events the events, in order
 */
public record RecordedEntry(
    NodeId nodeId, ModuleId moduleId, long timeMs, List<RecordedEvent> events) {

  /** Validates and copies the arguments. */
  public RecordedEntry {
    Objects.requireNonNull(nodeId, "node ID");
    Objects.requireNonNull(moduleId, "module ID");
    events = List.copyOf(events);
  }
}
