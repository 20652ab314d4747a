package io.github.mirframework.types;

/**
 * A sequence number: the position of an item in a totally ordered log. Values are non-negative;
 * arithmetic that would overflow fails.
 *
 * @param value the number, at least 0
 */
public record SeqNr(long value) implements Comparable<SeqNr> {

  /** The number 0. */
  public static final SeqNr ZERO = new SeqNr(0);

  /** Validates the value. */
  public SeqNr {
    if (value < 0) {
      throw new IllegalArgumentException("sequence number must not be negative: " + value);
    }
  }

  /** Returns the number with the given value. */
  public static SeqNr of(long value) {
    return value == 0 ? ZERO : new SeqNr(value);
  }

  /** Returns this number plus {@code delta}. */
  public SeqNr plus(long delta) {
    return of(Math.addExact(value, delta));
  }

  /** Returns the next number. */
  public SeqNr next() {
    return plus(1);
  }

  /** Returns the 8-byte little-endian encoding used in hashes and signatures. */
  public byte[] toBytes() {
    return LittleEndian.u64(value);
  }

  @Override
  public int compareTo(SeqNr o) {
    return Long.compare(value, o.value);
  }

  @Override
  public String toString() {
    return Long.toString(value);
  }
}
