package io.github.mirframework.clientprogress;

import io.github.mirframework.types.ReqNo;
import java.util.BitSet;
import java.util.Objects;

/**
 * The delivered requests of one client (Mir's {@code DeliveredReqs}): every request number below
 * the low watermark counts as delivered, plus an explicit set of numbers at or above it.
 *
 * <p><b>Bounded.</b> Unlike Mir, only request numbers in the window {@code [lowWM, lowWM + window)}
 * are accepted; {@link #add} refuses (returns false for) a number at or beyond the window's end. A
 * client that numbers its requests sparsely (a Byzantine client, e.g. 0, 2, 4, ... or
 * 2<sup>62</sup>) can therefore make this object hold at most {@code window} bits, and a checkpoint
 * at most {@code window} numbers for it. The set is a bit set relative to the low watermark, so the
 * memory used is about {@code (highest delivered − lowWM) / 8} bytes. Since every correct replica
 * applies the same ordered requests and garbage-collects at the same points, all of them refuse the
 * same requests.
 *
 * <p>Not thread-safe.
 */
public final class DeliveredReqs {
  private final long window;
  private long lowWm;
  // Bit i set: request number lowWm + i was delivered.
  private BitSet delivered = new BitSet();

  /**
   * Returns an empty tracker (low watermark 0) accepting request numbers below {@code lowWM +
   * window}.
   *
   * @throws IllegalArgumentException if {@code window} is not positive or above {@link
   *     ClientProgress#MAX_WINDOW}
   */
  public DeliveredReqs(long window) {
    this.window = ClientProgress.checkWindow(window);
  }

  /** The low watermark: every request number below it counts as delivered. */
  public ReqNo lowWatermark() {
    return ReqNo.of(lowWm);
  }

  /** The size of the window of acceptable request numbers above the low watermark. */
  public long window() {
    return window;
  }

  /** Whether request {@code reqNo} counts as delivered. */
  public boolean contains(ReqNo reqNo) {
    long r = reqNo.value();
    return r < lowWm || (r - lowWm < window && delivered.get((int) (r - lowWm)));
  }

  /**
   * Marks {@code reqNo} as delivered.
   *
   * @return true if it was not delivered before and is now; false if it is below the low watermark,
   *     already delivered, or at or beyond the end of the window (then nothing changes)
   */
  public boolean add(ReqNo reqNo) {
    long r = Objects.requireNonNull(reqNo, "reqNo").value();
    if (r < lowWm || r - lowWm >= window) {
      return false;
    }
    int bit = (int) (r - lowWm);
    if (delivered.get(bit)) {
      return false;
    }
    delivered.set(bit);
    return true;
  }

  /**
   * Advances the low watermark over the contiguous delivered prefix and forgets that prefix.
   *
   * @return the new low watermark
   */
  public ReqNo garbageCollect() {
    int prefix = delivered.nextClearBit(0);
    if (prefix > 0) {
      delivered = delivered.get(prefix, Math.max(prefix, delivered.length()));
      lowWm += prefix;
    }
    return ReqNo.of(lowWm);
  }

  /** The number of delivered request numbers at or above the low watermark. */
  public int deliveredAboveWatermark() {
    return delivered.cardinality();
  }

  /** The protobuf form; {@code delivered} is strictly ascending. */
  public io.github.mirframework.checkpoint.pb.DeliveredReqs toProto() {
    var b = io.github.mirframework.checkpoint.pb.DeliveredReqs.newBuilder().setLowWm(lowWm);
    for (int i = delivered.nextSetBit(0); i >= 0; i = delivered.nextSetBit(i + 1)) {
      b.addDelivered(lowWm + i);
    }
    return b.build();
  }

  /**
   * Reads the protobuf form.
   *
   * @throws IllegalArgumentException if it is malformed: a low watermark of 2<sup>63</sup> or more,
   *     or delivered numbers that are not strictly ascending, below the low watermark or outside
   *     the window
   */
  public static DeliveredReqs fromProto(
      io.github.mirframework.checkpoint.pb.DeliveredReqs pb, long window) {
    String problem = check(pb, window);
    if (problem != null) {
      throw new IllegalArgumentException("malformed DeliveredReqs: " + problem);
    }
    DeliveredReqs dr = new DeliveredReqs(window);
    dr.lowWm = pb.getLowWm();
    for (long r : pb.getDeliveredList()) {
      dr.delivered.set((int) (r - dr.lowWm));
    }
    return dr;
  }

  /** Returns what is wrong with {@code pb} (see {@link #fromProto}), or null if nothing. */
  static String check(io.github.mirframework.checkpoint.pb.DeliveredReqs pb, long window) {
    long low = pb.getLowWm();
    if (low < 0) {
      return "low watermark " + Long.toUnsignedString(low) + " too large";
    }
    if (pb.getDeliveredCount() > window) {
      return pb.getDeliveredCount() + " delivered numbers exceed the window of " + window;
    }
    long prev = -1;
    for (int i = 0; i < pb.getDeliveredCount(); i++) {
      long r = pb.getDelivered(i);
      if (r < low) { // also catches values >= 2^63 (negative as long)
        return "delivered number "
            + Long.toUnsignedString(r)
            + " below the low watermark "
            + low
            + " or too large";
      }
      if (r - low >= window) {
        return "delivered number "
            + r
            + " beyond the window ["
            + low
            + ", "
            + low
            + "+"
            + window
            + ")";
      }
      if (r <= prev) {
        return "delivered numbers not strictly ascending at position " + i;
      }
      prev = r;
    }
    return null;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DeliveredReqs d
        && d.lowWm == lowWm
        && d.window == window
        && d.delivered.equals(delivered);
  }

  @Override
  public int hashCode() {
    return Objects.hash(lowWm, window, delivered);
  }

  @Override
  public String toString() {
    return "DeliveredReqs[lowWM=" + lowWm + ", delivered=" + toProto().getDeliveredList() + "]";
  }
}
