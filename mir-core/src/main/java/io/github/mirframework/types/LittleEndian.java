package io.github.mirframework.types;

/**
 * Little-endian encodings of unsigned 64-bit numbers, as used in Mir's hashing and signing byte
 * layouts.
 */
public final class LittleEndian {
  private LittleEndian() {}

  /** Returns the 8-byte little-endian encoding of {@code v}. */
  public static byte[] u64(long v) {
    byte[] b = new byte[8];
    for (int i = 0; i < 8; i++) {
      b[i] = (byte) (v >>> (8 * i));
    }
    return b;
  }

  /**
   * Decodes 8 little-endian bytes.
   *
   * @throws IllegalArgumentException if {@code b} is not exactly 8 bytes long
   */
  public static long u64(byte[] b) {
    if (b.length != 8) {
      throw new IllegalArgumentException("expected 8 bytes, got " + b.length);
    }
    long v = 0;
    for (int i = 7; i >= 0; i--) {
      v = (v << 8) | (b[i] & 0xffL);
    }
    return v;
  }
}
