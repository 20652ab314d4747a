package io.github.mirframework.wal.file;

import io.github.mirframework.event.DecodeResult;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventCodec;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.pb.EventRecord;
import io.github.mirframework.event.pb.Init;
import io.github.mirframework.event.pb.WalAppend;
import io.github.mirframework.event.pb.WalTruncate;
import io.github.mirframework.types.RetentionIndex;
import java.io.IOException;

/**
 * The module side shared by every WAL implementation: turns the events a WAL module receives into
 * append and truncate calls, validating them first.
 */
final class WalCommands {

  /** What a WAL does with validated commands. */
  interface Target {
    /**
     * Persists one entry. {@code record} is the serialized form of {@code event}, as it arrived in
     * the {@code WalAppend}.
     */
    void append(EventRecord record, Event event, RetentionIndex retentionIndex) throws IOException;

    /** Drops every entry whose retention index is below {@code retentionIndex}. */
    void truncate(RetentionIndex retentionIndex) throws IOException;
  }

  private WalCommands() {}

  /**
   * Applies the events in order.
   *
   * @throws IllegalArgumentException for an event the WAL cannot handle, naming it; the events
   *     before it have been applied
   * @throws IOException if the target fails
   */
  static void apply(EventList events, EventCodec codec, Target target) throws IOException {
    for (Event e : events) {
      switch (e.payload()) {
        case Init ignored -> {
          // Nothing to initialize: the log was opened by its constructor.
        }
        case WalAppend append -> {
          if (!append.hasEvent()) {
            throw new IllegalArgumentException(
                "WalAppend for '" + e.destination() + "' has no event");
          }
          RetentionIndex ri = retentionIndex(append.getRetentionIndex(), e);
          EventRecord record = append.getEvent();
          // Refuse now what could not be replayed at the next start-up.
          DecodeResult<Event> decoded = codec.fromRecord(record);
          if (decoded instanceof DecodeResult.Error<Event> err) {
            throw new IllegalArgumentException(
                "WalAppend for '"
                    + e.destination()
                    + "' carries an event that could not be replayed: "
                    + err.reason()
                    + " (register its payload type in the WAL's PayloadRegistry)");
          }
          target.append(record, decoded.orElseThrow(), ri);
        }
        case WalTruncate truncate ->
            target.truncate(retentionIndex(truncate.getRetentionIndex(), e));
        default ->
            throw new IllegalArgumentException(
                "a WAL module handles Init, WalAppend and WalTruncate, not "
                    + e.payload().getDescriptorForType().getFullName()
                    + " (event for '"
                    + e.destination()
                    + "')");
      }
    }
  }

  private static RetentionIndex retentionIndex(long raw, Event e) {
    if (raw < 0) {
      throw new IllegalArgumentException(
          e.typeName()
              + " for '"
              + e.destination()
              + "' has retention index "
              + Long.toUnsignedString(raw)
              + ", above the supported maximum "
              + Long.MAX_VALUE);
    }
    return RetentionIndex.of(raw);
  }
}
