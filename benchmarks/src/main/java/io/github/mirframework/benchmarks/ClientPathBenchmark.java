package io.github.mirframework.benchmarks;

import com.google.protobuf.ByteString;
import io.github.mirframework.client.MirClient;
import io.github.mirframework.client.RequestReceiver;
import io.github.mirframework.client.pb.NewRequests;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.net.grpc.NodeIdentity;
import io.github.mirframework.node.Node;
import io.github.mirframework.types.ClientId;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The client path: requests per second from one {@link MirClient} through the TLS request receivers
 * of four nodes into a module that counts them (no ordering). Each invocation submits {@value
 * #BURST} 0-byte requests and waits until every node has counted all of them, so the score is
 * requests per second delivered to all four nodes. Run with {@code -prof
 * io.github.mirframework.benchmarks.CpuTimeProfiler} for requests per CPU-second (the inverse of
 * CPU time per request, all of client, receivers and nodes in this JVM).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class ClientPathBenchmark {
  static final int NODES = 4;
  static final int BURST = 2000;
  static final long SEED = 5;
  static final ModuleId MEMPOOL = ModuleId.of("mempool");

  /** Counts the requests it is given. */
  static final class Counter implements PassiveModule {
    final AtomicLong count = new AtomicLong();

    @Override
    public EventList applyEvents(EventList events) {
      for (Event e : events) {
        if (e.payload() instanceof NewRequests r) {
          count.addAndGet(r.getRequestsCount());
        }
      }
      return EventList.empty();
    }
  }

  /** Where requests go first. */
  @Param({"ALL", "ONE"})
  public String submission;

  /** Whether requests are signed and checked. */
  @Param({"false", "true"})
  public boolean signed;

  private final List<AutoCloseable> toClose = new ArrayList<>();
  private final List<Counter> counters = new ArrayList<>();
  private MirClient client;
  private long target;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    Map<NodeId, NodeAddress> addrs = new LinkedHashMap<>();
    Map<NodeId, ByteString> keys = new LinkedHashMap<>();
    for (NodeId id : NodeId.range(NODES)) {
      Counter c = new Counter();
      Node node = Node.builder(id).module(MEMPOOL, c).build();
      node.start();
      toClose.add(node);
      counters.add(c);
      NodeIdentity identity = NodeIdentity.insecureForTesting(id, SEED);
      RequestReceiver rr =
          ClientPathSetup.receiver(node, MEMPOOL, NodeAddress.loopback(0), identity, signed);
      toClose.add(rr);
      addrs.put(id, rr.listenAddress());
      keys.put(id, identity.publicKey());
    }
    client =
        ClientPathSetup.client(
            ClientId.of("bench"), addrs, keys, MirClient.Submission.valueOf(submission), signed);
    toClose.add(client);
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  /** Submits a burst and waits until every node has counted it. */
  @Benchmark
  @OperationsPerInvocation(BURST)
  public long submitBurst() {
    for (int i = 0; i < BURST; i++) {
      client.submit(ByteString.EMPTY);
    }
    target += BURST;
    if (submission.equals("ALL")) {
      for (Counter c : counters) {
        while (c.count.get() < target) {
          LockSupport.parkNanos(20_000);
        }
      }
    } else {
      while (counters.stream().mapToLong(c -> c.count.get()).sum() < target) {
        LockSupport.parkNanos(20_000);
      }
    }
    return target;
  }
}
