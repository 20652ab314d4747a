package io.github.mirframework.eventmangler;

import com.google.protobuf.Message;
import io.github.mirframework.dsl.DslModule;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.types.ModuleId;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * A passive module that perturbs the events addressed to it and passes the survivors on to another
 * module (Mir's event mangler). Trantor's "perturb messages" mode installs it as {@code net} in
 * front of the real transport, moved to {@code truenet}.
 *
 * <p>Each event it receives is dropped with probability {@link Params#dropRate()}; otherwise it is
 * redirected to {@link Config#dest()} after a delay drawn uniformly from {@code [minDelay,
 * maxDelay)} ({@code minDelay} exactly if both are equal): immediately if the delay is zero, else
 * wrapped in a {@code TimerDelay} request to {@link Config#timer()}. With probability {@link
 * Params#duplicateRate()} a surviving event is sent a second time, with its own delay.
 *
 * <p>The {@code Init} event a node sends to the mangler is not passed on: it is meant for the
 * mangler itself, and the destination gets its own {@code Init} from the node.
 *
 * <p>All randomness comes from the generator given to the constructor, so a seeded generator gives
 * the same decisions for the same input. Not thread-safe, like every passive module.
 */
public final class EventMangler implements PassiveModule {
  /** Never takes network input: received messages addressed here are dropped by the node. */
  @Override
  public boolean receivesMessages() {
    return false;
  }

  /**
   * The modules the mangler talks to.
   *
   * @param self the mangler's own ID
   * @param dest where surviving events go
   * @param timer the timer module that delays events
   */
  public record Config(ModuleId self, ModuleId dest, ModuleId timer) {
    /** Validates the configuration. */
    public Config {
      Objects.requireNonNull(self, "self");
      Objects.requireNonNull(dest, "dest");
      Objects.requireNonNull(timer, "timer");
      if (self.equals(dest)) {
        throw new IllegalArgumentException("dest must differ from self, given: " + dest);
      }
    }

    /**
     * The IDs used when Trantor perturbs its messages: {@code net -> truenet}, timer {@code timer}.
     */
    public static Config defaults() {
      return new Config(ModuleId.of("net"), ModuleId.of("truenet"), ModuleId.of("timer"));
    }
  }

  /**
   * How events are perturbed.
   *
   * @param minDelay every forwarded event is delayed at least this long
   * @param maxDelay every forwarded event is delayed less than this (or exactly {@code minDelay} if
   *     equal)
   * @param dropRate probability in [0, 1] that an event is dropped
   * @param duplicateRate probability in [0, 1] that a forwarded event is forwarded a second time
   */
  public record Params(
      Duration minDelay, Duration maxDelay, double dropRate, double duplicateRate) {
    /** Validates the parameters; messages name the offending value. */
    public Params {
      Objects.requireNonNull(minDelay, "minDelay");
      Objects.requireNonNull(maxDelay, "maxDelay");
      if (minDelay.isNegative()) {
        throw new IllegalArgumentException("minDelay must be non-negative, given: " + minDelay);
      }
      if (maxDelay.isNegative()) {
        throw new IllegalArgumentException("maxDelay must be non-negative, given: " + maxDelay);
      }
      if (minDelay.compareTo(maxDelay) > 0) {
        throw new IllegalArgumentException(
            "minDelay (" + minDelay + ") must not be greater than maxDelay (" + maxDelay + ")");
      }
      // Fails early instead of when the first event is delayed.
      maxDelay.toNanos();
      if (!(dropRate >= 0 && dropRate <= 1)) {
        throw new IllegalArgumentException("dropRate must be in [0, 1], given: " + dropRate);
      }
      if (!(duplicateRate >= 0 && duplicateRate <= 1)) {
        throw new IllegalArgumentException(
            "duplicateRate must be in [0, 1], given: " + duplicateRate);
      }
    }

    /** Mir's defaults: delays in [0, 1 s), 5 % dropped, none duplicated. */
    public static Params defaults() {
      return new Params(Duration.ZERO, Duration.ofSeconds(1), 0.05, 0);
    }

    /** A copy with another minimum delay. */
    public Params withMinDelay(Duration d) {
      return new Params(d, maxDelay, dropRate, duplicateRate);
    }

    /** A copy with another maximum delay. */
    public Params withMaxDelay(Duration d) {
      return new Params(minDelay, d, dropRate, duplicateRate);
    }

    /** A copy with another drop rate. */
    public Params withDropRate(double rate) {
      return new Params(minDelay, maxDelay, rate, duplicateRate);
    }

    /** A copy with another duplicate rate. */
    public Params withDuplicateRate(double rate) {
      return new Params(minDelay, maxDelay, dropRate, rate);
    }
  }

  private final Config config;
  private final long minDelayNs;
  private final long maxDelayNs;
  private final double dropRate;
  private final double duplicateRate;
  private final RandomGenerator random;
  private final DslModule dsl;
  private long dropped;
  private long duplicated;

  /**
   * Creates a mangler.
   *
   * @param random the source of all random decisions; pass a seeded generator (e.g. {@code new
   *     SplittableRandom(seed)}) for reproducible runs. The mangler becomes its only user.
   */
  public EventMangler(Config config, Params params, RandomGenerator random) {
    this.config = Objects.requireNonNull(config, "config");
    this.minDelayNs = params.minDelay().toNanos();
    this.maxDelayNs = params.maxDelay().toNanos();
    this.dropRate = params.dropRate();
    this.duplicateRate = params.duplicateRate();
    this.random = Objects.requireNonNull(random, "random");
    this.dsl = new DslModule(config.self());
    dsl.uponInit(() -> {});
    dsl.uponOtherEvent(this::mangle);
  }

  @Override
  public EventList applyEvents(EventList events) throws Exception {
    return dsl.applyEvents(events);
  }

  /** How many events were dropped so far. */
  public long droppedCount() {
    return dropped;
  }

  /** How many extra copies were sent so far. */
  public long duplicatedCount() {
    return duplicated;
  }

  private void mangle(Event event, Message payload) {
    // with probability dropRate: drop e
    if (dropRate > 0 && random.nextDouble() < dropRate) {
      dropped++;
      return;
    }
    forward(event);
    // with probability duplicateRate: send e once more
    if (duplicateRate > 0 && random.nextDouble() < duplicateRate) {
      duplicated++;
      forward(event);
    }
  }

  private void forward(Event event) {
    long delayNs = minDelayNs == maxDelayNs ? minDelayNs : random.nextLong(minDelayNs, maxDelayNs);
    Event redirected = event.redirect(config.dest());
    if (delayNs > 0) {
      dsl.emit(Events.timerDelay(config.timer(), List.of(redirected), Duration.ofNanos(delayNs)));
    } else {
      dsl.emit(redirected);
    }
  }

  @Override
  public String toString() {
    return "EventMangler[" + config.self() + " -> " + config.dest() + "]";
  }
}
