package io.github.mirframework.client;

/**
 * A request of a {@link MirClient} did not get {@code f+1} matching replies before its deadline
 * ({@link MirClient.Params#requestTimeout()}), or was given up. The request may still be applied
 * later; the client just stopped waiting.
 */
public final class RequestTimeoutException extends Exception {
  private static final long serialVersionUID = 1L;

  /** An exception with the given message. */
  public RequestTimeoutException(String message) {
    super(message);
  }
}
