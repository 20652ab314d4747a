package io.github.mirframework.module;

import io.github.mirframework.event.EventList;

/**
 * Where an {@link ActiveModule} puts the events it produces on its own. Implementations are
 * thread-safe.
 *
 * <p>Back-pressure: while the node has too many events buffered, {@link #emit} blocks the calling
 * thread until the node has caught up. Active modules therefore emit from their own threads, never
 * from a thread they must not block.
 */
@FunctionalInterface
public interface EventSink {

  /**
   * Hands events to the node, blocking while the node's input is paused.
   *
   * @param events the events; the caller must not change the list afterwards
   * @return {@code true} if the node accepted the events, {@code false} if it has stopped (the
   *     events are discarded)
   * @throws InterruptedException if the calling thread was interrupted while waiting
   */
  boolean emit(EventList events) throws InterruptedException;
}
