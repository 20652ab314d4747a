package io.github.mirframework.flood;

import com.sun.management.GarbageCollectionNotificationInfo;
import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;
import javax.management.ListenerNotFoundException;
import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;

/**
 * Samples the test JVM's resources every {@link #PERIOD_NANOS} on its own thread ({@code
 * flood-monitor}, ended by {@link #close()}): heap in use, heap in use after each garbage
 * collection (the live heap, from GC notifications), open file descriptors ({@code /proc/self/fd})
 * and the resident set size ({@code /proc/self/status}), plus a caller-given gauge (e.g. the
 * attacker's own open sockets). Peaks are asked for over a time interval.
 */
final class ResourceMonitor implements AutoCloseable {
  static final long PERIOD_NANOS = 100_000_000L;

  /** One sample; {@code gauges} in the order of the names given to the constructor. */
  record Sample(long atNanos, long heapUsed, int fds, long rssBytes, long[] gauges) {}

  /** The heap in use right after one collection. */
  record AfterGc(long atNanos, long heapUsed) {}

  private final List<Sample> samples = new ArrayList<>();
  private final List<AfterGc> afterGc = new ArrayList<>();
  private final List<NotificationEmitter> emitters = new ArrayList<>();
  private final NotificationListener listener = this::onGc;
  private final Set<String> heapPools;
  private final List<String> gaugeNames;
  private final List<LongSupplier> gauges;
  private volatile boolean stopped;
  private final Thread thread;

  /** Starts sampling, also the {@code gauges} (e.g. the attacker's open sockets). */
  ResourceMonitor(Map<String, LongSupplier> gauges) {
    this.gaugeNames = List.copyOf(gauges.keySet());
    this.gauges = List.copyOf(gauges.values());
    heapPools =
        ManagementFactory.getMemoryPoolMXBeans().stream()
            .filter(p -> p.getType() == MemoryType.HEAP)
            .map(MemoryPoolMXBean::getName)
            .collect(Collectors.toSet());
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      if (gc instanceof NotificationEmitter e) {
        e.addNotificationListener(listener, null, null);
        emitters.add(e);
      }
    }
    thread = new Thread(this::run, "flood-monitor");
    thread.setDaemon(true);
    thread.start();
  }

  private void onGc(Notification n, Object handback) {
    if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(n.getType())) {
      return;
    }
    GarbageCollectionNotificationInfo info =
        GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
    long used = 0;
    for (Map.Entry<String, MemoryUsage> e : info.getGcInfo().getMemoryUsageAfterGc().entrySet()) {
      if (heapPools.contains(e.getKey())) {
        used += e.getValue().getUsed();
      }
    }
    synchronized (this) {
      afterGc.add(new AfterGc(System.nanoTime(), used));
    }
  }

  private void run() {
    while (!stopped) {
      Sample s =
          new Sample(
              System.nanoTime(),
              ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(),
              openDescriptors(),
              rssBytes(),
              readGauges());
      synchronized (this) {
        samples.add(s);
      }
      LockSupport.parkNanos(PERIOD_NANOS);
    }
  }

  private long[] readGauges() {
    long[] v = new long[gauges.size()];
    for (int i = 0; i < v.length; i++) {
      try {
        v[i] = gauges.get(i).getAsLong();
      } catch (RuntimeException e) {
        v[i] = -1; // e.g. a component that is stopping
      }
    }
    return v;
  }

  /** The largest value of gauge {@code name} sampled between {@code from} and {@code to}. */
  long peakGauge(String name, long from, long to) {
    int i = gaugeNames.indexOf(name);
    if (i < 0) {
      throw new IllegalArgumentException("no gauge " + name);
    }
    return samples(from, to).stream().mapToLong(s -> s.gauges()[i]).max().orElse(-1);
  }

  /** Every {@code every}-th sampled value of gauge {@code name}. */
  synchronized List<Long> timeline(String name, int every) {
    int i = gaugeNames.indexOf(name);
    List<Long> out = new ArrayList<>();
    for (int k = 0; k < samples.size(); k += every) {
      out.add(samples.get(k).gauges()[i]);
    }
    return out;
  }

  /** File descriptors open in this process now. */
  static int openDescriptors() {
    int n = 0;
    try (DirectoryStream<Path> d = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
      for (Path ignored : d) {
        n++;
      }
    } catch (IOException | UnsupportedOperationException e) {
      return -1;
    }
    return n;
  }

  private static long rssBytes() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          String[] parts = line.trim().split("\\s+");
          return Long.parseLong(parts[1]) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }

  /** The samples taken between {@code from} and {@code to} (System.nanoTime()). */
  synchronized List<Sample> samples(long from, long to) {
    return samples.stream().filter(s -> s.atNanos() >= from && s.atNanos() <= to).toList();
  }

  /** The largest heap in use after a collection between {@code from} and {@code to}, or -1. */
  synchronized long peakLiveHeap(long from, long to) {
    return afterGc.stream()
        .filter(g -> g.atNanos() >= from && g.atNanos() <= to)
        .mapToLong(AfterGc::heapUsed)
        .max()
        .orElse(-1);
  }

  /** Collections between {@code from} and {@code to}. */
  synchronized int collections(long from, long to) {
    return (int) afterGc.stream().filter(g -> g.atNanos() >= from && g.atNanos() <= to).count();
  }

  @Override
  public void close() {
    stopped = true;
    LockSupport.unpark(thread);
    Floods.join(thread);
    for (NotificationEmitter e : emitters) {
      try {
        e.removeNotificationListener(listener);
      } catch (ListenerNotFoundException ex) {
        // Already gone.
      }
    }
  }
}
