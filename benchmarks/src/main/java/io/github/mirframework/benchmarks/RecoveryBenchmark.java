package io.github.mirframework.benchmarks;

import com.google.protobuf.ByteString;
import io.github.mirframework.checkpoint.pb.StableCheckpoint;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.crypto.PseudoCrypto;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.PayloadRegistry;
import io.github.mirframework.iss.Iss;
import io.github.mirframework.iss.IssEvents;
import io.github.mirframework.iss.pb.PersistedCheckpoint;
import io.github.mirframework.iss.pbft.pb.Commit;
import io.github.mirframework.iss.pbft.pb.PbftEvent;
import io.github.mirframework.iss.pbft.pb.PrepareEntry;
import io.github.mirframework.iss.pbft.pb.Preprepare;
import io.github.mirframework.mempool.SimpleMempool;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.net.Membership;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.node.Node;
import io.github.mirframework.timer.TimerModule;
import io.github.mirframework.trantor.AppLogic;
import io.github.mirframework.trantor.Trantor;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import io.github.mirframework.types.RetentionIndex;
import io.github.mirframework.wal.file.FileWal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Restart-to-ready time of a Trantor replica whose {@link FileWal} holds {@code entries} entries
 * (issue 10, item 3; target ≤ 2 s for 100,000 entries).
 *
 * <p>The log is written once per trial in a temporary directory under {@code root} (deleted
 * afterwards), as a replica of a 4-node system would have left it in one epoch with long segments:
 * its latest stable checkpoint, then for each of the 4 segments and each sequence number a Prepare
 * entry (the Preprepare with a 200-byte certificate, and its digest) and a Commit entry, and the
 * replica's own proposals (segment 0) before their Prepare entries. The segment length is chosen so
 * that the log holds {@code entries} entries.
 *
 * <p>Each invocation measures one restart, from opening the log ({@link FileWal#open}: read, check
 * and decode every record) through building the Trantor modules and starting the {@link Node}
 * (replay of every entry into ISS and its orderers before Init, then Init: restoring the slots and
 * views, resending the replica's persisted votes, restoring the application from the checkpoint)
 * until the application has been restored, i.e. the replica is ready to order again. The network is
 * a sink, so the votes it resends cost only their events. The node is closed after each invocation
 * (not measured).
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3)
@Measurement(iterations = 10)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
public class RecoveryBenchmark {
  static final List<NodeId> NODES = NodeId.range(4);
  static final NodeId SELF = NODES.get(0);
  static final Membership MEMBERSHIP =
      new Membership(
          NODES.stream()
              .collect(
                  Collectors.toMap(
                      Function.identity(), n -> NodeAddress.of("10.0.0." + n.value(), 7000))));
  static final ModuleId ISS = Iss.DEFAULT_ID;
  static final ModuleId WAL = ModuleId.of("wal");

  /** The state of one trial: the log and the parameters matching it. */
  @State(Scope.Thread)
  public static class LogState {
    /** Entries in the log (approximately: whole sequence numbers). */
    @Param({"100000"})
    int entries;

    /** Where the temporary log goes. */
    @Param({"/tmp"})
    String root;

    Path dir;
    Trantor.Params params;
    StableCheckpoint genesis;
    PayloadRegistry registry;
    Node node;
    FileWal wal;
    // Phases of the last restart: open (read, check, decode the log), build (modules and node),
    // replay (start: the entries into ISS and the orderers, Init, restore the application).
    long openNs;
    long buildNs;
    long replayNs;
    // main only: a log directory kept between runs (written by the first), or null.
    Path keptDir;

    @Setup(Level.Trial)
    public void writeLog() throws Exception {
      // Per sequence number: Prepare + Commit in each of 4 segments, plus one own proposal.
      int segmentLength = Math.max(1, entries / (NODES.size() * 2 + 1));
      params =
          new Trantor.Params(
              SimpleMempool.Params.defaults(),
              Iss.Params.defaults(MEMBERSHIP).withSegmentLength(segmentLength));
      genesis = Trantor.genesisCheckpoint(ByteString.EMPTY, params);
      registry = PayloadRegistry.withCoreTypes().registerAll(IssEvents.payloadTypes());
      if (keptDir != null && java.nio.file.Files.exists(keptDir.resolve("done"))) {
        dir = keptDir; // written by an earlier run
        return;
      }
      dir = keptDir != null ? keptDir : WalBenchmark.newTempDir(root, "mir-recovery-bench");
      try (FileWal wal = FileWal.open(dir, registry)) {
        EventList batch = EventList.empty();
        batch.add(
            Events.walAppend(
                WAL,
                Event.of(ISS, PersistedCheckpoint.newBuilder().setCheckpoint(genesis).build()),
                RetentionIndex.of(0)));
        byte[] cert = new byte[200];
        byte[] digest = new byte[32];
        int leaders = NODES.size();
        for (int instance = 0; instance < leaders; instance++) {
          for (int k = 0; k < segmentLength; k++) {
            long sn = instance + (long) k * leaders;
            cert[0] = (byte) sn;
            digest[0] = (byte) sn;
            digest[1] = (byte) (sn >> 8);
            digest[2] = (byte) (sn >> 16);
            Preprepare pp =
                Preprepare.newBuilder()
                    .setSn(sn)
                    .setView(0)
                    .setCertData(ByteString.copyFrom(cert))
                    .build();
            ByteString d = ByteString.copyFrom(digest);
            if (instance == 0) {
              batch.add(entry(instance, PbftEvent.newBuilder().setPersistPreprepare(pp).build()));
            }
            batch.add(
                entry(
                    instance,
                    PbftEvent.newBuilder()
                        .setPersistPrepare(PrepareEntry.newBuilder().setPreprepare(pp).setDigest(d))
                        .build()));
            batch.add(
                entry(
                    instance,
                    PbftEvent.newBuilder()
                        .setPersistCommit(
                            Commit.newBuilder().setSn(sn).setView(0).setDigest(d).build())
                        .build()));
            if (batch.size() >= 1024) {
              wal.applyEvents(batch);
              batch = EventList.empty();
            }
          }
        }
        wal.applyEvents(batch);
      }
      if (keptDir != null) {
        java.nio.file.Files.createFile(keptDir.resolve("done"));
      }
    }

    static Event entry(int instance, PbftEvent e) {
      return Events.walAppend(WAL, IssEvents.sbEvent(ISS, 0, instance, e), RetentionIndex.of(0));
    }

    @TearDown(Level.Invocation)
    public void closeNode() throws Exception {
      if (node != null) {
        node.close();
        node = null;
      }
      if (wal != null) {
        wal.close();
        wal = null;
      }
    }

    @TearDown(Level.Trial)
    public void deleteLog() throws Exception {
      if (keptDir == null) {
        WalBenchmark.deleteRecursively(dir);
      }
    }
  }

  /** A network that drops everything (the resent votes only cost their events). */
  static final class Sink implements PassiveModule {
    @Override
    public EventList applyEvents(EventList events) {
      return EventList.empty();
    }
  }

  /** Opens the log, builds and starts the replica, and waits until it is ready. */
  @Benchmark
  public void restartToReady(LogState s) throws Exception {
    CountDownLatch restored = new CountDownLatch(1);
    AppLogic.Static app =
        new AppLogic.Static() {
          @Override
          public void applyTxs(List<Request> txs) {}

          @Override
          public ByteString snapshot() {
            return ByteString.EMPTY;
          }

          @Override
          public void restoreState(StableCheckpoint checkpoint) {
            restored.countDown();
          }
        };
    long t0 = System.nanoTime();
    FileWal wal = FileWal.open(s.dir, s.registry);
    s.wal = wal;
    long t1 = System.nanoTime();
    Map<ModuleId, io.github.mirframework.module.Module> modules =
        Trantor.modules(
            SELF,
            null,
            s.genesis,
            PseudoCrypto.create(NODES, SELF),
            AppLogic.fromStatic(app, MEMBERSHIP),
            s.params);
    s.node =
        Node.builder(SELF)
            .modules(modules)
            .module(Trantor.NET, new Sink())
            .module("timer", new TimerModule())
            .module(WAL, wal)
            .wal(wal)
            .build();
    long t2 = System.nanoTime();
    s.node.start();
    if (!restored.await(60, TimeUnit.SECONDS)) {
      throw new IllegalStateException("the replica did not get ready within 60 s");
    }
    long t3 = System.nanoTime();
    s.openNs = t1 - t0;
    s.buildNs = t2 - t1;
    s.replayNs = t3 - t2;
  }

  /**
   * Restarts {@code args[1]} times (default 8) from one log of {@code args[0]} entries (default
   * 100,000) and prints wall and process CPU time of each restart, by phase: a quick measurement
   * without JMH. The first restart runs in a cold JVM, as a real restart does. With {@code
   * args[2]}, a directory, the log is kept there: the first run writes it, later runs only restart
   * from it, so that {@code RecoveryBenchmark 100000 1 DIR} in a fresh JVM measures a process
   * restart (JVM start to ready is printed).
   */
  public static void main(String[] args) throws Exception {
    long jvmStart = java.lang.management.ManagementFactory.getRuntimeMXBean().getStartTime();
    LogState s = new LogState();
    s.entries = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
    int restarts = args.length > 1 ? Integer.parseInt(args[1]) : 8;
    s.root = "/tmp";
    if (args.length > 2) {
      s.keptDir = java.nio.file.Files.createDirectories(Path.of(args[2]));
    }
    long w0 = System.currentTimeMillis();
    s.writeLog();
    System.out.println(
        "JVM start to main: "
            + (w0 - jvmStart)
            + " ms; writing the log: "
            + (System.currentTimeMillis() - w0)
            + " ms");
    RecoveryBenchmark b = new RecoveryBenchmark();
    try {
      var os =
          (com.sun.management.OperatingSystemMXBean)
              java.lang.management.ManagementFactory.getOperatingSystemMXBean();
      for (int i = 0; i < restarts; i++) {
        long cpu0 = os.getProcessCpuTime();
        long t0 = System.nanoTime();
        b.restartToReady(s);
        long ms = Duration.ofNanos(System.nanoTime() - t0).toMillis();
        if (i == 0) {
          System.out.println(
              "JVM start to ready (first restart): "
                  + (System.currentTimeMillis() - jvmStart)
                  + " ms");
        }
        long cpuMs = Duration.ofNanos(os.getProcessCpuTime() - cpu0).toMillis();
        System.out.println(
            "restart-to-ready with "
                + s.entries
                + " entries: "
                + ms
                + " ms wall (open "
                + Duration.ofNanos(s.openNs).toMillis()
                + ", build "
                + Duration.ofNanos(s.buildNs).toMillis()
                + ", replay and Init "
                + Duration.ofNanos(s.replayNs).toMillis()
                + "), "
                + cpuMs
                + " ms CPU (all threads, incl. GC and JIT)");
        s.closeNode();
      }
    } finally {
      s.closeNode();
      s.deleteLog();
    }
  }
}
