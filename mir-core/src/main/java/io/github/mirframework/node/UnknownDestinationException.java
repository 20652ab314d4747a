package io.github.mirframework.node;

import io.github.mirframework.types.ModuleId;

/** An event was addressed to a module that is not registered with the node. */
public final class UnknownDestinationException extends MirException {
  private static final long serialVersionUID = 1L;

  private final transient ModuleId destination;

  /** Creates the exception; {@code eventType} names the event's payload type. */
  public UnknownDestinationException(ModuleId destination, String eventType) {
    super(
        "no module registered for destination '"
            + destination
            + "' (top-level '"
            + destination.topString()
            + "') of event "
            + eventType);
    this.destination = destination;
  }

  /** The destination no module was registered for. */
  public ModuleId destination() {
    return destination;
  }
}
