package io.github.mirframework.wal.file;

import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.pb.Init;
import io.github.mirframework.event.pb.TestingString;
import io.github.mirframework.event.pb.TestingUint;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.RetentionIndex;
import java.util.function.LongConsumer;

/**
 * A stateful test module that persists every state change before applying it, the way protocols use
 * the WAL: an input {@code TestingUint v} becomes a {@code WalAppend} of {@code "v"} whose
 * follow-up applies {@code v}; when the node restarts, the WAL replays the persisted {@code "v"}
 * events, which are applied directly. Its state (the sum) must therefore always equal the sum of
 * what the WAL holds once the node is idle.
 */
final class PersistingCounter implements PassiveModule {
  static final ModuleId WAL = ModuleId.of("wal");
  static final ModuleId COUNTER = ModuleId.of("counter");

  private final LongConsumer onApplied;
  private volatile long sum;
  private volatile long applied;

  PersistingCounter(LongConsumer onApplied) {
    this.onApplied = onApplied;
  }

  PersistingCounter() {
    this(s -> {});
  }

  @Override
  public EventList applyEvents(EventList events) {
    EventList out = EventList.empty();
    for (Event e : events) {
      switch (e.payload()) {
        case TestingUint u ->
            out.add(
                Events.walAppend(
                        WAL,
                        Events.testingString(COUNTER, "persisted:" + u.getValue()),
                        RetentionIndex.ZERO)
                    .withFollowUp(Events.testingString(COUNTER, "apply:" + u.getValue())));
        case TestingString s -> {
          sum += Long.parseLong(s.getValue().substring(s.getValue().indexOf(':') + 1));
          applied++;
          onApplied.accept(sum);
        }
        case Init i -> {}
        default -> throw new IllegalArgumentException("unexpected " + e.typeName());
      }
    }
    return out;
  }

  long sum() {
    return sum;
  }

  long applied() {
    return applied;
  }

  /** The sum of the values a WAL holds for this module. */
  static long persistedSum(EventList walEvents) {
    long s = 0;
    for (Event e : walEvents) {
      String v = e.payload(TestingString.class).getValue();
      s += Long.parseLong(v.substring(v.indexOf(':') + 1));
    }
    return s;
  }
}
