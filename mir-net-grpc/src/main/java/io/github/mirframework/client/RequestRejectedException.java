package io.github.mirframework.client;

/**
 * At least {@code f+1} replicas rejected a request of a {@link MirClient} as invalid (so at least
 * one correct replica did); resubmitting it is pointless.
 */
public final class RequestRejectedException extends Exception {
  private static final long serialVersionUID = 1L;

  /** An exception with the given message. */
  public RequestRejectedException(String message) {
    super(message);
  }
}
