package io.github.mirframework.tools.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * CPU time of this JVM's threads grouped by name with the digits masked ({@code mir-0-iss} and
 * {@code mir-3-iss} both count as {@code mir-#-iss}): a Mir node runs each module on its own
 * thread, so in one JVM this is the CPU time per module (summed over the replicas). Stateless.
 */
final class ThreadCpu {
  private ThreadCpu() {}

  /** CPU nanoseconds per thread ID now (threads whose time is unknown are left out). */
  static Map<Long, Long> snapshot() {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    Map<Long, Long> out = new HashMap<>();
    if (!mx.isThreadCpuTimeSupported()) {
      return out;
    }
    for (long id : mx.getAllThreadIds()) {
      long t = mx.getThreadCpuTime(id);
      if (t >= 0) {
        out.put(id, t);
      }
    }
    return out;
  }

  /**
   * The CPU time between {@code before} and now per thread group, largest first. Threads that ended
   * in between are missed (their time is not knowable afterwards).
   */
  static Map<String, Long> since(Map<Long, Long> before) {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    Map<String, Long> groups = new HashMap<>();
    for (var info : mx.getThreadInfo(mx.getAllThreadIds())) {
      if (info == null) {
        continue;
      }
      long now = mx.getThreadCpuTime(info.getThreadId());
      if (now < 0) {
        continue;
      }
      long delta = now - before.getOrDefault(info.getThreadId(), 0L);
      groups.merge(info.getThreadName().replaceAll("[0-9]+", "#"), delta, Long::sum);
    }
    Map<String, Long> sorted = new LinkedHashMap<>();
    groups.entrySet().stream()
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .forEach(e -> sorted.put(e.getKey(), e.getValue()));
    return sorted;
  }
}
