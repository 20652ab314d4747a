package io.github.mirframework.node;

/**
 * The node has stopped, normally or because of an error (the cause, if any), and accepts no more
 * events.
 */
public final class NodeStoppedException extends MirException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception; {@code cause} is the error that stopped the node, or null. */
  public NodeStoppedException(String message, Throwable cause) {
    super(message, cause);
  }
}
