package io.github.mirframework.types;

/**
 * A retention index: state and events tagged with an index below the current one may be
 * garbage-collected. Values are non-negative; arithmetic that would overflow fails.
 *
 * @param value the number, at least 0
 */
public record RetentionIndex(long value) implements Comparable<RetentionIndex> {

  /** The number 0. */
  public static final RetentionIndex ZERO = new RetentionIndex(0);

  /** Validates the value. */
  public RetentionIndex {
    if (value < 0) {
      throw new IllegalArgumentException("retention index must not be negative: " + value);
    }
  }

  /** Returns the number with the given value. */
  public static RetentionIndex of(long value) {
    return value == 0 ? ZERO : new RetentionIndex(value);
  }

  /** Returns this number plus {@code delta}. */
  public RetentionIndex plus(long delta) {
    return of(Math.addExact(value, delta));
  }

  /** Returns the next number. */
  public RetentionIndex next() {
    return plus(1);
  }

  /** Returns the 8-byte little-endian encoding used in hashes and signatures. */
  public byte[] toBytes() {
    return LittleEndian.u64(value);
  }

  @Override
  public int compareTo(RetentionIndex o) {
    return Long.compare(value, o.value);
  }

  @Override
  public String toString() {
    return Long.toString(value);
  }
}
