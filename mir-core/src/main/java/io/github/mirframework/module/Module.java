package io.github.mirframework.module;

/**
 * A component of a node, registered under a top-level module ID. Either a {@link PassiveModule}
 * (events in, events out) or an {@link ActiveModule} (which may also produce events on its own).
 *
 * <p>The node never calls one module concurrently: it hands a module at most one batch of events at
 * a time, so module implementations need no synchronization for state touched only by {@code
 * applyEvents}.
 */
public sealed interface Module permits PassiveModule, ActiveModule {

  /**
   * Whether this module takes {@code MessageReceived} events, i.e. input whose destination module a
   * peer chose. The node drops (and counts, see {@code Node.droppedMessages()}) every received
   * message addressed to a module that does not, so that a faulty peer cannot make, say, the crypto
   * module fail on an event it does not expect. Modules that only serve their own node (crypto,
   * hasher, timer, write-ahead log, transport) return {@code false}.
   *
   * <p>The node asks once, when it is built.
   */
  default boolean receivesMessages() {
    return true;
  }
}
