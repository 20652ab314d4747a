package io.github.mirframework.types;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.LongFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The numeric value types share one contract; each is checked through a small adapter. */
class NumericTypesTest {

  /** What a test needs to know about one numeric type. */
  interface Num {
    long value();

    Num next();

    Num plus(long delta);

    byte[] toBytes();

    int compareTo(Num other);

    Object unwrap();
  }

  /**
   * One numeric type: its name in error messages, its factory (wrapped in the adapter) and its
   * {@code ZERO}.
   *
   * @param noun the type's name in validation messages
   * @param of the factory, wrapped
   * @param zero the type's ZERO constant
   */
  record Kind(String noun, LongFunction<Num> of, Object zero) {
    @Override
    public String toString() {
      return noun;
    }
  }

  private record SeqNrNum(SeqNr v) implements Num {
    public long value() {
      return v.value();
    }

    public Num next() {
      return new SeqNrNum(v.next());
    }

    public Num plus(long d) {
      return new SeqNrNum(v.plus(d));
    }

    public byte[] toBytes() {
      return v.toBytes();
    }

    public int compareTo(Num o) {
      return v.compareTo(((SeqNrNum) o).v);
    }

    public Object unwrap() {
      return v;
    }
  }

  private record EpochNrNum(EpochNr v) implements Num {
    public long value() {
      return v.value();
    }

    public Num next() {
      return new EpochNrNum(v.next());
    }

    public Num plus(long d) {
      return new EpochNrNum(v.plus(d));
    }

    public byte[] toBytes() {
      return v.toBytes();
    }

    public int compareTo(Num o) {
      return v.compareTo(((EpochNrNum) o).v);
    }

    public Object unwrap() {
      return v;
    }
  }

  private record ReqNoNum(ReqNo v) implements Num {
    public long value() {
      return v.value();
    }

    public Num next() {
      return new ReqNoNum(v.next());
    }

    public Num plus(long d) {
      return new ReqNoNum(v.plus(d));
    }

    public byte[] toBytes() {
      return v.toBytes();
    }

    public int compareTo(Num o) {
      return v.compareTo(((ReqNoNum) o).v);
    }

    public Object unwrap() {
      return v;
    }
  }

  private record RetentionIndexNum(RetentionIndex v) implements Num {
    public long value() {
      return v.value();
    }

    public Num next() {
      return new RetentionIndexNum(v.next());
    }

    public Num plus(long d) {
      return new RetentionIndexNum(v.plus(d));
    }

    public byte[] toBytes() {
      return v.toBytes();
    }

    public int compareTo(Num o) {
      return v.compareTo(((RetentionIndexNum) o).v);
    }

    public Object unwrap() {
      return v;
    }
  }

  private record ViewNrNum(ViewNr v) implements Num {
    public long value() {
      return v.value();
    }

    public Num next() {
      return new ViewNrNum(v.next());
    }

    public Num plus(long d) {
      return new ViewNrNum(v.plus(d));
    }

    public byte[] toBytes() {
      return v.toBytes();
    }

    public int compareTo(Num o) {
      return v.compareTo(((ViewNrNum) o).v);
    }

    public Object unwrap() {
      return v;
    }
  }

  static Stream<Kind> kinds() {
    return Stream.of(
        new Kind("sequence number", n -> new SeqNrNum(SeqNr.of(n)), SeqNr.ZERO),
        new Kind("epoch number", n -> new EpochNrNum(EpochNr.of(n)), EpochNr.ZERO),
        new Kind("request number", n -> new ReqNoNum(ReqNo.of(n)), ReqNo.ZERO),
        new Kind(
            "retention index",
            n -> new RetentionIndexNum(RetentionIndex.of(n)),
            RetentionIndex.ZERO),
        new Kind("view number", n -> new ViewNrNum(ViewNr.of(n)), ViewNr.ZERO));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("kinds")
  void zeroIsTheSharedConstant(Kind k) {
    assertSame(k.zero(), k.of().apply(0).unwrap());
    assertEquals("0", k.zero().toString());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("kinds")
  void negativeValuesAreRejectedWithAMessageNamingTypeAndValue(Kind k) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> k.of().apply(-5));
    assertEquals(k.noun() + " must not be negative: -5", e.getMessage());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("kinds")
  void arithmeticMovesForwardAndFailsOnOverflow(Kind k) {
    Num seven = k.of().apply(7);
    assertEquals(8, seven.next().value());
    assertEquals(17, seven.plus(10).value());
    assertEquals(7, seven.plus(0).value());
    assertThrows(
        IllegalArgumentException.class, () -> seven.plus(-8), "going below zero is rejected");
    assertThrows(ArithmeticException.class, () -> k.of().apply(Long.MAX_VALUE).next());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("kinds")
  void equalityOrderAndText(Kind k) {
    Num a = k.of().apply(41);
    assertEquals(a.unwrap(), k.of().apply(41).unwrap());
    assertEquals(a.unwrap().hashCode(), k.of().apply(41).unwrap().hashCode());
    assertNotEquals(a.unwrap(), k.of().apply(42).unwrap());
    assertTrue(a.compareTo(k.of().apply(42)) < 0);
    assertTrue(k.of().apply(42).compareTo(a) > 0);
    assertEquals(0, a.compareTo(k.of().apply(41)));
    assertEquals("41", a.unwrap().toString());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("kinds")
  void bytesAreEightLittleEndianBytes(Kind k) {
    assertArrayEquals(new byte[] {1, 2, 0, 0, 0, 0, 0, 0}, k.of().apply(0x0201).toBytes());
    assertArrayEquals(
        new byte[] {
          (byte) 0xff,
          (byte) 0xff,
          (byte) 0xff,
          (byte) 0xff,
          (byte) 0xff,
          (byte) 0xff,
          (byte) 0xff,
          0x7f
        },
        k.of().apply(Long.MAX_VALUE).toBytes());
  }

  @Test
  void littleEndianRoundTripsEveryBitPattern() {
    long[] samples = {0, 1, -1, Long.MIN_VALUE, Long.MAX_VALUE, 0x0123_4567_89ab_cdefL};
    for (long v : samples) {
      assertEquals(v, LittleEndian.u64(LittleEndian.u64(v)), Long.toHexString(v));
    }
    assertArrayEquals(
        new byte[] {(byte) 0xef, (byte) 0xcd, (byte) 0xab, (byte) 0x89, 0x67, 0x45, 0x23, 0x01},
        LittleEndian.u64(0x0123_4567_89ab_cdefL));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> LittleEndian.u64(new byte[7]));
    assertEquals("expected 8 bytes, got 7", e.getMessage());
  }
}
