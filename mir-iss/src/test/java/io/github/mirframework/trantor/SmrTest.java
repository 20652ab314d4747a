package io.github.mirframework.trantor;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.github.mirframework.checkpoint.StableCheckpoints;
import io.github.mirframework.checkpoint.pb.StableCheckpoint;
import io.github.mirframework.client.ClientEvents;
import io.github.mirframework.client.MirClient;
import io.github.mirframework.client.RequestReceiver;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.crypto.PseudoCrypto;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.PayloadRegistry;
import io.github.mirframework.eventlog.LogReader;
import io.github.mirframework.eventlog.RecordedEntry;
import io.github.mirframework.eventlog.RecordedEvent;
import io.github.mirframework.eventlog.Recorder;
import io.github.mirframework.iss.Iss;
import io.github.mirframework.iss.IssEvents;
import io.github.mirframework.mempool.SimpleMempool;
import io.github.mirframework.module.Module;
import io.github.mirframework.net.Membership;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.net.grpc.GrpcTransportProvider;
import io.github.mirframework.net.grpc.NodeIdentity;
import io.github.mirframework.sim.Simulation;
import io.github.mirframework.testing.Deployment;
import io.github.mirframework.types.ClientId;
import io.github.mirframework.types.EpochNr;
import io.github.mirframework.types.LittleEndian;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import io.github.mirframework.wal.file.FileWal;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Mir's SMR test table ({@code TestIntegration} in {@code pkg/systems/trantor/smr_test.go} at
 * 1684d3c1), one row per case, plus one row Mir does not have. Every row runs the whole Trantor
 * stack ({@link Trantor#modules}) with an application that counts the requests it applies (Mir's
 * {@code FakeApp}), records every node's events with a {@code Recorder}, and then checks {@link
 * SmrProperties} (Mir's {@code checkEventTraces}) on the logs read back from disk: every correct
 * node applies every submitted request exactly once, in the same order.
 *
 * <p>Mapping of Mir's cases (Mir's "fake" transport is Mir-Java's in-process transport):
 *
 * <ul>
 *   <li>0, 1, 2, 3, 4: in-process, 1 or 4 nodes; 3 is the WAL-reload case;
 *   <li>5, 6, 7: gRPC with mutual TLS;
 *   <li>11 to 16: the deterministic simulation; 14 is the WAL-reload case.
 * </ul>
 *
 * <p><b>Not ported:</b> cases 8, 9 and 10 use Mir's libp2p transport, which Mir-Java does not have
 * (its network transport is gRPC); the same cases over gRPC are 5, 6 and 7.
 *
 * <p><b>Differences from Mir.</b> Mir runs each case for a fixed time; here a row runs until every
 * node has applied all requests (or, with none, until every node has started epoch 3, so that
 * checkpoints were taken and epochs advanced), with a deadline. Requests "submitted directly"
 * (Mir's fake requests) are injected into every node's mempool, one event per request, as client
 * {@code "0"}. Requests "through the client" go from a real {@link MirClient} (client {@code "1"})
 * to a {@link RequestReceiver} on every node (TLS, keys pinned), which injects them into the
 * mempool. In the simulation there is no gRPC: the client is simulated by the test, which injects
 * request k of client {@code "1"} into every running node at virtual time k ms, one event per
 * request, as a request receiver does. The "slow proposer" is node 0 with its proposal delay raised
 * to the PBFT sequence-number timeout, as in Mir, so that its segments go through view changes.
 * WAL-reload rows: after every request has been applied, the node is stopped and started again over
 * the same write-ahead log (replayed before {@code Init}; asserted to be non-empty), with a new
 * application from the genesis checkpoint, and the same requests are submitted again, as Mir's case
 * does by reusing the first deployment's directory; the properties are then checked over both runs,
 * so the restarted node must apply the same sequence again. The extra row (not in Mir) crashes node
 * 3 of 4 midway and restarts it with its WAL: it must catch up by state transfer.
 *
 * <p>Run one simulated row with another seed: {@code -Dmir.sim.seed=N}.
 */
@Timeout(120)
class SmrTest {
  static final ModuleId TIMER = ModuleId.of("timer");
  static final ModuleId WAL = ModuleId.of("wal");
  static final ModuleId MEMPOOL = SimpleMempool.DEFAULT_ID;
  static final long KEY_SEED = 11;

  enum Net {
    SIM,
    IN_PROCESS,
    GRPC
  }

  enum Source {
    DIRECT,
    CLIENT
  }

  /**
   * One case of the table.
   *
   * @param mir Mir's case number and description
   * @param restart what happens midway: nothing, a WAL reload of node 0 (1 node), or a crash and
   *     WAL restart of node 3 (4 nodes)
   */
  record Case(
      String mir,
      Net net,
      int nodes,
      int requests,
      Source source,
      boolean slowNode0,
      Restart restart) {
    @Override
    public String toString() {
      return mir;
    }
  }

  enum Restart {
    NONE,
    WAL_RELOAD,
    CRASH_NODE_3
  }

  static Stream<Case> table() {
    return Stream.of(
        new Case(
            "000 do nothing with 1 node (in-process)",
            Net.IN_PROCESS,
            1,
            0,
            Source.DIRECT,
            false,
            Restart.NONE),
        new Case(
            "001 do nothing with 4 nodes, one of them slow (in-process)",
            Net.IN_PROCESS,
            4,
            0,
            Source.DIRECT,
            true,
            Restart.NONE),
        new Case(
            "002 submit 10 fake requests with 1 node (in-process)",
            Net.IN_PROCESS,
            1,
            10,
            Source.DIRECT,
            false,
            Restart.NONE),
        new Case(
            "003 submit 10 fake requests with 1 node, loading WAL (in-process)",
            Net.IN_PROCESS,
            1,
            10,
            Source.DIRECT,
            false,
            Restart.WAL_RELOAD),
        new Case(
            "004 submit 100 fake requests with 4 nodes, one of them slow (in-process)",
            Net.IN_PROCESS,
            4,
            100,
            Source.DIRECT,
            true,
            Restart.NONE),
        new Case(
            "005 submit 10 fake requests with 4 nodes and gRPC networking",
            Net.GRPC,
            4,
            10,
            Source.DIRECT,
            false,
            Restart.NONE),
        new Case(
            "006 submit 10 requests with 1 node and gRPC networking (client)",
            Net.GRPC,
            1,
            10,
            Source.CLIENT,
            false,
            Restart.NONE),
        new Case(
            "007 submit 10 requests with 4 nodes and gRPC networking (client)",
            Net.GRPC,
            4,
            10,
            Source.CLIENT,
            false,
            Restart.NONE),
        new Case(
            "011 do nothing with 1 node in simulation",
            Net.SIM,
            1,
            0,
            Source.DIRECT,
            false,
            Restart.NONE),
        new Case(
            "012 do nothing with 4 nodes in simulation, one of them slow",
            Net.SIM,
            4,
            0,
            Source.DIRECT,
            true,
            Restart.NONE),
        new Case(
            "013 submit 10 fake requests with 1 node in simulation",
            Net.SIM,
            1,
            10,
            Source.DIRECT,
            false,
            Restart.NONE),
        new Case(
            "014 submit 10 fake requests with 1 node in simulation, loading WAL",
            Net.SIM,
            1,
            10,
            Source.DIRECT,
            false,
            Restart.WAL_RELOAD),
        new Case(
            "015 submit 100 fake requests with 1 node in simulation",
            Net.SIM,
            1,
            100,
            Source.DIRECT,
            false,
            Restart.NONE),
        new Case(
            "016 submit 100 fake requests with 4 nodes in simulation, one of them slow",
            Net.SIM,
            4,
            100,
            Source.DIRECT,
            true,
            Restart.NONE),
        new Case(
            "s01 (not in Mir) 100 requests through the simulated client, 4 nodes, node 3 crashes"
                + " and restarts with its WAL",
            Net.SIM,
            4,
            100,
            Source.CLIENT,
            false,
            Restart.CRASH_NODE_3));
  }

  /** Mir's FakeApp: its state is the number of requests applied. Thread-safe for reading. */
  static final class CountingApp implements AppLogic {
    final Membership membership;
    final AtomicInteger applied = new AtomicInteger();
    final AtomicLong epoch = new AtomicLong();

    CountingApp(Membership membership) {
      this.membership = membership;
    }

    @Override
    public void applyTxs(List<Request> txs) {
      applied.addAndGet(txs.size());
    }

    @Override
    public Membership newEpoch(EpochNr e) {
      epoch.set(e.value());
      return membership;
    }

    @Override
    public ByteString snapshot() {
      return ByteString.copyFrom(LittleEndian.u64(applied.get()));
    }

    @Override
    public void restoreState(StableCheckpoint checkpoint) {
      applied.set((int) LittleEndian.u64(checkpoint.getSnapshot().getAppData().toByteArray()));
      epoch.set(StableCheckpoints.epoch(checkpoint).value());
    }
  }

  /** The proposal period: virtual time is free; real networks get room for a busy machine. */
  static Duration period(Net net) {
    return switch (net) {
      case SIM, IN_PROCESS -> Duration.ofMillis(100);
      // See docs/iss-parts.md (requests in aborted batches are lost): keep gRPC conservative.
      case GRPC -> Duration.ofMillis(500);
    };
  }

  /** Mir's slow proposer: the proposal delay is the SN timeout, so view changes are likely. */
  static Iss.Params slowProposer(Iss.Params p) {
    return new Iss.Params(
        p.initialMembership(),
        p.configOffset(),
        p.segmentLength(),
        p.epochLength(),
        p.pbftViewChangeSnTimeout(),
        p.numBuckets(),
        p.leaderPolicy(),
        p.requestNAckTimeout(),
        p.msgBufCapacity(),
        p.retainedEpochs(),
        p.catchUpTimerPeriod(),
        p.checkpointResendPeriod(),
        p.pbftDoneResendPeriod(),
        p.pbftCatchUpDelay(),
        p.pbftViewChangeSnTimeout(),
        p.pbftViewChangeSegmentTimeout(),
        p.pbftViewChangeResendPeriod());
  }

  static Membership fakeMembership(List<NodeId> ids) {
    return Membership.of(
        ids.stream()
            .collect(
                Collectors.toMap(
                    Function.identity(),
                    n -> NodeAddress.of("10.0.0." + n.value(), 7000),
                    (a, b) -> a,
                    LinkedHashMap::new)));
  }

  static List<Request> requests(ClientId client, int n) {
    List<Request> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(ClientEvents.request(client, i, ByteString.copyFromUtf8("Request " + i)));
    }
    return out;
  }

  /** Everything one row needs across its deployments. */
  static final class Row {
    final Case c;
    final Path dir;
    final List<NodeId> ids;
    final Membership membership;
    final Trantor.Params params;
    final StableCheckpoint genesis;
    final Map<NodeId, CountingApp> apps = new ConcurrentHashMap<>();
    final long seed = Simulation.seedOr(7);

    Row(Case c, Path dir) {
      this.c = c;
      this.dir = dir;
      this.ids = NodeId.range(c.nodes());
      this.membership = fakeMembership(ids);
      this.params = Trantor.Params.defaults(membership).adjustSpeed(period(c.net()));
      this.genesis = Trantor.genesisCheckpoint(ByteString.copyFrom(LittleEndian.u64(0)), params);
    }

    Trantor.Params paramsOf(NodeId id) {
      return c.slowNode0() && id.equals(ids.get(0))
          ? new Trantor.Params(params.mempool(), slowProposer(params.iss()))
          : params;
    }

    Deployment deploy() {
      Deployment.Builder b =
          Deployment.builder(
                  switch (c.net()) {
                    case SIM -> Deployment.Kind.SIMULATED;
                    case IN_PROCESS -> Deployment.Kind.IN_PROCESS;
                    case GRPC -> Deployment.Kind.PROVIDED;
                  })
              .seed(seed)
              .nodes(ids)
              .recordEventsTo(dir.resolve("logs"))
              .factory(
                  (id, env) -> {
                    // A new application at every start, from the genesis state (Mir's FakeApp).
                    CountingApp app = new CountingApp(membership);
                    apps.put(id, app);
                    Map<ModuleId, Module> m =
                        Trantor.modules(
                            id, null, genesis, PseudoCrypto.create(ids, id), app, paramsOf(id));
                    m.put(Trantor.NET, env.transport());
                    m.put(TIMER, env.timer());
                    m.put(WAL, env.wal());
                    return m;
                  });
      if (c.net() == Net.GRPC) {
        b.transports(GrpcTransportProvider.insecureMutualTls(KEY_SEED));
      }
      if (c.net() == Net.IN_PROCESS && c.restart() == Restart.WAL_RELOAD) {
        PayloadRegistry types =
            PayloadRegistry.withCoreTypes().registerAll(IssEvents.payloadTypes());
        b.wals(
            id -> {
              try {
                return FileWal.open(dir.resolve("wal").resolve(id.value()), types);
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
            });
      }
      return b.build();
    }

    boolean allApplied(List<NodeId> nodes, int n) {
      return nodes.stream().allMatch(id -> apps.containsKey(id) && apps.get(id).applied.get() >= n);
    }

    boolean allInEpoch(long e) {
      return ids.stream().allMatch(id -> apps.containsKey(id) && apps.get(id).epoch.get() >= e);
    }

    String progress() {
      return ids.stream()
          .map(
              id ->
                  id
                      + ": applied "
                      + (apps.containsKey(id) ? apps.get(id).applied.get() : -1)
                      + " in epoch "
                      + (apps.containsKey(id) ? apps.get(id).epoch.get() : -1))
          .collect(Collectors.joining("; "));
    }
  }

  /** Submits the row's requests to every running node, directly or through a client. */
  static final class Submitter implements AutoCloseable {
    private final List<RequestReceiver> receivers = new ArrayList<>();
    private MirClient client;

    void submit(Row row, Deployment d, List<Request> reqs, List<NodeId> to) throws IOException {
      if (row.c.source() == Source.DIRECT) {
        for (NodeId id : to) {
          for (Request r : reqs) {
            d.inject(id, EventList.of(ClientEvents.newRequests(MEMPOOL, List.of(r))));
          }
        }
        return;
      }
      if (d.kind() == Deployment.Kind.SIMULATED) {
        Simulation sim = d.simulation().orElseThrow();
        for (int k = 0; k < reqs.size(); k++) {
          Request r = reqs.get(k);
          sim.after(
              Duration.ofMillis(k),
              () -> {
                for (NodeId id : sim.upNodes()) {
                  if (to.contains(id)) {
                    sim.inject(id, EventList.of(ClientEvents.newRequests(MEMPOOL, List.of(r))));
                  }
                }
              });
        }
        return;
      }
      Map<NodeId, NodeAddress> addresses = new LinkedHashMap<>();
      Map<NodeId, ByteString> keys = new LinkedHashMap<>();
      for (NodeId id : to) {
        NodeIdentity identity = NodeIdentity.insecureForTesting(id, KEY_SEED);
        RequestReceiver rr =
            RequestReceiver.builder(d.node(id), MEMPOOL, NodeAddress.of("127.0.0.1", 0))
                .tls(identity)
                .insecureUnauthenticatedClientsForTesting()
                .build();
        receivers.add(rr);
        rr.start();
        addresses.put(id, rr.listenAddress());
        keys.put(id, identity.publicKey());
      }
      client =
          MirClient.builder(CLIENT)
              .nodes(addresses)
              .tls(keys)
              .insecureUnsignedRequestsForTesting()
              .build();
      client.start();
      for (Request r : reqs) {
        long reqNo = client.submit(r.getData());
        assertThat(reqNo).isEqualTo(r.getReqNo());
      }
    }

    @Override
    public void close() {
      if (client != null) {
        client.close();
      }
      receivers.forEach(RequestReceiver::stop);
    }
  }

  static final ClientId FAKE_CLIENT = ClientId.of("0");
  static final ClientId CLIENT = ClientId.of("1");

  static void await(Row row, Deployment d, BooleanSupplier condition, String what)
      throws InterruptedException {
    Duration deadline =
        d.kind() == Deployment.Kind.SIMULATED
            ? Duration.ofMinutes(5)
            : period(row.c.net()).multipliedBy(120);
    boolean ok = d.runUntil(condition, deadline);
    assertThat(ok).as("%s within %s: %s", what, deadline, row.progress()).isTrue();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("table")
  void everyCorrectNodeAppliesEverySubmittedRequestOnceInTheSameOrder(Case c, @TempDir Path dir)
      throws Exception {
    Row row = new Row(c, dir);
    List<Request> submitted =
        requests(c.source() == Source.DIRECT ? FAKE_CLIENT : CLIENT, c.requests());
    Map<NodeId, List<Path>> logs;
    try (Deployment d = row.deploy();
        Submitter submitter = new Submitter()) {
      submitter.submit(row, d, submitted, row.ids);
      if (c.restart() == Restart.CRASH_NODE_3) {
        crashAndRestartNode3(row, d);
      }
      awaitTheEnd(row, d);
      if (c.restart() == Restart.WAL_RELOAD && c.net() == Net.SIM) {
        // Mir's "loading WAL": the node starts again over its WAL, with a new application.
        Simulation sim = d.simulation().orElseThrow();
        sim.crash(row.ids.get(0));
        sim.restart(row.ids.get(0));
        submitter.submit(row, d, submitted, row.ids);
        awaitTheEnd(row, d);
      }
      logs = d.logDirectories();
    }
    if (c.restart() == Restart.WAL_RELOAD && c.net() == Net.IN_PROCESS) {
      // A second deployment over the same WAL directories, as Mir's case reuses the directory.
      try (Deployment d = row.deploy();
          Submitter submitter = new Submitter()) {
        submitter.submit(row, d, submitted, row.ids);
        awaitTheEnd(row, d);
        logs = d.logDirectories();
      }
      Map<NodeId, List<Path>> both = new LinkedHashMap<>();
      for (NodeId id : row.ids) {
        Path nodeLogs = dir.resolve("logs").resolve(id.value());
        both.put(id, List.of(nodeLogs.resolve("run-000"), nodeLogs.resolve("run-001")));
      }
      assertThat(logs.get(row.ids.get(0))).containsExactly(both.get(row.ids.get(0)).get(1));
      logs = both;
    }
    if (c.restart() == Restart.WAL_RELOAD) {
      Path secondRun = logs.get(row.ids.get(0)).get(1);
      assertThat(eventsBeforeInit(secondRun))
          .as("events replayed from the WAL before Init in %s", secondRun)
          .isPositive();
    }

    SmrProperties.Result result = SmrProperties.check(logs, submitted);
    assertThat(result.violations()).as("SMR properties on the recorded logs").isEmpty();
    for (NodeId id : row.ids) {
      assertThat(result.applied().get(id)).as("node %s's final state", id).isEqualTo(c.requests());
      if (c.requests() == 0) {
        assertThat(result.highestEpoch().get(id))
            .as("epochs started by node %s", id)
            .isGreaterThanOrEqualTo(3);
      }
    }
    if (c.restart() == Restart.CRASH_NODE_3) {
      assertThat(result.restores().get(NodeId.of("3")))
          .as("state transfers of the restarted node 3")
          .isPositive();
    }
  }

  /** Until every node applied every request, or with none, until every node is in epoch 3. */
  static void awaitTheEnd(Row row, Deployment d) throws InterruptedException {
    if (row.c.requests() == 0) {
      await(row, d, () -> row.allInEpoch(3), "every node in epoch 3");
    } else {
      await(row, d, () -> row.allApplied(row.ids, row.c.requests()), "every request applied");
    }
  }

  /** Crashes node 3 midway, lets the others go on for several epochs, restarts it (WAL kept). */
  static void crashAndRestartNode3(Row row, Deployment d) throws InterruptedException {
    Simulation sim = d.simulation().orElseThrow();
    NodeId three = NodeId.of("3");
    List<NodeId> others = row.ids.subList(0, 3);
    await(row, d, () -> row.allApplied(row.ids, row.c.requests() / 3), "a third applied");
    sim.crash(three);
    long target = row.apps.get(others.get(0)).epoch.get() + 4;
    await(
        row,
        d,
        () -> others.stream().allMatch(id -> row.apps.get(id).epoch.get() >= target),
        "the others 4 epochs further");
    sim.restart(three);
  }

  /**
   * The number of events ISS processed before its Init in a recorded start of a node: the events
   * replayed from the WAL, which a node processes before Init.
   */
  static int eventsBeforeInit(Path runDir) {
    int n = 0;
    try (LogReader r =
        LogReader.open(LogReader.seriesFiles(runDir, Recorder.DEFAULT_FILE_PREFIX))) {
      for (RecordedEntry e : r) {
        if (!e.moduleId().equals(Iss.DEFAULT_ID)) {
          continue;
        }
        for (RecordedEvent ev : e.events()) {
          if (ev.typeName().equals("mir.core.Init")) {
            return n;
          }
          n++;
        }
      }
    }
    return n;
  }
}
