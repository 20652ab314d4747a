package io.github.mirframework.tools.bench;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;

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

  /**
   * Heap in use right after the most recent garbage collection (of any kind), without collecting:
   * the sum over the heap pools of their usage after their last collection, or -1 if no heap pool
   * reports it. With a generational collector this is the live data plus the old garbage that no
   * collection has reached yet, so it follows the retained heap from above.
   */
  static long heapAfterLastGc() {
    long sum = 0;
    boolean any = false;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() != MemoryType.HEAP) {
        continue;
      }
      MemoryUsage u = pool.getCollectionUsage();
      if (u != null) {
        sum += u.getUsed();
        any = true;
      }
    }
    return any ? sum : -1;
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
