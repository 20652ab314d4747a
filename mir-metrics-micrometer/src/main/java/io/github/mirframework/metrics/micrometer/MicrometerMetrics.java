package io.github.mirframework.metrics.micrometer;

import com.google.protobuf.Descriptors.Descriptor;
import io.github.mirframework.metrics.ModuleGauges;
import io.github.mirframework.metrics.ModuleMetrics;
import io.github.mirframework.metrics.NodeGauges;
import io.github.mirframework.metrics.NodeMetrics;
import io.github.mirframework.metrics.OrderingMetrics;
import io.github.mirframework.metrics.TransportStats;
import io.github.mirframework.metrics.TransportStats.PeerStats;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.ToLongFunction;

/**
 * Publishes what Mir-Java nodes measure about themselves as Micrometer meters.
 *
 * <p>Meters (every one tagged {@code node}; module meters also {@code module}, peer meters {@code
 * transport} and {@code peer}):
 *
 * <ul>
 *   <li>{@code mir.module.events} (counter): events applied by the module;
 *   <li>{@code mir.module.batches} (counter): batches applied (events/batches is the mean batch
 *       size);
 *   <li>{@code mir.module.apply} (function timer): count and total time of {@code applyEvents}
 *       calls (the time is extrapolated from a sample of the batches, see {@link
 *       #MicrometerMetrics(MeterRegistry, int)});
 *   <li>{@code mir.module.queue} (gauge): events waiting in the module's buffer;
 *   <li>{@code mir.module.event.types} (counter, tag {@code type}; only if asked for, see {@link
 *       #MicrometerMetrics(MeterRegistry, int, boolean)}): events applied by payload type;
 *   <li>{@code mir.node.buffered.events}, {@code mir.node.buffered.bytes}, {@code
 *       mir.node.input.paused} (gauges) and {@code mir.node.messages.dropped} (counter, tag {@code
 *       reason}): the node's buffers, back-pressure and received messages no module takes;
 *   <li>{@code mir.transport.messages.received} and {@code mir.transport.dropped} (counters, the
 *       latter tagged {@code reason});
 *   <li>per peer: {@code mir.transport.peer.messages.sent}, {@code ...messages.received}, {@code
 *       ...bytes.sent}, {@code ...bytes.received}, {@code ...dropped}, {@code ...reconnects}
 *       (counters, only those the transport keeps) and {@code mir.transport.peer.connected}
 *       (gauge);
 *   <li>ordering progress, reported by the protocol modules ({@link NodeMetrics#ordering}): {@code
 *       mir.ordering.requests.applied} and {@code mir.ordering.batches.applied} (counters: requests
 *       and batches the application applied), {@code mir.ordering.certificates.delivered} (counter,
 *       tag {@code outcome}: {@code ordered} or {@code aborted}), {@code
 *       mir.ordering.commit.latency} (timer with histogram buckets from 1 ms to 60 s: from this
 *       node's proposal to its delivery, for certificates this node proposed), {@code
 *       mir.ordering.view.changes} (counter, tag {@code cause}), {@code mir.ordering.epoch} (gauge:
 *       the current epoch), {@code mir.ordering.epochs.completed}, {@code
 *       mir.ordering.checkpoints.stable}, {@code mir.ordering.checkpoints.installed} (counters) and
 *       {@code mir.ordering.checkpoint.sn} (gauge: sequence number of the newest stable
 *       checkpoint).
 * </ul>
 *
 * <p>The node's hot path only does a few ordered stores per batch into fields of this binding (and
 * reads the clock for one batch in a sample); Micrometer reads them when the registry is scraped.
 * The meters hold their sources strongly: they live as long as the registry (remove them from the
 * registry to let a stopped node go). Peers that a transport comes to know later get their meters
 * at the next {@link #refresh()} (the {@link PrometheusEndpoint} calls it before every scrape).
 * Thread-safe.
 */
public final class MicrometerMetrics {
  /** How long a transport's snapshot is reused by the meters that read it. */
  static final long SNAPSHOT_TTL_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

  private final MeterRegistry registry;
  private final List<Transport> transports = new CopyOnWriteArrayList<>();
  // Micrometer's function meters hold their sources weakly: keep them alive with the registry.
  private final List<Object> sources = new CopyOnWriteArrayList<>();

  /** The default {@link #MicrometerMetrics(MeterRegistry, int) timing sample period}. */
  public static final int DEFAULT_TIMING_SAMPLE_PERIOD = 256;

  /** Batches of at least this many events are always timed. */
  public static final int ALWAYS_TIMED_EVENTS = 64;

  private final int timingSamplePeriod;
  private final boolean countEventTypes;
  // The ordering meters of each node, shared by every recorder given out for it.
  private final Map<String, OrderingMeters> orderingMeters = new ConcurrentHashMap<>();

  /**
   * Publishes into {@code registry}, timing one batch in {@value #DEFAULT_TIMING_SAMPLE_PERIOD}.
   */
  public MicrometerMetrics(MeterRegistry registry) {
    this(registry, DEFAULT_TIMING_SAMPLE_PERIOD);
  }

  /**
   * Publishes into {@code registry}, timing every batch of at least {@value #ALWAYS_TIMED_EVENTS}
   * events and one in {@code timingSamplePeriod} of the smaller ones of each module (1: every
   * batch). Reading the clock costs tens of nanoseconds, more than the engine's own work per event,
   * so timing every small batch would slow a module down; the time a module spends is estimated
   * from the sample.
   *
   * @throws IllegalArgumentException if {@code timingSamplePeriod} is below 1
   */
  public MicrometerMetrics(MeterRegistry registry, int timingSamplePeriod) {
    this(registry, timingSamplePeriod, false);
  }

  /**
   * Like {@link #MicrometerMetrics(MeterRegistry, int)}; with {@code countEventTypes}, also counts
   * the events each module applies by payload type ({@code mir.module.event.types}, tag {@code
   * type}), which shows protocol progress such as epochs ({@code mir.iss.NewEpoch}) or delivered
   * certificates ({@code mir.iss.DeliverCert}) at the cost of a counter increment per event.
   */
  public MicrometerMetrics(
      MeterRegistry registry, int timingSamplePeriod, boolean countEventTypes) {
    this.countEventTypes = countEventTypes;
    this.registry = Objects.requireNonNull(registry, "registry");
    if (timingSamplePeriod < 1) {
      throw new IllegalArgumentException(
          "timingSamplePeriod must be at least 1, got " + timingSamplePeriod);
    }
    this.timingSamplePeriod = timingSamplePeriod;
  }

  /** The registry meters are published into. */
  public MeterRegistry registry() {
    return registry;
  }

  /** The metrics of node {@code node}, to pass to {@code Node.Builder.metrics}. */
  public NodeMetrics forNode(NodeId node) {
    Objects.requireNonNull(node, "node");
    return new ForNode(node.value());
  }

  /** Registers the meters of peers that transports came to know since the last call. */
  public void refresh() {
    for (Transport t : transports) {
      t.registerNewPeers();
    }
  }

  /**
   * One module's counters, written by its worker thread only, read by scrapes. Every batch is
   * counted. Batches of at least {@link #ALWAYS_TIMED_EVENTS} events are always timed (the clock
   * costs little next to them), smaller ones one in {@code samplePeriod}; each timed batch counts
   * for the batches it stands for (the total time is an unbiased estimate).
   */
  static final class ModuleCounters implements ModuleMetrics {
    private static final VarHandle SLOTS = MethodHandles.arrayElementVarHandle(long[].class);
    // The counters sit in the middle of an array, a cache line away from anything else, so that
    // the worker threads of different modules do not slow each other down (false sharing).
    private static final int EVENTS = 8;
    private static final int BATCHES = 9;
    private static final int WEIGHTED_NANOS = 10;
    private static final int UNTIL_TIMED = 11;
    private static final int WEIGHT = 12;
    private final long[] slots = new long[WEIGHT + 9];
    private final int samplePeriod;
    private final Function<Descriptor, Counter> typeCounter;
    // Worker thread only.
    private final IdentityHashMap<Descriptor, Counter> types = new IdentityHashMap<>();

    ModuleCounters(int samplePeriod, Function<Descriptor, Counter> typeCounter) {
      this.samplePeriod = samplePeriod;
      this.typeCounter = typeCounter;
    }

    @Override
    public boolean countsEventTypes() {
      return typeCounter != null;
    }

    @Override
    public void eventApplied(Descriptor payloadType) {
      Counter c = types.get(payloadType);
      if (c == null) {
        c = typeCounter.apply(payloadType);
        types.put(payloadType, c);
      }
      c.increment();
    }

    @Override
    public boolean timeBatch(int events) {
      if (events >= ALWAYS_TIMED_EVENTS) {
        slots[WEIGHT] = 1;
        return true;
      }
      if (--slots[UNTIL_TIMED] > 0) {
        return false;
      }
      slots[UNTIL_TIMED] = samplePeriod;
      slots[WEIGHT] = samplePeriod;
      return true;
    }

    @Override
    public void batchApplied(int n, long elapsedNanos) {
      // One writer: plain read, release write; no read-modify-write is needed.
      SLOTS.setRelease(slots, EVENTS, slots[EVENTS] + n);
      SLOTS.setRelease(slots, BATCHES, slots[BATCHES] + 1);
      if (elapsedNanos != NOT_TIMED) {
        SLOTS.setRelease(
            slots, WEIGHTED_NANOS, slots[WEIGHTED_NANOS] + elapsedNanos * slots[WEIGHT]);
      }
    }

    private long read(int slot) {
      return (long) SLOTS.getAcquire(slots, slot);
    }

    long events() {
      return read(EVENTS);
    }

    long batches() {
      return read(BATCHES);
    }

    double totalMillis() {
      return read(WEIGHTED_NANOS) / 1e6;
    }
  }

  private final class ForNode implements NodeMetrics {
    private final String node;

    ForNode(String node) {
      this.node = node;
    }

    @Override
    public ModuleMetrics module(ModuleId module, ModuleGauges gauges) {
      Tags tags = Tags.of("node", node, "module", module.value());
      ModuleCounters c =
          new ModuleCounters(
              timingSamplePeriod,
              !countEventTypes
                  ? null
                  : type ->
                      Counter.builder("mir.module.event.types")
                          .description("events applied by the module, by payload type")
                          .tags(tags.and("type", type.getFullName()))
                          .register(registry));
      sources.add(c);
      sources.add(gauges);
      FunctionCounter.builder("mir.module.events", c, ModuleCounters::events)
          .description("events applied by the module")
          .tags(tags)
          .register(registry);
      FunctionCounter.builder("mir.module.batches", c, ModuleCounters::batches)
          .description("batches applied by the module")
          .tags(tags)
          .register(registry);
      FunctionTimer.builder(
              "mir.module.apply",
              c,
              ModuleCounters::batches,
              ModuleCounters::totalMillis,
              TimeUnit.MILLISECONDS)
          .description("time spent in applyEvents")
          .tags(tags)
          .register(registry);
      Gauge.builder("mir.module.queue", gauges, g -> g.bufferedEvents())
          .description("events waiting in the module's buffer")
          .tags(tags)
          .strongReference(true)
          .register(registry);
      return c;
    }

    @Override
    public void node(NodeGauges gauges) {
      sources.add(gauges);
      Tags tags = Tags.of("node", node);
      Gauge.builder("mir.node.buffered.events", gauges, g -> g.bufferedEvents())
          .description("events buffered in the node")
          .tags(tags)
          .strongReference(true)
          .register(registry);
      Gauge.builder("mir.node.buffered.bytes", gauges, g -> g.bufferedBytes())
          .description("serialized bytes of the buffered events' payloads")
          .tags(tags)
          .strongReference(true)
          .register(registry);
      Gauge.builder("mir.node.input.paused", gauges, g -> g.inputPaused() ? 1 : 0)
          .description("1 while input from active modules is paused (back-pressure)")
          .tags(tags)
          .strongReference(true)
          .register(registry);
      FunctionCounter.builder("mir.node.messages.dropped", gauges, g -> g.droppedMessages())
          .description("received messages dropped by the node")
          .tags(tags.and("reason", "no_receiving_module"))
          .register(registry);
    }

    @Override
    public OrderingMetrics ordering(LongSupplier nanoClock) {
      Objects.requireNonNull(nanoClock, "nanoClock");
      return new OrderingRecorder(
          orderingMeters.computeIfAbsent(node, OrderingMeters::new), nanoClock);
    }

    @Override
    public void transport(ModuleId module, TransportStats stats) {
      Transport t = new Transport(node, module.value(), stats);
      sources.add(stats);
      transports.add(t);
      t.registerTotals();
      t.registerNewPeers();
    }
  }

  /** The upper bounds of the commit latency histogram's buckets (1-2-5 steps, 1 ms to 60 s). */
  static final Duration[] LATENCY_BUCKETS = latencyBuckets();

  private static Duration[] latencyBuckets() {
    List<Duration> out = new java.util.ArrayList<>();
    for (long decade = 1; decade <= 1_000; decade *= 10) {
      for (long step : new long[] {1, 2, 5}) {
        out.add(Duration.ofMillis(decade * step));
      }
    }
    for (long seconds : new long[] {10, 20, 30, 60}) {
      out.add(Duration.ofSeconds(seconds));
    }
    return out.toArray(Duration[]::new);
  }

  /** The ordering meters of one node. */
  private final class OrderingMeters {
    final Tags tags;
    final Counter requests;
    final Counter batches;
    final Counter ordered;
    final Counter aborted;
    final Timer commitLatency;
    final Map<String, Counter> viewChanges = new ConcurrentHashMap<>();
    final AtomicLong epoch = new AtomicLong();
    final Counter epochsCompleted;
    final Counter checkpointsStable;
    final Counter checkpointsInstalled;
    final AtomicLong checkpointSn = new AtomicLong();

    OrderingMeters(String node) {
      tags = Tags.of("node", node);
      requests =
          Counter.builder("mir.ordering.requests.applied")
              .description("requests applied by the application")
              .tags(tags)
              .register(registry);
      batches =
          Counter.builder("mir.ordering.batches.applied")
              .description("ordered batches applied by the application")
              .tags(tags)
              .register(registry);
      ordered = delivered("ordered");
      aborted = delivered("aborted");
      commitLatency =
          Timer.builder("mir.ordering.commit.latency")
              .description(
                  "time from this node's proposal of a certificate to its delivery at this node")
              .tags(tags)
              .serviceLevelObjectives(LATENCY_BUCKETS)
              .register(registry);
      Gauge.builder("mir.ordering.epoch", epoch, AtomicLong::get)
          .description("the epoch the node is in")
          .tags(tags)
          .strongReference(true)
          .register(registry);
      epochsCompleted =
          Counter.builder("mir.ordering.epochs.completed")
              .description("epochs the node finished")
              .tags(tags)
              .register(registry);
      checkpointsStable =
          Counter.builder("mir.ordering.checkpoints.stable")
              .description("stable checkpoints agreed")
              .tags(tags)
              .register(registry);
      checkpointsInstalled =
          Counter.builder("mir.ordering.checkpoints.installed")
              .description("stable checkpoints installed from other nodes (state transfers)")
              .tags(tags)
              .register(registry);
      Gauge.builder("mir.ordering.checkpoint.sn", checkpointSn, AtomicLong::get)
          .description("sequence number of the newest stable checkpoint")
          .tags(tags)
          .strongReference(true)
          .register(registry);
      // Register the usual causes at once, so that a scrape shows them at 0.
      viewChange("sn_timeout");
      viewChange("segment_timeout");
    }

    private Counter delivered(String outcome) {
      return Counter.builder("mir.ordering.certificates.delivered")
          .description("certificates delivered in order by the ordering protocol")
          .tags(tags.and("outcome", outcome))
          .register(registry);
    }

    Counter viewChange(String cause) {
      return viewChanges.computeIfAbsent(
          cause,
          c ->
              Counter.builder("mir.ordering.view.changes")
                  .description("view changes started by this node's orderers")
                  .tags(tags.and("cause", c))
                  .register(registry));
    }
  }

  /** What one node's protocol modules report to, timed with the clock they were given. */
  private static final class OrderingRecorder implements OrderingMetrics {
    private final OrderingMeters m;
    private final LongSupplier clock;

    OrderingRecorder(OrderingMeters m, LongSupplier clock) {
      this.m = m;
      this.clock = clock;
    }

    @Override
    public long nanoTime() {
      return clock.getAsLong();
    }

    @Override
    public void requestsApplied(int requests) {
      m.batches.increment();
      m.requests.increment(requests);
    }

    @Override
    public void certificateDelivered(boolean aborted) {
      (aborted ? m.aborted : m.ordered).increment();
    }

    @Override
    public void committed(long nanos) {
      m.commitLatency.record(Math.max(0, nanos), TimeUnit.NANOSECONDS);
    }

    @Override
    public void viewChangeStarted(String cause) {
      m.viewChange(Objects.requireNonNullElse(cause, "unknown")).increment();
    }

    @Override
    public void epochStarted(long epoch) {
      m.epoch.set(epoch);
    }

    @Override
    public void epochCompleted(long epoch) {
      m.epochsCompleted.increment();
    }

    @Override
    public void checkpointStable(long epoch, long sn) {
      m.checkpointsStable.increment();
      m.checkpointSn.accumulateAndGet(sn, Math::max);
    }

    @Override
    public void checkpointInstalled(long epoch) {
      m.checkpointsInstalled.increment();
    }
  }

  /** The meters of one transport module. */
  private final class Transport {
    private final String node;
    private final String module;
    private final TransportStats stats;
    private final Set<NodeId> peers = new HashSet<>();
    private final Set<String> reasons = new HashSet<>();
    private volatile Map<NodeId, PeerStats> snapshot = Map.of();
    private volatile long snapshotAt;

    Transport(String node, String module, TransportStats stats) {
      this.node = node;
      this.module = module;
      this.stats = stats;
    }

    private Map<NodeId, PeerStats> snapshot() {
      long now = System.nanoTime();
      if (now - snapshotAt > SNAPSHOT_TTL_NANOS) {
        snapshot = stats.peerStats();
        snapshotAt = now;
      }
      return snapshot;
    }

    void registerTotals() {
      Tags tags = Tags.of("node", node, "transport", module);
      if (stats.messagesReceived() != TransportStats.UNKNOWN) {
        FunctionCounter.builder("mir.transport.messages.received", stats, s -> s.messagesReceived())
            .description("messages received from all peers")
            .tags(tags)
            .register(registry);
      }
    }

    synchronized void registerNewPeers() {
      Tags tags = Tags.of("node", node, "transport", module);
      for (String reason : stats.droppedByReason().keySet()) {
        if (reasons.add(reason)) {
          FunctionCounter.builder(
                  "mir.transport.dropped", stats, s -> s.droppedByReason().getOrDefault(reason, 0L))
              .description("messages dropped by the transport")
              .tags(tags.and("reason", reason))
              .register(registry);
        }
      }
      snapshotAt = 0;
      for (Map.Entry<NodeId, PeerStats> e : snapshot().entrySet()) {
        NodeId peer = e.getKey();
        if (!peers.add(peer)) {
          continue;
        }
        Tags pt = tags.and("peer", peer.value());
        PeerStats first = e.getValue();
        counter(
            "mir.transport.peer.messages.sent",
            "messages sent",
            pt,
            peer,
            first,
            PeerStats::messagesSent);
        counter(
            "mir.transport.peer.messages.received",
            "messages received",
            pt,
            peer,
            first,
            PeerStats::messagesReceived);
        counter(
            "mir.transport.peer.bytes.sent",
            "payload bytes sent",
            pt,
            peer,
            first,
            PeerStats::bytesSent);
        counter(
            "mir.transport.peer.bytes.received",
            "payload bytes received",
            pt,
            peer,
            first,
            PeerStats::bytesReceived);
        counter(
            "mir.transport.peer.dropped", "messages dropped", pt, peer, first, PeerStats::dropped);
        counter(
            "mir.transport.peer.reconnects",
            "connections re-established",
            pt,
            peer,
            first,
            PeerStats::reconnects);
        Gauge.builder(
                "mir.transport.peer.connected",
                this,
                t -> {
                  PeerStats p = t.snapshot().get(peer);
                  return p != null && p.connected() ? 1 : 0;
                })
            .description("1 while the peer is connected")
            .tags(pt)
            .strongReference(true)
            .register(registry);
      }
    }

    private void counter(
        String name,
        String description,
        Tags tags,
        NodeId peer,
        PeerStats first,
        ToLongFunction<PeerStats> value) {
      if (value.applyAsLong(first) == TransportStats.UNKNOWN) {
        return;
      }
      FunctionCounter.builder(
              name,
              this,
              t -> {
                PeerStats p = t.snapshot().get(peer);
                return p == null ? 0 : Math.max(0, value.applyAsLong(p));
              })
          .description(description)
          .tags(tags)
          .register(registry);
    }
  }
}
