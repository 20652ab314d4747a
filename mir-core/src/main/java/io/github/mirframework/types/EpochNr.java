package io.github.mirframework.types;

/**
 * An epoch number (ISS epochs). Values are non-negative; arithmetic that would overflow fails.
 *
 * @param value the number, at least 0
 */
public record EpochNr(long value) implements Comparable<EpochNr> {

  /** The number 0. */
  public static final EpochNr ZERO = new EpochNr(0);

  /** Validates the value. */
  public EpochNr {
    if (value < 0) {
      throw new IllegalArgumentException("epoch number must not be negative: " + value);
    }
  }

  /** Returns the number with the given value. */
  public static EpochNr of(long value) {
    return value == 0 ? ZERO : new EpochNr(value);
  }

  /** Returns this number plus {@code delta}. */
  public EpochNr plus(long delta) {
    return of(Math.addExact(value, delta));
  }

  /** Returns the next number. */
  public EpochNr next() {
    return plus(1);
  }

  /** Returns the 8-byte little-endian encoding used in hashes and signatures. */
  public byte[] toBytes() {
    return LittleEndian.u64(value);
  }

  @Override
  public int compareTo(EpochNr o) {
    return Long.compare(value, o.value);
  }

  @Override
  public String toString() {
    return Long.toString(value);
  }
}
