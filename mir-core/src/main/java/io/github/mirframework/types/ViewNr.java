package io.github.mirframework.types;

/**
 * A view number of a PBFT instance. Values are non-negative; arithmetic that would overflow fails.
 *
 * @param value the number, at least 0
 */
public record ViewNr(long value) implements Comparable<ViewNr> {

  /** The number 0. */
  public static final ViewNr ZERO = new ViewNr(0);

  /** Validates the value. */
  public ViewNr {
    if (value < 0) {
      throw new IllegalArgumentException("view number must not be negative: " + value);
    }
  }

  /** Returns the number with the given value. */
  public static ViewNr of(long value) {
    return value == 0 ? ZERO : new ViewNr(value);
  }

  /** Returns this number plus {@code delta}. */
  public ViewNr plus(long delta) {
    return of(Math.addExact(value, delta));
  }

  /** Returns the next number. */
  public ViewNr next() {
    return plus(1);
  }

  /** Returns the 8-byte little-endian encoding used in hashes and signatures. */
  public byte[] toBytes() {
    return LittleEndian.u64(value);
  }

  @Override
  public int compareTo(ViewNr o) {
    return Long.compare(value, o.value);
  }

  @Override
  public String toString() {
    return Long.toString(value);
  }
}
