package io.github.mirframework.module;

import io.github.mirframework.event.EventList;

/**
 * A module that only reacts to events: it turns each batch of input events into a list of output
 * events. All protocol logic in Mir-Java is written as passive modules.
 *
 * <p>A passive module must be deterministic (same state and input, same output), must not block and
 * must not start threads; it is called by one thread at a time. Throwing from {@link #applyEvents}
 * stops the node with an error that names this module.
 */
public non-sealed interface PassiveModule extends Module {

  /**
   * Applies the events, in order, and returns the events they produce.
   *
   * @param events the input; the module owns it from now on and may return it
   * @return the produced events, possibly empty, never null
   * @throws Exception on a fatal error; the node stops
   */
  EventList applyEvents(EventList events) throws Exception;
}
