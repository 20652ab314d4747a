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
   * module fail on an event it does not expect.
   *
   * <p>Network input is opt-in: the default is {@code false}, and a module that handles messages
   * from peers (a protocol module, a factory hosting protocol instances) must override this to
   * return {@code true}. A {@code DslModule} returns {@code true} as soon as a message handler is
   * registered.
   *
   * <p>The node asks once, when it is built.
   */
  default boolean receivesMessages() {
    return false;
  }
}
