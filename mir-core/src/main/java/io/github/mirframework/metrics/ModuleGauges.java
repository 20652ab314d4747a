package io.github.mirframework.metrics;

/** Values of one module of a running node, read on demand. Thread-safe; may briefly lock. */
public interface ModuleGauges {

  /** The number of events waiting in the module's buffer. */
  int bufferedEvents();

  /** The number of events the module has applied so far. */
  long processedEvents();
}
