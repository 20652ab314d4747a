package io.github.mirframework.sim;

/** A simulation run failed; the message names the seed that reproduces it. */
public final class SimulationException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final long seed;

  SimulationException(long seed, String message, Throwable cause) {
    super(message + " [reproduce with seed " + seed + "]", cause);
    this.seed = seed;
  }

  /** The seed of the failed run. */
  public long seed() {
    return seed;
  }
}
