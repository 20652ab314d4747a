package io.github.mirframework.node;

/** Base class of the unchecked exceptions that Mir-Java's engine reports. */
public class MirException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Creates an exception with a message. */
  public MirException(String message) {
    super(message);
  }

  /** Creates an exception with a message and a cause. */
  public MirException(String message, Throwable cause) {
    super(message, cause);
  }
}
