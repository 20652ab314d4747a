package io.github.mirframework.metrics;

/** Values of a running node, read on demand. Thread-safe; may briefly lock. */
public interface NodeGauges {

  /** The number of events buffered in the node (routed, not yet taken by a module). */
  int bufferedEvents();

  /** The serialized size of the buffered events' payloads, in bytes. */
  long bufferedBytes();

  /** Whether input from active modules is paused (back-pressure). */
  boolean inputPaused();

  /**
   * The number of received messages dropped because no module takes them (unknown destination
   * module, or one that does not receive messages).
   */
  long droppedMessages();
}
