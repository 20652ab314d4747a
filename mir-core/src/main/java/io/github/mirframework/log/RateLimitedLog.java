package io.github.mirframework.log;

import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.slf4j.Logger;

/**
 * Counts rejected input by reason and logs it at most once per interval per reason, so that a
 * faulty peer or client sending invalid input in a loop cannot flood the log (or slow the node down
 * with logging). Every rejection is counted; the first one of a reason is logged at once, later
 * ones are logged only when at least one interval has passed since that reason's last entry, and
 * then say how many were suppressed in between.
 *
 * <p>Time comes from an injected monotonic clock in nanoseconds ({@code System::nanoTime} by
 * default), so tests and the deterministic simulation decide what is logged. Reasons are meant to
 * be a small fixed set of constant strings; at most {@link #MAX_REASONS} distinct reasons are kept,
 * later new ones are counted under {@link #OTHER}.
 *
 * <p>Thread-safe.
 */
public final class RateLimitedLog {
  /** The default least time between two log entries of the same reason: 10 seconds. */
  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(10);

  /** The most distinct reasons tracked. */
  public static final int MAX_REASONS = 64;

  /** The reason under which rejections are counted once {@link #MAX_REASONS} are tracked. */
  public static final String OTHER = "(other)";

  private static final ConcurrentHashMap<String, RateLimitedLog> SHARED = new ConcurrentHashMap<>();

  private final Logger logger;
  private final long intervalNanos;
  private final Duration interval;
  private final LongSupplier clock;
  private final Map<String, Reason> reasons = new LinkedHashMap<>();
  private long total;

  private static final class Reason {
    long count;
    long suppressed;
    long lastLoggedNanos;
  }

  /**
   * A log that writes to {@code logger} at most once per {@code interval} per reason, timed by
   * {@code nanoClock} (a monotonic clock in nanoseconds).
   *
   * @throws IllegalArgumentException if {@code interval} is negative
   */
  public RateLimitedLog(Logger logger, Duration interval, LongSupplier nanoClock) {
    this.logger = Objects.requireNonNull(logger, "logger");
    this.interval = Objects.requireNonNull(interval, "interval");
    if (interval.isNegative()) {
      throw new IllegalArgumentException("interval must not be negative, got " + interval);
    }
    this.intervalNanos = interval.toNanos();
    this.clock = Objects.requireNonNull(nanoClock, "nanoClock");
  }

  /**
   * The log shared by every user of {@code logger} in this JVM (keyed by the logger's name), with
   * the default interval and the system's monotonic clock. Meant for code that has no clock of its
   * own; its counters add up the rejections of every node in the JVM.
   */
  public static RateLimitedLog shared(Logger logger) {
    Objects.requireNonNull(logger, "logger");
    return SHARED.computeIfAbsent(
        logger.getName(), n -> new RateLimitedLog(logger, DEFAULT_INTERVAL, System::nanoTime));
  }

  /**
   * Counts one rejection for {@code reason} and logs it at WARN level if the reason was not logged
   * within the interval ({@code format} and {@code args} as for SLF4J).
   *
   * @return whether an entry was written
   */
  public boolean warn(String reason, String format, Object... args) {
    long suppressed = record(reason);
    if (suppressed < 0) {
      return false;
    }
    if (logger.isWarnEnabled()) {
      if (suppressed == 0) {
        logger.warn(format, args);
      } else {
        logger.warn(format + " ({} more like this in the last {})", append(args, suppressed));
      }
    }
    return true;
  }

  /**
   * Like {@link #warn} at INFO level.
   *
   * @return whether an entry was written
   */
  public boolean info(String reason, String format, Object... args) {
    long suppressed = record(reason);
    if (suppressed < 0) {
      return false;
    }
    if (logger.isInfoEnabled()) {
      if (suppressed == 0) {
        logger.info(format, args);
      } else {
        logger.info(format + " ({} more like this in the last {})", append(args, suppressed));
      }
    }
    return true;
  }

  private Object[] append(Object[] args, long suppressed) {
    Object[] all = Arrays.copyOf(args, args.length + 2);
    all[args.length] = suppressed;
    all[args.length + 1] = interval;
    return all;
  }

  /** Counts; returns the number suppressed since the last entry if one is due now, else -1. */
  private synchronized long record(String reason) {
    Objects.requireNonNull(reason, "reason");
    total++;
    Reason r = reasons.get(reason);
    if (r == null) {
      if (reasons.size() >= MAX_REASONS) {
        reason = OTHER;
        r = reasons.get(OTHER);
      }
      if (r == null) {
        r = new Reason();
        reasons.put(reason, r);
        r.count = 1;
        r.lastLoggedNanos = clock.getAsLong();
        return 0;
      }
    }
    r.count++;
    long now = clock.getAsLong();
    if (now - r.lastLoggedNanos >= intervalNanos) {
      long s = r.suppressed;
      r.suppressed = 0;
      r.lastLoggedNanos = now;
      return s;
    }
    r.suppressed++;
    return -1;
  }

  /** The rejections counted for {@code reason} so far. */
  public synchronized long count(String reason) {
    Reason r = reasons.get(reason);
    return r == null ? 0 : r.count;
  }

  /** All rejections counted so far. */
  public synchronized long total() {
    return total;
  }

  /** A snapshot of the counters by reason, in the order the reasons first occurred. */
  public synchronized Map<String, Long> counts() {
    Map<String, Long> out = new LinkedHashMap<>();
    reasons.forEach((k, v) -> out.put(k, v.count));
    return out;
  }
}
