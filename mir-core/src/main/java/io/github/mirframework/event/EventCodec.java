package io.github.mirframework.event;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.ExtensionRegistryLite;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.github.mirframework.event.pb.EventRecord;
import io.github.mirframework.types.ModuleId;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Turns events into bytes and back, at the edges of a node (WAL, event logs, timers, network).
 *
 * <p>The serialized form is an {@link EventRecord}: destination, the payload packed as a {@code
 * google.protobuf.Any} (type URL + bytes) and the follow-ups. Decoding accepts only the payload
 * types of its {@link PayloadRegistry} and never throws on bad input: malformed bytes, an unknown
 * type, an invalid destination or nesting deeper than {@link #MAX_DEPTH} yield a {@link
 * DecodeResult.Error} saying what was wrong. Thread-safe.
 */
public final class EventCodec {
  /** Maximum nesting of follow-ups accepted when decoding. */
  public static final int MAX_DEPTH = 32;

  private static final EventCodec SHARED = new EventCodec(PayloadRegistry.shared());

  private final PayloadRegistry registry;

  /** Returns a codec that decodes the types of {@code registry}. */
  public EventCodec(PayloadRegistry registry) {
    this.registry = Objects.requireNonNull(registry, "registry");
  }

  /** A codec over {@link PayloadRegistry#shared()}. */
  public static EventCodec shared() {
    return SHARED;
  }

  /** The registry this codec decodes with. */
  public PayloadRegistry registry() {
    return registry;
  }

  /**
   * Returns the serialized form of an event. The payload's type is added to {@link
   * PayloadRegistry#shared()}, so whatever was encoded in this JVM can be decoded by the shared
   * codec.
   */
  public static EventRecord toRecord(Event event) {
    PayloadRegistry.shared().register(event.payload());
    EventRecord.Builder b =
        EventRecord.newBuilder()
            .setDestination(event.destination().value())
            .setPayload(Any.pack(event.payload()));
    for (Event f : event.followUps()) {
      b.addFollowUps(toRecord(f));
    }
    return b.build();
  }

  /** Returns the serialized forms of all events, in order. */
  public static List<EventRecord> toRecords(Iterable<Event> events) {
    List<EventRecord> out = new ArrayList<>();
    for (Event e : events) {
      out.add(toRecord(e));
    }
    return out;
  }

  /** Returns the bytes of an event. */
  public static ByteString encode(Event event) {
    return toRecord(event).toByteString();
  }

  /** Decodes an event from its bytes. */
  public DecodeResult<Event> decode(ByteString bytes) {
    EventRecord record;
    try {
      CodedInputStream in = bytes.newCodedInput();
      in.setRecursionLimit(3 * MAX_DEPTH + 8);
      record = EventRecord.parseFrom(in, ExtensionRegistryLite.getEmptyRegistry());
      in.checkLastTagWas(0);
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      return DecodeResult.error("malformed event record: " + e.getMessage());
    } catch (java.io.IOException e) {
      return DecodeResult.error("malformed event record: " + e.getMessage());
    }
    return fromRecord(record);
  }

  /** Decodes an event from bytes. */
  public DecodeResult<Event> decode(byte[] bytes) {
    return decode(ByteString.copyFrom(bytes));
  }

  /** Decodes an event from its serialized form. */
  public DecodeResult<Event> fromRecord(EventRecord record) {
    return fromRecord(record, 0);
  }

  /** Decodes all records, failing on the first bad one (its position is named in the error). */
  public DecodeResult<EventList> fromRecords(List<EventRecord> records) {
    EventList out = EventList.withCapacity(records.size());
    for (int i = 0; i < records.size(); i++) {
      DecodeResult<Event> r = fromRecord(records.get(i));
      if (r instanceof DecodeResult.Error<Event> err) {
        return DecodeResult.error("event " + i + ": " + err.reason());
      }
      out.add(r.orElseThrow());
    }
    return DecodeResult.ok(out);
  }

  private DecodeResult<Event> fromRecord(EventRecord record, int depth) {
    if (depth > MAX_DEPTH) {
      return DecodeResult.error("follow-ups nested deeper than " + MAX_DEPTH);
    }
    ModuleId dest;
    try {
      dest = ModuleId.of(record.getDestination());
    } catch (IllegalArgumentException e) {
      return DecodeResult.error("bad destination: " + e.getMessage());
    }
    if (!record.hasPayload()) {
      return DecodeResult.error("event for '" + dest + "' has no payload");
    }
    DecodeResult<Message> payload = unpack(record.getPayload());
    if (payload instanceof DecodeResult.Error<Message> err) {
      return DecodeResult.error("event for '" + dest + "': " + err.reason());
    }
    Event event = Event.of(dest, payload.orElseThrow());
    if (record.getFollowUpsCount() > 0) {
      List<Event> followUps = new ArrayList<>(record.getFollowUpsCount());
      for (EventRecord f : record.getFollowUpsList()) {
        DecodeResult<Event> r = fromRecord(f, depth + 1);
        if (r instanceof DecodeResult.Error<Event> err) {
          return err;
        }
        followUps.add(r.orElseThrow());
      }
      event = event.withFollowUps(followUps);
    }
    return DecodeResult.ok(event);
  }

  /** Unpacks a payload of a registered type. */
  public DecodeResult<Message> unpack(Any any) {
    String url = any.getTypeUrl();
    Message prototype = registry.lookup(url).orElse(null);
    if (prototype == null) {
      return DecodeResult.error("unknown payload type '" + abbreviate(url) + "'");
    }
    try {
      return DecodeResult.ok(prototype.getParserForType().parseFrom(any.getValue()));
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      return DecodeResult.error("malformed payload of type '" + url + "': " + e.getMessage());
    }
  }

  private static String abbreviate(String s) {
    return s.length() <= 200 ? s : s.substring(0, 200) + "...";
  }
}
