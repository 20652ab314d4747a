package io.github.mirframework.wal;

import io.github.mirframework.event.EventList;
import java.io.IOException;

/**
 * The read side of a write-ahead log, used by the node at start-up: the events returned by {@link
 * #loadAll()} are dispatched, with their original destinations, before any {@code Init} event. The
 * write side is a module (by default registered as {@code "wal"}) that handles {@code WalAppend}
 * and {@code WalTruncate} events.
 */
public interface WriteAheadLog {

  /**
   * Returns every persisted event not yet truncated, in the order it was appended.
   *
   * @throws IOException if the log cannot be read or is corrupt (the node then does not start)
   */
  EventList loadAll() throws IOException;
}
