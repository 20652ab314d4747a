package io.github.mirframework.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.ArgumentMatchers.contains;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class RateLimitedLogTest {
  private final AtomicLong now = new AtomicLong(1_000);
  private final Logger logger = mock(Logger.class);

  private RateLimitedLog log() {
    when(logger.isWarnEnabled()).thenReturn(true);
    when(logger.isInfoEnabled()).thenReturn(true);
    return new RateLimitedLog(logger, Duration.ofSeconds(1), now::get);
  }

  @Test
  void logsTheFirstOfEachReasonThenAtMostOncePerIntervalAndCountsAll() {
    RateLimitedLog log = log();
    int written = 0;
    for (int i = 0; i < 1000; i++) {
      if (log.warn("bad", "bad input {}", i)) {
        written++;
      }
    }
    assertThat(written).isEqualTo(1);
    assertThat(log.warn("other", "other input")).isTrue();
    now.addAndGet(Duration.ofMillis(999).toNanos());
    assertThat(log.warn("bad", "bad input {}", 1000)).isFalse();
    now.addAndGet(Duration.ofMillis(1).toNanos());
    assertThat(log.warn("bad", "bad input {}", 1001)).isTrue();
    assertThat(log.count("bad")).isEqualTo(1002);
    assertThat(log.count("other")).isEqualTo(1);
    assertThat(log.total()).isEqualTo(1003);
    assertThat(log.counts())
        .containsExactly(java.util.Map.entry("bad", 1002L), java.util.Map.entry("other", 1L));
    verify(logger, times(1)).warn("bad input {}", new Object[] {0});
    // The second entry says how many were suppressed since the first.
    verify(logger)
        .warn(contains("more like this"), eq(new Object[] {1001, 1000L, Duration.ofSeconds(1)}));
    verify(logger, times(1)).warn("other input", new Object[] {});
  }

  @Test
  void theNumberOfReasonsIsBounded() {
    RateLimitedLog log = log();
    for (int i = 0; i < RateLimitedLog.MAX_REASONS + 100; i++) {
      log.info("reason " + i, "r");
    }
    assertThat(log.counts()).hasSize(RateLimitedLog.MAX_REASONS + 1);
    assertThat(log.count(RateLimitedLog.OTHER)).isEqualTo(100);
    assertThat(log.total()).isEqualTo(RateLimitedLog.MAX_REASONS + 100);
    verify(logger, times(RateLimitedLog.MAX_REASONS + 1)).info(anyString(), any(Object[].class));
  }

  @Test
  void sharedLogsAreOnePerLoggerNameAndNegativeIntervalsAreRefused() {
    Logger a = LoggerFactory.getLogger("rate-limited-test");
    assertThat(RateLimitedLog.shared(a)).isSameAs(RateLimitedLog.shared(a));
    assertThatThrownBy(() -> new RateLimitedLog(a, Duration.ofSeconds(-1), System::nanoTime))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("interval");
  }
}
