package io.github.mirframework.net.grpc;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/** Waiting for conditions with a deadline (never for a fixed time). */
final class Await {
  static final Duration DEFAULT = Duration.ofSeconds(10);

  private Await() {}

  static void until(BooleanSupplier condition, String what) {
    until(condition, DEFAULT, () -> what);
  }

  static void until(BooleanSupplier condition, Duration timeout, Supplier<String> what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    long pauseNanos = 100_000;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError(
            "timed out after " + timeout + " waiting for: " + what.get() + "\n" + threadDump());
      }
      java.util.concurrent.locks.LockSupport.parkNanos(pauseNanos);
      pauseNanos = Math.min(pauseNanos * 2, 5_000_000);
    }
  }

  static String threadDump() {
    return Thread.getAllStackTraces().keySet().stream()
        .map(t -> "  " + t.getName() + " " + t.getState())
        .sorted()
        .collect(Collectors.joining("\n"));
  }
}
