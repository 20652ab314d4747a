package io.github.mirframework.tools.bench;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;

/** CPU, GC and heap figures of this JVM. Stateless, thread-safe. */
final class JvmUsage {
  private JvmUsage() {}

  /** CPU time of this process in nanoseconds (all threads), or -1 if unknown. */
  static long processCpuNanos() {
    if (ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getProcessCpuTime();
    }
    return -1;
  }

  /** Milliseconds spent in garbage collections so far. */
  static long gcMillis() {
    long sum = 0;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      sum += Math.max(0, gc.getCollectionTime());
    }
    return sum;
  }

  /** Heap in use now. */
  static long heapUsed() {
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  /** Runs a full collection (twice, to let finalization and reference processing settle). */
  static long heapAfterGc() {
    System.gc();
    System.gc();
    return heapUsed();
  }

  /** The system load average over the last minute, or -1 if unavailable. */
  static double loadAverage() {
    return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }
}
