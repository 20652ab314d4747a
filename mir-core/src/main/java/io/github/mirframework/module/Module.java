package io.github.mirframework.module;

/**
 * A component of a node, registered under a top-level module ID. Either a {@link PassiveModule}
 * (events in, events out) or an {@link ActiveModule} (which may also produce events on its own).
 *
 * <p>The node never calls one module concurrently: it hands a module at most one batch of events at
 * a time, so module implementations need no synchronization for state touched only by {@code
 * applyEvents}.
 */
public sealed interface Module permits PassiveModule, ActiveModule {}
