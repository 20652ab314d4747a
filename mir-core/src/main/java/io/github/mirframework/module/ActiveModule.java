package io.github.mirframework.module;

import io.github.mirframework.event.EventList;

/**
 * A module that, besides consuming events, produces events on its own: a network transport, a
 * timer, a console.
 *
 * <p>Life cycle, driven by the node that owns the module: {@link #start(EventSink)} once, then any
 * number of {@link #applyEvents} calls (never concurrently with each other), then {@link #close()}
 * once when the node stops. The module owns every thread it starts and ends them all in {@code
 * close()}.
 */
public non-sealed interface ActiveModule extends Module, AutoCloseable {

  /**
   * Starts the module. Events it produces on its own from now on go to {@code sink}. Called once,
   * before any {@link #applyEvents} call.
   */
  void start(EventSink sink);

  /**
   * Accepts events. Must not block for long: results, if any, are emitted later through the sink.
   *
   * @throws Exception on a fatal error; the node stops
   */
  void applyEvents(EventList events) throws Exception;

  /** Stops the module and joins every thread it started. Idempotent; must not throw. */
  @Override
  void close();
}
