package io.github.mirframework.node.internal;

import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.pb.MessageReceived;
import io.github.mirframework.eventlog.Interceptor;
import io.github.mirframework.metrics.ModuleMetrics;
import io.github.mirframework.module.ActiveModule;
import io.github.mirframework.module.Module;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.node.ModuleFailedException;
import io.github.mirframework.node.NodeConfig;
import io.github.mirframework.node.UnknownDestinationException;
import io.github.mirframework.types.ModuleId;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The deterministic core of a node: per-module FIFO buffers, routing by top-level module ID, at
 * most one batch in flight per module, bounded batches, follow-ups released after their parent, and
 * the pause/resume state of active input. It has no threads and no clock: the threaded {@code Node}
 * runtime, the debugger and the deterministic simulation all drive it through {@link #route},
 * {@link #takeBatch}/{@link #nextBatch}, {@link #process} and {@link #complete}.
 *
 * <p>Not thread-safe: a driver must serialize all calls except {@link #process}, which touches only
 * the batch's own module and may run on any thread (one batch per module at a time).
 */
public final class Engine {

  /**
   * A batch of events taken from one module's buffer, to be processed and then {@linkplain
   * #complete completed}.
   *
   * @param slot index of the module in registration order
   * @param moduleId the module's top-level ID
   * @param module the module
   * @param events the events to apply, in order
   */
  public record Batch(int slot, ModuleId moduleId, Module module, EventList events) {}

  private static final class Slot {
    final ModuleId id;
    final Module module;
    final boolean receivesMessages;
    final EventQueue buffer = new EventQueue();
    boolean inFlight;
    long processed;

    Slot(ModuleId id, Module module) {
      this.id = id;
      this.module = module;
      this.receivesMessages = module.receivesMessages();
    }
  }

  /** Logs every processed event at TRACE level (Mir logs events at its trace level too). */
  private static final Logger EVENT_LOG =
      LoggerFactory.getLogger("io.github.mirframework.node.events");

  private final Slot[] slots;
  private final Map<String, Slot> byTop;
  private final NodeConfig config;
  private int buffered;
  // Serialized size of the buffered events' payloads (protobuf memoizes it, so it is computed once
  // per payload object).
  private long bufferedBytes;
  private boolean inputPaused;
  private long droppedMessages;
  private int cursor;

  /**
   * Creates an engine for the given modules, in registration order.
   *
   * @throws IllegalArgumentException if an ID is not top-level or is registered twice
   */
  public Engine(Map<ModuleId, ? extends Module> modules, NodeConfig config) {
    this.config = Objects.requireNonNull(config, "config");
    Map<ModuleId, Module> ordered = new LinkedHashMap<>(modules);
    slots = new Slot[ordered.size()];
    byTop = new HashMap<>(ordered.size() * 2);
    int i = 0;
    for (Map.Entry<ModuleId, Module> e : ordered.entrySet()) {
      ModuleId id = e.getKey();
      if (!id.isTopLevel()) {
        throw new IllegalArgumentException(
            "modules are registered under top-level IDs, got '" + id + "'");
      }
      Slot s = new Slot(id, Objects.requireNonNull(e.getValue(), "module " + id));
      if (byTop.put(id.value(), s) != null) {
        throw new IllegalArgumentException("module '" + id + "' registered twice");
      }
      slots[i++] = s;
    }
  }

  /** Number of registered modules. */
  public int moduleCount() {
    return slots.length;
  }

  /** The ID of the module in {@code slot}. */
  public ModuleId moduleId(int slot) {
    return slots[slot].id;
  }

  /** The module in {@code slot}. */
  public Module module(int slot) {
    return slots[slot].module;
  }

  /** The IDs of all modules, in registration order. */
  public List<ModuleId> moduleIds() {
    ModuleId[] ids = new ModuleId[slots.length];
    for (int i = 0; i < slots.length; i++) {
      ids[i] = slots[i].id;
    }
    return List.of(ids);
  }

  /** Whether a module is registered under the top-level part of {@code id}. */
  public boolean hasModule(ModuleId id) {
    return byTop.containsKey(id.topString());
  }

  /** The slot of the module registered under the top-level part of {@code id}, or -1. */
  public int slotOf(ModuleId id) {
    Slot s = byTop.get(id.topString());
    if (s == null) {
      return -1;
    }
    for (int i = 0; i < slots.length; i++) {
      if (slots[i] == s) {
        return i;
      }
    }
    return -1;
  }

  /**
   * Appends each event to the buffer of its destination's top-level module. A {@code
   * MessageReceived} event for an unknown module, or for a module that does not {@linkplain
   * Module#receivesMessages() receive messages} (which a faulty peer can cause), is dropped and
   * counted; any other unknown destination is an error (events before it in the list have been
   * added). Pauses input when more than the pause threshold are buffered, in events or in bytes.
   *
   * @throws UnknownDestinationException for an event addressed to no registered module
   */
  public void route(EventList events) {
    int n = events.size();
    for (int i = 0; i < n; i++) {
      Event e = events.get(i);
      Slot s = byTop.get(e.destination().topString());
      if (s == null || !s.receivesMessages) {
        if (e.payload() instanceof MessageReceived) {
          droppedMessages++;
          continue;
        }
        if (s == null) {
          throw new UnknownDestinationException(e.destination(), e.typeName());
        }
      }
      s.buffer.add(e);
      buffered++;
      bufferedBytes += e.payload().getSerializedSize();
    }
    if (buffered > config.pauseInputThreshold() || bufferedBytes > config.pauseInputBytes()) {
      inputPaused = true;
    }
  }

  /**
   * Checks that every event can be routed (see {@link #route}) without changing anything.
   *
   * @throws UnknownDestinationException for the first event addressed to no registered module
   */
  public void checkRoutable(EventList events) {
    for (Event e : events) {
      if (!byTop.containsKey(e.destination().topString())
          && !(e.payload() instanceof MessageReceived)) {
        throw new UnknownDestinationException(e.destination(), e.typeName());
      }
    }
  }

  /** Whether the module in {@code slot} has buffered events and no batch in flight. */
  public boolean ready(int slot) {
    Slot s = slots[slot];
    return !s.inFlight && !s.buffer.isEmpty();
  }

  /**
   * Takes the next batch (up to the configured size) of the module in {@code slot}, or null if it
   * is not ready.
   */
  public Batch takeBatch(int slot) {
    return takeBatch(slot, config.maxEventBatchSize());
  }

  /** Takes up to {@code limit} events of the module in {@code slot}, or null if it is not ready. */
  public Batch takeBatch(int slot, int limit) {
    Slot s = slots[slot];
    if (s.inFlight || s.buffer.isEmpty()) {
      return null;
    }
    EventList events = s.buffer.poll(Math.min(limit, config.maxEventBatchSize()));
    s.inFlight = true;
    buffered -= events.size();
    for (int i = 0, n = events.size(); i < n; i++) {
      bufferedBytes -= events.get(i).payload().getSerializedSize();
    }
    if (inputPaused
        && buffered <= config.resumeInputThreshold()
        && bufferedBytes <= config.resumeInputBytes()) {
      inputPaused = false;
    }
    return new Batch(slot, s.id, s.module, events);
  }

  /**
   * Takes a batch from the next ready module, visiting modules round-robin from the one after the
   * last module served; null if no module is ready.
   */
  public Batch nextBatch() {
    return nextBatch(config.maxEventBatchSize());
  }

  /** Like {@link #nextBatch()} with at most {@code limit} events. */
  public Batch nextBatch(int limit) {
    for (int k = 0; k < slots.length; k++) {
      int i = (cursor + k) % slots.length;
      if (ready(i)) {
        cursor = (i + 1) % slots.length;
        return takeBatch(i, limit);
      }
    }
    return null;
  }

  /**
   * Finishes a batch: the module may receive its next batch, and {@code output} (follow-ups of the
   * batch's events and the module's output, as returned by {@link #process}) is routed.
   *
   * @throws UnknownDestinationException if an output event has no destination module
   */
  public void complete(Batch batch, EventList output) {
    Slot s = slots[batch.slot()];
    if (!s.inFlight) {
      throw new IllegalStateException("module '" + s.id + "' has no batch in flight");
    }
    s.inFlight = false;
    s.processed += batch.events().size();
    route(output);
  }

  /**
   * Processes a batch: strips follow-ups, shows the stripped events to the interceptor, applies
   * them to the module and returns the follow-ups followed by the module's output (an active
   * module's output arrives later through its sink). Safe to call from any thread, as long as one
   * module has at most one batch in process.
   *
   * @throws ModuleFailedException if the module or the interceptor throws anything
   */
  public static EventList process(Batch batch, Interceptor interceptor) {
    return process(batch, interceptor, null);
  }

  /**
   * Like {@link #process(Batch, Interceptor)}, and reports the batch (size and time spent applying
   * it) to {@code metrics} unless it is null.
   */
  public static EventList process(Batch batch, Interceptor interceptor, ModuleMetrics metrics) {
    EventList.Split split = batch.events().stripFollowUps();
    if (EVENT_LOG.isTraceEnabled()) {
      for (Event e : split.plain()) {
        EVENT_LOG.trace("event for module '{}': {}", batch.moduleId(), e);
      }
    }
    if (interceptor != null) {
      try {
        interceptor.intercept(batch.moduleId(), split.plain());
      } catch (Throwable t) {
        throw new ModuleFailedException(batch.moduleId(), "could not be intercepted", t);
      }
    }
    EventList output = split.followUps();
    boolean timed = metrics != null && metrics.timeBatch(split.plain().size());
    long start = timed ? System.nanoTime() : 0;
    try {
      switch (batch.module()) {
        case PassiveModule p -> {
          EventList produced = p.applyEvents(split.plain());
          if (produced == null) {
            throw new NullPointerException("applyEvents returned null");
          }
          if (output.isEmpty()) {
            output = produced;
          } else {
            output.addAll(produced);
          }
        }
        case ActiveModule a -> a.applyEvents(split.plain());
      }
    } catch (Throwable t) {
      throw new ModuleFailedException(batch.moduleId(), "failed to apply events", t);
    }
    if (metrics != null) {
      report(metrics, split.plain(), timed ? System.nanoTime() - start : ModuleMetrics.NOT_TIMED);
    }
    return output;
  }

  /** Reports an applied batch (kept out of {@link #process} so that it stays small). */
  private static void report(ModuleMetrics metrics, EventList applied, long nanos) {
    if (metrics.countsEventTypes()) {
      for (int i = 0, n = applied.size(); i < n; i++) {
        metrics.eventApplied(applied.get(i).payload().getDescriptorForType());
      }
    }
    metrics.batchApplied(applied.size(), nanos);
  }

  /** Whether input from active modules is currently paused. */
  public boolean inputPaused() {
    return inputPaused;
  }

  /** Serialized bytes of the payloads of the buffered events. */
  public long bufferedBytes() {
    return bufferedBytes;
  }

  /** Number of events buffered (routed but not yet taken in a batch). */
  public int bufferedEvents() {
    return buffered;
  }

  /** Number of buffered events of the module in {@code slot}. */
  public int bufferedEvents(int slot) {
    return slots[slot].buffer.size();
  }

  /** A copy of the events buffered for the module in {@code slot}, front first. */
  public List<Event> bufferSnapshot(int slot) {
    return slots[slot].buffer.snapshot();
  }

  /** Number of events the module in {@code slot} has processed. */
  public long processedEvents(int slot) {
    return slots[slot].processed;
  }

  /** Whether any module has a batch in flight. */
  public boolean anyInFlight() {
    for (Slot s : slots) {
      if (s.inFlight) {
        return true;
      }
    }
    return false;
  }

  /** Whether no event is buffered and no batch is in flight. */
  public boolean isIdle() {
    return buffered == 0 && !anyInFlight();
  }

  /**
   * Number of received messages dropped because their destination module does not exist or does not
   * receive messages.
   */
  public long droppedMessages() {
    return droppedMessages;
  }
}
