package io.github.mirframework.iss.pbft;

import java.time.Duration;
import java.util.Objects;

/**
 * The protocol parameters of a PBFT orderer (Mir's {@code PBFTConfig} minus the membership, which
 * is part of the {@link Segment}). All nodes must use the same parameters.
 *
 * <p>ISS derives them from its own parameters; {@link #fromMaxProposeDelay} reproduces Mir's
 * defaults ({@code iss.DefaultParams} followed by {@code AdjustSpeed(maxProposeDelay)}).
 *
 * @param maxProposeDelay the leader's gap between two proposals (the proposal timer); not negative
 * @param doneResendPeriod the period of resending the Done message once every slot is committed
 * @param catchUpDelay the delay before, and the period of, catch-up requests after a weak quorum of
 *     matching Done messages arrived
 * @param viewChangeSnTimeout the "no new commit" timeout of view 0 (doubled in every later view)
 * @param viewChangeSegmentTimeout the "segment not finished" timeout of view 0 (doubled in every
 *     later view)
 * @param viewChangeResendPeriod the period of resending this node's ViewChange to the new primary
 * @param msgBufCapacity bytes of messages for future views kept per orderer, split evenly among the
 *     members; not negative
 * @param voteResendPeriod the period of retransmission: until the segment is stable, a node resends
 *     its Preprepares, Prepares and Commits of the current view that are at least one period old,
 *     re-requests Preprepares a NewView still lacks, and answers each member's requests at most
 *     once per period (Mir-Java's addition; Mir did not retransmit votes)
 */
public record PbftParams(
    Duration maxProposeDelay,
    Duration doneResendPeriod,
    Duration catchUpDelay,
    Duration viewChangeSnTimeout,
    Duration viewChangeSegmentTimeout,
    Duration viewChangeResendPeriod,
    int msgBufCapacity,
    Duration voteResendPeriod) {

  /** Mir's default of {@code MsgBufCapacity}: 32 MiB. */
  public static final int DEFAULT_MSG_BUF_CAPACITY = 32 * 1024 * 1024;

  /** Validates the parameters; messages name the bad value. */
  public PbftParams {
    notNegative("maxProposeDelay", maxProposeDelay);
    positive("doneResendPeriod", doneResendPeriod);
    positive("catchUpDelay", catchUpDelay);
    positive("viewChangeSnTimeout", viewChangeSnTimeout);
    positive("viewChangeSegmentTimeout", viewChangeSegmentTimeout);
    positive("viewChangeResendPeriod", viewChangeResendPeriod);
    if (msgBufCapacity < 0) {
      throw new IllegalArgumentException("msgBufCapacity must not be negative: " + msgBufCapacity);
    }
    positive("voteResendPeriod", voteResendPeriod);
  }

  /**
   * The parameters without an explicit retransmission period: votes are resent with {@code
   * doneResendPeriod}.
   */
  public PbftParams(
      Duration maxProposeDelay,
      Duration doneResendPeriod,
      Duration catchUpDelay,
      Duration viewChangeSnTimeout,
      Duration viewChangeSegmentTimeout,
      Duration viewChangeResendPeriod,
      int msgBufCapacity) {
    this(
        maxProposeDelay,
        doneResendPeriod,
        catchUpDelay,
        viewChangeSnTimeout,
        viewChangeSegmentTimeout,
        viewChangeResendPeriod,
        msgBufCapacity,
        doneResendPeriod);
  }

  /**
   * Mir's defaults for a proposal delay and segment length: every period equals {@code
   * maxProposeDelay} (the vote retransmission period too), the SN timeout is 4 × {@code
   * maxProposeDelay}, the segment timeout 2 × {@code segmentLength} × {@code maxProposeDelay}, and
   * the buffers hold 32 MiB.
   *
   * @throws IllegalArgumentException if {@code maxProposeDelay} is not positive or {@code
   *     segmentLength} is not positive
   */
  public static PbftParams fromMaxProposeDelay(Duration maxProposeDelay, int segmentLength) {
    positive("maxProposeDelay", maxProposeDelay);
    if (segmentLength <= 0) {
      throw new IllegalArgumentException("segmentLength must be positive: " + segmentLength);
    }
    return new PbftParams(
        maxProposeDelay,
        maxProposeDelay,
        maxProposeDelay,
        maxProposeDelay.multipliedBy(4),
        maxProposeDelay.multipliedBy(2L * segmentLength),
        maxProposeDelay,
        DEFAULT_MSG_BUF_CAPACITY);
  }

  /** Mir's defaults with a proposal delay of 1 s ({@code AdjustSpeed(1 s)}). */
  public static PbftParams defaults(int segmentLength) {
    return fromMaxProposeDelay(Duration.ofSeconds(1), segmentLength);
  }

  /** Returns a copy with another message buffer capacity. */
  public PbftParams withMsgBufCapacity(int bytes) {
    return new PbftParams(
        maxProposeDelay,
        doneResendPeriod,
        catchUpDelay,
        viewChangeSnTimeout,
        viewChangeSegmentTimeout,
        viewChangeResendPeriod,
        bytes,
        voteResendPeriod);
  }

  /** Returns a copy with another retransmission period. */
  public PbftParams withVoteResendPeriod(Duration period) {
    return new PbftParams(
        maxProposeDelay,
        doneResendPeriod,
        catchUpDelay,
        viewChangeSnTimeout,
        viewChangeSegmentTimeout,
        viewChangeResendPeriod,
        msgBufCapacity,
        period);
  }

  private static void notNegative(String name, Duration d) {
    Objects.requireNonNull(d, name);
    if (d.isNegative()) {
      throw new IllegalArgumentException(name + " must not be negative: " + d);
    }
  }

  private static void positive(String name, Duration d) {
    Objects.requireNonNull(d, name);
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(name + " must be positive: " + d);
    }
  }
}
