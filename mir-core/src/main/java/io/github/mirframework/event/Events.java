package io.github.mirframework.event;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import io.github.mirframework.event.pb.Init;
import io.github.mirframework.event.pb.MessageReceived;
import io.github.mirframework.event.pb.NetMessage;
import io.github.mirframework.event.pb.SendMessage;
import io.github.mirframework.event.pb.TestingString;
import io.github.mirframework.event.pb.TestingUint;
import io.github.mirframework.event.pb.TimerDelay;
import io.github.mirframework.event.pb.TimerGarbageCollect;
import io.github.mirframework.event.pb.TimerRepeat;
import io.github.mirframework.event.pb.WalAppend;
import io.github.mirframework.event.pb.WalTruncate;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import io.github.mirframework.types.RetentionIndex;
import java.time.Duration;
import java.util.Collection;
import java.util.List;

/** Factories for mir-core's own events, so call sites read like prose. */
public final class Events {
  private static final Init INIT = Init.getDefaultInstance();

  private Events() {}

  /** The event a node sends once to each top-level module at start-up. */
  public static Event init(ModuleId destination) {
    return Event.of(destination, INIT);
  }

  /** Returns a network message for module {@code destModule} of the receiving nodes. */
  public static NetMessage netMessage(ModuleId destModule, Message payload) {
    // Known types can be decoded by the shared codec and described in event logs.
    PayloadRegistry.shared().register(payload);
    return NetMessage.newBuilder()
        .setDestModule(destModule.value())
        .setPayload(Any.pack(payload))
        .build();
  }

  /** Asks the transport {@code net} to send {@code msg} to {@code destinations}. */
  public static Event sendMessage(ModuleId net, NetMessage msg, Collection<NodeId> destinations) {
    SendMessage.Builder b = SendMessage.newBuilder().setMsg(msg);
    for (NodeId d : destinations) {
      b.addDestinations(d.value());
    }
    return Event.of(net, b.build());
  }

  /**
   * Asks the transport {@code net} to send {@code payload} to module {@code destModule} of {@code
   * destinations}.
   */
  public static Event sendMessage(
      ModuleId net, ModuleId destModule, Message payload, Collection<NodeId> destinations) {
    return sendMessage(net, netMessage(destModule, payload), destinations);
  }

  /** The event a transport emits when {@code msg} arrived from {@code from}. */
  public static Event messageReceived(NodeId from, NetMessage msg) {
    return Event.of(
        ModuleId.of(msg.getDestModule()),
        MessageReceived.newBuilder().setFrom(from.value()).setMsg(msg).build());
  }

  /** Asks the timer to emit {@code events} once after {@code delay}. */
  public static Event timerDelay(ModuleId timer, List<Event> events, Duration delay) {
    return Event.of(
        timer,
        TimerDelay.newBuilder()
            .addAllEvents(EventCodec.toRecords(events))
            .setDelayNs(nonNegativeNanos(delay))
            .build());
  }

  /**
   * Asks the timer to emit {@code events} now and then every {@code period}, until
   * garbage-collected below {@code retentionIndex}.
   */
  public static Event timerRepeat(
      ModuleId timer, List<Event> events, Duration period, RetentionIndex retentionIndex) {
    return Event.of(
        timer,
        TimerRepeat.newBuilder()
            .addAllEvents(EventCodec.toRecords(events))
            .setPeriodNs(nonNegativeNanos(period))
            .setRetentionIndex(retentionIndex.value())
            .build());
  }

  /**
   * Asks the timer to stop every repeating timer whose retention index is below {@code
   * retentionIndex}.
   */
  public static Event timerGarbageCollect(ModuleId timer, RetentionIndex retentionIndex) {
    return Event.of(
        timer, TimerGarbageCollect.newBuilder().setRetentionIndex(retentionIndex.value()).build());
  }

  /** Asks the WAL module to persist {@code event} under {@code retentionIndex}. */
  public static Event walAppend(ModuleId wal, Event event, RetentionIndex retentionIndex) {
    return Event.of(
        wal,
        WalAppend.newBuilder()
            .setEvent(EventCodec.toRecord(event))
            .setRetentionIndex(retentionIndex.value())
            .build());
  }

  /**
   * Asks the WAL module to drop every entry whose retention index is below {@code retentionIndex}.
   */
  public static Event walTruncate(ModuleId wal, RetentionIndex retentionIndex) {
    return Event.of(
        wal, WalTruncate.newBuilder().setRetentionIndex(retentionIndex.value()).build());
  }

  /** A test event carrying a string. */
  public static Event testingString(ModuleId destination, String value) {
    return Event.of(destination, TestingString.newBuilder().setValue(value).build());
  }

  /** A test event carrying a number. */
  public static Event testingUint(ModuleId destination, long value) {
    return Event.of(destination, TestingUint.newBuilder().setValue(value).build());
  }

  private static long nonNegativeNanos(Duration d) {
    if (d.isNegative()) {
      throw new IllegalArgumentException("duration must not be negative: " + d);
    }
    try {
      return d.toNanos();
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException("duration too long for nanoseconds: " + d, e);
    }
  }
}
