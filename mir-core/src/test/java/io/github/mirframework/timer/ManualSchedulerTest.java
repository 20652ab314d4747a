package io.github.mirframework.timer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ManualSchedulerTest {
  private final ManualScheduler clock = new ManualScheduler();
  private final List<String> log = new ArrayList<>();

  private static Duration ms(long n) {
    return Duration.ofMillis(n);
  }

  private Runnable record(String name) {
    return () -> log.add(name + "@" + clock.now().toMillis());
  }

  @Test
  void runsDueTasksInDeadlineOrderAndTiesInSchedulingOrder() {
    clock.schedule(ms(20), record("c"));
    clock.schedule(ms(10), record("a"));
    clock.schedule(ms(10), record("b"));
    clock.schedule(ms(30), record("d"));

    clock.advance(ms(25));
    assertEquals(List.of("a@10", "b@10", "c@20"), log);
    assertEquals(ms(25), clock.now());
    assertEquals(Optional.of(ms(30)), clock.nextDeadline());
    assertEquals(1, clock.pendingTasks());
  }

  @Test
  void zeroDelayRunsAtTheNextAdvanceNeverInline() {
    clock.schedule(Duration.ZERO, record("z"));
    assertEquals(List.of(), log);
    clock.runDueTasks();
    assertEquals(List.of("z@0"), log);
  }

  @Test
  void tasksScheduledByTasksRunInTheSameWindow() {
    clock.schedule(
        ms(10),
        () -> {
          record("first").run();
          clock.schedule(Duration.ZERO, record("now-too"));
          clock.schedule(ms(5), record("later"));
          clock.schedule(ms(50), record("too-late"));
        });
    clock.advance(ms(20));
    assertEquals(List.of("first@10", "now-too@10", "later@15"), log);
  }

  @Test
  void cancelledTasksNeverRun() {
    TimerScheduler.Cancellable c = clock.schedule(ms(10), record("x"));
    clock.schedule(ms(10), record("y"));
    c.cancel();
    c.cancel();
    clock.advance(ms(10));
    assertEquals(List.of("y@10"), log);
    assertEquals(Optional.empty(), clock.nextDeadline());
  }

  @Test
  void negativeDurationsAndReentrantAdvanceAreRejected() {
    assertThrows(IllegalArgumentException.class, () -> clock.schedule(ms(-1), record("x")));
    assertThrows(IllegalArgumentException.class, () -> clock.advance(ms(-1)));
    clock.schedule(ms(1), () -> clock.advance(ms(1)));
    assertThrows(IllegalStateException.class, () -> clock.advance(ms(1)));
    clock.advance(ms(1)); // usable again afterwards
  }

  @Test
  void aThrowingTaskStopsTimeAtItsDeadlineAndKeepsTheRest() {
    clock.schedule(
        ms(10),
        () -> {
          throw new IllegalStateException("boom");
        });
    clock.schedule(ms(20), record("after"));
    assertThrows(IllegalStateException.class, () -> clock.advance(ms(30)));
    assertEquals(ms(10), clock.now());
    clock.advance(ms(20));
    assertEquals(List.of("after@20"), log);
  }
}
