package io.github.mirframework.eventmangler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.pb.TestingUint;
import io.github.mirframework.event.pb.TimerDelay;
import io.github.mirframework.eventmangler.EventMangler.Config;
import io.github.mirframework.eventmangler.EventMangler.Params;
import io.github.mirframework.types.ModuleId;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class EventManglerTest {
  private static final Config CONFIG = Config.defaults();
  private static final ModuleId SELF = CONFIG.self();
  private static final ModuleId DEST = CONFIG.dest();
  private static final ModuleId TIMER = CONFIG.timer();
  private static final long SEED = 42;

  private static EventList numbered(int n) {
    EventList in = EventList.withCapacity(n);
    for (int i = 0; i < n; i++) {
      in.add(Events.testingUint(SELF, i));
    }
    return in;
  }

  private static EventList mangle(Params params, long seed, EventList in) throws Exception {
    return new EventMangler(CONFIG, params, new SplittableRandom(seed)).applyEvents(in);
  }

  /** The value of a forwarded event, whether sent at once or through the timer. */
  private static long valueOf(Event out) throws Exception {
    if (out.destination().equals(DEST)) {
      return out.payload(TestingUint.class).getValue();
    }
    assertThat(out.destination()).isEqualTo(TIMER);
    TimerDelay td = out.payload(TimerDelay.class);
    assertThat(td.getEventsCount()).isEqualTo(1);
    assertThat(td.getEvents(0).getDestination()).isEqualTo(DEST.value());
    return td.getEvents(0).getPayload().unpack(TestingUint.class).getValue();
  }

  @Test
  void sameSeedSameDecisionsDifferentSeedDifferentDecisions() throws Exception {
    Params p = Params.defaults().withDuplicateRate(0.1);
    EventList a = mangle(p, SEED, numbered(1000));
    EventList b = mangle(p, SEED, numbered(1000));
    EventList c = mangle(p, SEED + 1, numbered(1000));
    assertThat(a).isEqualTo(b);
    assertThat(a).isNotEqualTo(c);
  }

  @Test
  void dropsAboutDropRateOfTheEvents() throws Exception {
    EventMangler m =
        new EventMangler(CONFIG, Params.defaults().withDropRate(0.05), new SplittableRandom(SEED));
    EventList out = m.applyEvents(numbered(10_000));
    // Deterministic for this seed; 5 % of 10,000 is 500 with a standard deviation of about 22.
    assertThat(m.droppedCount()).isEqualTo(10_000 - out.size()).isBetween(434L, 566L);
    assertThat(m.droppedCount()).isEqualTo(EXPECTED_DROPS_SEED_42);
    Set<Long> values = new HashSet<>();
    for (Event e : out) {
      values.add(valueOf(e));
    }
    assertThat(values).hasSize(out.size());
  }

  /** The number of events the default parameters drop out of 10,000 with seed 42. */
  private static final long EXPECTED_DROPS_SEED_42 = 488;

  @Test
  void delaysAreInRangeAndZeroDelayForwardsAtOnce() throws Exception {
    Duration min = Duration.ofMillis(10);
    Duration max = Duration.ofMillis(20);
    EventList out =
        mangle(
            Params.defaults().withDropRate(0).withMinDelay(min).withMaxDelay(max),
            SEED,
            numbered(2000));
    assertThat(out.size()).isEqualTo(2000);
    long lowest = Long.MAX_VALUE;
    long highest = 0;
    for (int i = 0; i < out.size(); i++) {
      Event e = out.get(i);
      assertThat(valueOf(e)).isEqualTo(i);
      long d = e.payload(TimerDelay.class).getDelayNs();
      lowest = Math.min(lowest, d);
      highest = Math.max(highest, d);
    }
    assertThat(lowest).isGreaterThanOrEqualTo(min.toNanos()).isLessThan(min.toNanos() + 100_000);
    assertThat(highest).isLessThan(max.toNanos()).isGreaterThan(max.toNanos() - 100_000);

    EventList immediate =
        mangle(Params.defaults().withDropRate(0).withMaxDelay(Duration.ZERO), SEED, numbered(3));
    assertThat(immediate.toList())
        .containsExactly(
            Events.testingUint(DEST, 0), Events.testingUint(DEST, 1), Events.testingUint(DEST, 2));
  }

  @Test
  void fixedDelayIsUsedWhenMinEqualsMax() throws Exception {
    Duration d = Duration.ofMillis(5);
    EventList out =
        mangle(
            Params.defaults().withDropRate(0).withMinDelay(d).withMaxDelay(d), SEED, numbered(50));
    for (Event e : out) {
      assertThat(e.payload(TimerDelay.class).getDelayNs()).isEqualTo(d.toNanos());
    }
  }

  @Test
  void followUpsTravelWithTheRedirectedEvent() throws Exception {
    Event e = Events.testingUint(SELF, 1).withFollowUp(Events.testingUint(ModuleId.of("x"), 2));
    EventList out =
        mangle(
            Params.defaults().withDropRate(0).withMaxDelay(Duration.ZERO), SEED, EventList.of(e));
    assertThat(out.toList()).containsExactly(e.redirect(DEST));
  }

  @Test
  void dropRateOneDropsEverythingAndDuplicateRateOneDoublesEverything() throws Exception {
    assertThat(mangle(Params.defaults().withDropRate(1), SEED, numbered(100)).isEmpty()).isTrue();

    EventMangler m =
        new EventMangler(
            CONFIG,
            Params.defaults().withDropRate(0).withDuplicateRate(1).withMaxDelay(Duration.ZERO),
            new SplittableRandom(SEED));
    EventList out = m.applyEvents(numbered(3));
    assertThat(out.toList())
        .containsExactly(
            Events.testingUint(DEST, 0),
            Events.testingUint(DEST, 0),
            Events.testingUint(DEST, 1),
            Events.testingUint(DEST, 1),
            Events.testingUint(DEST, 2),
            Events.testingUint(DEST, 2));
    assertThat(m.duplicatedCount()).isEqualTo(3);
  }

  @Test
  void initIsForTheManglerAndNotPassedOn() throws Exception {
    assertThat(
            mangle(Params.defaults().withDropRate(0), SEED, EventList.of(Events.init(SELF)))
                .isEmpty())
        .isTrue();
  }

  @Test
  void defaultsAreMirs() {
    Params p = Params.defaults();
    assertThat(p.minDelay()).isEqualTo(Duration.ZERO);
    assertThat(p.maxDelay()).isEqualTo(Duration.ofSeconds(1));
    assertThat(p.dropRate()).isEqualTo(0.05);
    assertThat(p.duplicateRate()).isZero();
  }

  @Test
  void invalidParamsAreRejectedNamingTheValue() {
    Params p = Params.defaults();
    assertThatThrownBy(() -> p.withMinDelay(Duration.ofMillis(-1)))
        .hasMessage("minDelay must be non-negative, given: PT-0.001S");
    assertThatThrownBy(() -> p.withMaxDelay(Duration.ofMillis(-1)))
        .hasMessageContaining("maxDelay must be non-negative");
    assertThatThrownBy(() -> p.withMinDelay(Duration.ofSeconds(2)))
        .hasMessage("minDelay (PT2S) must not be greater than maxDelay (PT1S)");
    assertThatThrownBy(() -> p.withDropRate(-0.1)).hasMessageContaining("-0.1");
    assertThatThrownBy(() -> p.withDropRate(1.5)).hasMessageContaining("1.5");
    assertThatThrownBy(() -> p.withDropRate(Double.NaN)).hasMessageContaining("NaN");
    assertThatThrownBy(() -> p.withDuplicateRate(2)).hasMessageContaining("duplicateRate");
    assertThatThrownBy(() -> new Config(SELF, SELF, TIMER)).hasMessageContaining("net");
  }
}
