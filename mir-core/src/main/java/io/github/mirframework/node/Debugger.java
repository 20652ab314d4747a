package io.github.mirframework.node;

import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.node.internal.Engine;
import io.github.mirframework.types.ModuleId;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Drives a node in debug mode (see {@link Node#debug()}): nothing is processed until the caller
 * steps, and the events a step produces are handed to the caller, who may inspect, modify, drop or
 * pass them on with {@link #inject}.
 *
 * <p>Pending events wait in the node's per-module buffers, so routing rules are those of a running
 * node (an event for an unknown module is rejected at injection; a received message for an unknown
 * module is dropped and counted). A step processes exactly one event, through the node's
 * interceptor and its destination module.
 *
 * <p>Not thread-safe: use a debugger from one thread. Events that active modules emit on their own
 * are collected (thread-safely) and returned by {@link #takeEmitted()}. Closing the debugger stops
 * the node.
 */
public final class Debugger implements AutoCloseable {
  private final Node node;
  private final Engine engine;
  private final ConcurrentLinkedQueue<Event> emitted = new ConcurrentLinkedQueue<>();

  Debugger(Node node) {
    this.node = node;
    this.engine = node.engine();
  }

  boolean collect(EventList events) {
    if (node.isTerminated()) {
      return false;
    }
    events.forEach(emitted::add);
    return true;
  }

  /**
   * Queues events for processing, in order.
   *
   * @throws UnknownDestinationException if an event (other than a received message) has no
   *     destination module; then nothing is queued
   * @throws NodeStoppedException if the node has stopped
   */
  public void inject(EventList events) {
    node.lock().lock();
    try {
      checkRunning();
      engine.checkRoutable(events);
      engine.route(events);
    } finally {
      node.lock().unlock();
    }
  }

  /** Queues one event (see {@link #inject(EventList)}). */
  public void inject(Event event) {
    inject(EventList.of(event));
  }

  /**
   * The events waiting to be processed, grouped by module in registration order, each group front
   * first.
   */
  public List<Event> pending() {
    node.lock().lock();
    try {
      List<Event> out = new ArrayList<>();
      for (int i = 0; i < engine.moduleCount(); i++) {
        out.addAll(engine.bufferSnapshot(i));
      }
      return out;
    } finally {
      node.lock().unlock();
    }
  }

  /** Whether any event waits to be processed. */
  public boolean hasPending() {
    node.lock().lock();
    try {
      return engine.bufferedEvents() > 0;
    } finally {
      node.lock().unlock();
    }
  }

  /**
   * Processes the next pending event (modules are visited round-robin) and returns what it
   * produced: its follow-ups followed by the module's output. The produced events are <em>not</em>
   * queued; pass them (or changed ones) to {@link #inject} to continue.
   *
   * @return the produced events, or empty if nothing was pending
   * @throws ModuleFailedException if the module failed; the node is then stopped
   */
  public Optional<Step> step() {
    return stepBatch(1).map(b -> new Step(b.events().get(0), b.produced()));
  }

  /**
   * Processes the next batch of up to {@code maxEvents} pending events of one module (modules are
   * visited round-robin; the batch is also capped by the node's {@link
   * NodeConfig#maxEventBatchSize()}) in one {@code applyEvents} call, and returns what it produced.
   * A replay uses this to hand a module the same batches it was given when the log was recorded.
   * The produced events are <em>not</em> queued (see {@link #step()}).
   *
   * @return the processed batch and what it produced, or empty if nothing was pending
   * @throws IllegalArgumentException if {@code maxEvents} is below 1
   * @throws ModuleFailedException if the module failed; the node is then stopped
   */
  public Optional<BatchStep> stepBatch(int maxEvents) {
    if (maxEvents < 1) {
      throw new IllegalArgumentException("maxEvents must be at least 1, got " + maxEvents);
    }
    Engine.Batch batch;
    node.lock().lock();
    try {
      checkRunning();
      batch = engine.nextBatch(maxEvents);
    } finally {
      node.lock().unlock();
    }
    if (batch == null) {
      return Optional.empty();
    }
    EventList produced;
    try {
      produced = Engine.process(batch, node.interceptor());
    } catch (RuntimeException e) {
      node.failFromDebugger(e);
      throw e;
    } finally {
      node.lock().lock();
      try {
        engine.complete(batch, EventList.empty());
      } finally {
        node.lock().unlock();
      }
    }
    return Optional.of(new BatchStep(batch.moduleId(), batch.events(), produced));
  }

  /**
   * Steps until nothing is pending, passing every produced event on unchanged, at most {@code
   * maxSteps} times.
   *
   * @return the number of steps taken
   */
  public int runUntilIdle(int maxSteps) {
    int steps = 0;
    while (steps < maxSteps) {
      Optional<Step> s = step();
      if (s.isEmpty()) {
        break;
      }
      steps++;
      inject(s.get().produced());
    }
    return steps;
  }

  /** Returns and forgets the events active modules emitted on their own since the last call. */
  public EventList takeEmitted() {
    EventList out = EventList.empty();
    Event e;
    while ((e = emitted.poll()) != null) {
      out.add(e);
    }
    return out;
  }

  /** The node being debugged. */
  public Node node() {
    return node;
  }

  private void checkRunning() {
    if (node.stoppingLocked()) {
      throw new NodeStoppedException(
          "node " + node.id() + " has stopped", node.failure().orElse(null));
    }
  }

  /** Stops the node. */
  @Override
  public void close() {
    node.stop();
  }

  /**
   * One debugging step.
   *
   * @param event the processed event (as the module saw it, with its follow-ups)
   * @param produced its follow-ups followed by the module's output
   */
  public record Step(Event event, EventList produced) {}

  /**
   * One debugging step over a batch.
   *
   * @param module the module that processed the batch
   * @param events the processed events (as the module saw them, with their follow-ups)
   * @param produced the follow-ups of the events followed by the module's output
   */
  public record BatchStep(ModuleId module, EventList events, EventList produced) {}
}
