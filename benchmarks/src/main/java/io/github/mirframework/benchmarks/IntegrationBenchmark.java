package io.github.mirframework.benchmarks;

import com.google.protobuf.ByteString;
import io.github.mirframework.checkpoint.pb.StableCheckpoint;
import io.github.mirframework.client.ClientEvents;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.crypto.PseudoCrypto;
import io.github.mirframework.event.EventList;
import io.github.mirframework.iss.Iss;
import io.github.mirframework.iss.LeaderSelectionPolicy;
import io.github.mirframework.iss.pbft.PbftParams;
import io.github.mirframework.mempool.SimpleMempool;
import io.github.mirframework.module.Module;
import io.github.mirframework.module.Modules;
import io.github.mirframework.net.Membership;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.net.inprocess.InProcessNetwork;
import io.github.mirframework.node.Node;
import io.github.mirframework.timer.TimerModule;
import io.github.mirframework.trantor.AppLogic;
import io.github.mirframework.trantor.Trantor;
import io.github.mirframework.types.ClientId;
import io.github.mirframework.types.EpochNr;
import io.github.mirframework.types.LittleEndian;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The ordering path end to end (Mir's {@code BenchmarkIntegration}): four Trantor nodes (ISS with
 * PBFT orderers, multisig availability, checkpoints, real ECDSA) in one JVM on the in-process
 * transport. One invocation injects {@link #REQUESTS_PER_OP} requests from 16 clients into every
 * node's mempool and waits until node 0 has applied them all; one operation is one ordered request,
 * so the score is requests ordered per second. The client path (gRPC, TLS) is not part of it:
 * {@code ./run-sample.sh bench} measures that.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Benchmark)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
public class IntegrationBenchmark {
  /** Requests ordered per benchmark invocation. */
  static final int REQUESTS_PER_OP = 1024;

  static final int CLIENTS = 16;

  /** Replicas leading a segment in each epoch. */
  @Param({"1", "4"})
  int leaders;

  /** Longest wait of a leader to fill a batch, in milliseconds. */
  @Param({"2"})
  int proposalDelayMs;

  /** Payload bytes per request. */
  @Param({"0"})
  int requestSize;

  private final List<Node> nodes = new ArrayList<>();
  private final Object appliedLock = new Object();
  private long applied; // at node 0, guarded by appliedLock
  private long[] nextReqNo;
  private ByteString payload;

  /** The first {@code count} nodes lead (all nodes lead with the built-in policy). */
  record FirstLeaders(List<NodeId> nodes, int count) implements LeaderSelectionPolicy {
    @Override
    public List<NodeId> leaders(EpochNr epoch) {
      return nodes.subList(0, Math.min(count, nodes.size()));
    }

    @Override
    public void suspect(EpochNr epoch, NodeId node) {}

    @Override
    public LeaderSelectionPolicy reconfigure(List<NodeId> nodeIds) {
      return new FirstLeaders(List.copyOf(nodeIds), count);
    }
  }

  /** Counts what node 0 applies. */
  private final class CountingApp implements AppLogic.Static {
    private final boolean observed;
    private long count;

    CountingApp(boolean observed) {
      this.observed = observed;
    }

    @Override
    public void applyTxs(List<Request> txs) {
      count += txs.size();
      if (observed) {
        synchronized (appliedLock) {
          applied += txs.size();
          appliedLock.notifyAll();
        }
      }
    }

    @Override
    public ByteString snapshot() {
      return ByteString.copyFrom(LittleEndian.u64(count));
    }

    @Override
    public void restoreState(StableCheckpoint checkpoint) {}
  }

  @Setup
  public void setUp() {
    List<NodeId> ids = NodeId.range(4);
    Map<NodeId, NodeAddress> addresses = new LinkedHashMap<>();
    for (int i = 0; i < ids.size(); i++) {
      addresses.put(ids.get(i), NodeAddress.of("127.0.0.1", 1 + i));
    }
    Membership membership = Membership.of(addresses);
    Duration d = Duration.ofMillis(proposalDelayMs);
    Duration background = Duration.ofMillis(500);
    Iss.Params defaults = Iss.Params.defaults(membership);
    Iss.Params iss =
        new Iss.Params(
            membership,
            defaults.configOffset(),
            64,
            0,
            d,
            defaults.numBuckets(),
            new FirstLeaders(ids, leaders),
            defaults.requestNAckTimeout(),
            PbftParams.DEFAULT_MSG_BUF_CAPACITY,
            defaults.retainedEpochs(),
            background,
            background,
            background,
            background,
            Duration.ofSeconds(4),
            Duration.ofSeconds(10),
            Duration.ofSeconds(1));
    Trantor.Params params = new Trantor.Params(new SimpleMempool.Params(1024), iss);
    StableCheckpoint genesis =
        Trantor.genesisCheckpoint(ByteString.copyFrom(LittleEndian.u64(0)), params);
    InProcessNetwork net = new InProcessNetwork(ids, 1 << 20);
    for (NodeId id : ids) {
      Map<ModuleId, Module> m =
          Trantor.modules(
              id,
              net.transport(id),
              genesis,
              PseudoCrypto.create(ids, id),
              AppLogic.fromStatic(new CountingApp(id.equals(ids.get(0))), membership),
              params);
      m.put(ModuleId.of("timer"), new TimerModule());
      m.put(ModuleId.of("wal"), Modules.nullPassive());
      nodes.add(Node.builder(id).modules(m).build());
    }
    nodes.forEach(Node::start);
    nextReqNo = new long[CLIENTS];
    payload = ByteString.copyFrom(new byte[requestSize]);
  }

  @TearDown
  public void tearDown() {
    nodes.forEach(Node::stop);
    nodes.clear();
  }

  /** Orders {@link #REQUESTS_PER_OP} requests. */
  @Benchmark
  @OperationsPerInvocation(REQUESTS_PER_OP)
  public long order() throws InterruptedException {
    long target;
    synchronized (appliedLock) {
      target = applied + REQUESTS_PER_OP;
    }
    List<Request> reqs = new ArrayList<>(REQUESTS_PER_OP);
    for (int i = 0; i < REQUESTS_PER_OP; i++) {
      int c = i % CLIENTS;
      reqs.add(ClientEvents.request(ClientId.of("c" + c), nextReqNo[c]++, payload));
    }
    // Like clients that send to every node, in chunks of 64 as a request receiver might.
    for (int from = 0; from < REQUESTS_PER_OP; from += 64) {
      List<Request> chunk = reqs.subList(from, from + 64);
      for (Node n : nodes) {
        n.injectEvents(EventList.of(ClientEvents.newRequests(SimpleMempool.DEFAULT_ID, chunk)));
      }
    }
    synchronized (appliedLock) {
      while (applied < target) {
        appliedLock.wait(1000);
        for (Node n : nodes) {
          if (n.failure().isPresent()) {
            throw new IllegalStateException("node " + n.id() + " failed", n.failure().get());
          }
        }
      }
      return applied;
    }
  }
}
