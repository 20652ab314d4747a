package io.github.mirframework.tools.bench;

import com.sun.management.GcInfo;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

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
   * the heap pools' usage after the collection that ended last, as its collector reports it, or -1
   * if no collector reports one yet. With a generational collector this is the live data plus the
   * old garbage that no collection has reached yet, so it follows the retained heap from above (G1
   * reclaims old regions only after a concurrent cycle, which starts when the old generation
   * reaches a share of the heap).
   */
  static long heapAfterLastGc() {
    Set<String> heapPools = new HashSet<>();
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        heapPools.add(pool.getName());
      }
    }
    GcInfo last = null;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      if (gc instanceof com.sun.management.GarbageCollectorMXBean sun) {
        GcInfo info = sun.getLastGcInfo();
        if (info != null && (last == null || info.getEndTime() > last.getEndTime())) {
          last = info;
        }
      }
    }
    if (last == null) {
      return -1;
    }
    long sum = 0;
    for (Map.Entry<String, MemoryUsage> e : last.getMemoryUsageAfterGc().entrySet()) {
      if (heapPools.contains(e.getKey())) {
        sum += e.getValue().getUsed();
      }
    }
    return sum;
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
