package io.github.mirframework.types;

/**
 * A client's request number: the n-th request of one client. Values are non-negative; arithmetic
 * that would overflow fails.
 *
 * @param value the number, at least 0
 */
public record ReqNo(long value) implements Comparable<ReqNo> {

  /** The number 0. */
  public static final ReqNo ZERO = new ReqNo(0);

  /** Validates the value. */
  public ReqNo {
    if (value < 0) {
      throw new IllegalArgumentException("request number must not be negative: " + value);
    }
  }

  /** Returns the number with the given value. */
  public static ReqNo of(long value) {
    return value == 0 ? ZERO : new ReqNo(value);
  }

  /** Returns this number plus {@code delta}. */
  public ReqNo plus(long delta) {
    return of(Math.addExact(value, delta));
  }

  /** Returns the next number. */
  public ReqNo next() {
    return plus(1);
  }

  /** Returns the 8-byte little-endian encoding used in hashes and signatures. */
  public byte[] toBytes() {
    return LittleEndian.u64(value);
  }

  @Override
  public int compareTo(ReqNo o) {
    return Long.compare(value, o.value);
  }

  @Override
  public String toString() {
    return Long.toString(value);
  }
}
