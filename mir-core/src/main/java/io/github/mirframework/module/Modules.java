package io.github.mirframework.module;

import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;

/** Helpers for writing modules. */
public final class Modules {
  private Modules() {}

  /** Handles a single event and returns the events it produces. */
  @FunctionalInterface
  public interface EventHandler {
    /**
     * Handles one event.
     *
     * @throws Exception on a fatal error
     */
    EventList apply(Event event) throws Exception;
  }

  /**
   * Applies {@code handler} to each event in order and concatenates the outputs in the same order
   * (Mir's {@code ApplyEventsSequentially}).
   */
  public static EventList applyEventsSequentially(EventList events, EventHandler handler)
      throws Exception {
    EventList out = EventList.empty();
    for (Event e : events) {
      EventList produced = handler.apply(e);
      if (produced != null) {
        out.addAll(produced);
      }
    }
    return out;
  }

  /**
   * A passive module that applies events with {@code module} and {@linkplain
   * Module#receivesMessages() takes messages from peers} (for modules written as lambdas, which
   * cannot override {@code receivesMessages}).
   */
  public static PassiveModule receivingMessages(PassiveModule module) {
    java.util.Objects.requireNonNull(module, "module");
    return new PassiveModule() {
      @Override
      public EventList applyEvents(EventList events) throws Exception {
        return module.applyEvents(events);
      }

      @Override
      public boolean receivesMessages() {
        return true;
      }

      @Override
      public String toString() {
        return module.toString();
      }
    };
  }

  /** A passive module that drops every event. */
  public static PassiveModule nullPassive() {
    return events -> EventList.empty();
  }

  /** An active module that drops every event and never emits one. */
  public static ActiveModule nullActive() {
    return new ActiveModule() {
      @Override
      public void start(EventSink sink) {}

      @Override
      public void applyEvents(EventList events) {}

      @Override
      public void close() {}

      @Override
      public String toString() {
        return "NullActiveModule";
      }
    };
  }
}
