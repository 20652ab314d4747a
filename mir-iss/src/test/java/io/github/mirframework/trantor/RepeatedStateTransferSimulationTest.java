package io.github.mirframework.trantor;

import com.google.protobuf.ByteString;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.crypto.HasherModule;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.pb.MessageReceived;
import io.github.mirframework.iss.Iss;
import io.github.mirframework.iss.pb.SbMessage;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.sim.Simulation;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A slow replica that falls behind again and again and catches up by state transfer each time,
 * while the three others keep ordering (see {@link FaultRun} for the checks).
 *
 * <p>Node 3 is slow: every hash it computes comes out {@link #SLOW_HASH} later (a replica on an
 * overloaded machine, or a JVM that just restarted). A state transfer to epoch e lands on an epoch
 * whose availability instance node 3 created already (when e's membership was decided, two epochs
 * earlier) and with which it may be serving the others' signature requests. Before the fix, ISS
 * created that instance again, the factory replaced it, and the answers to the old instance's
 * pending requests reached the new one, which stopped the node ("item with ID 0 is not present in
 * the context store").
 *
 * <p>{@code -Dmir.sim.seed=N} runs one seed; {@code -Dmir.sweep.seeds=N} seeds 1..N.
 */
@Timeout(300)
class RepeatedStateTransferSimulationTest {
  static final NodeId LAGGARD = NodeId.of("3");
  static final Duration SLOW_HASH = Duration.ofMillis(150);

  static LongStream seeds() {
    String one = System.getProperty("mir.sim.seed");
    if (one != null && !one.isBlank()) {
      return LongStream.of(Long.parseLong(one));
    }
    String n = System.getProperty("mir.sweep.seeds");
    return LongStream.rangeClosed(1, n == null || n.isBlank() ? 1 : Long.parseLong(n));
  }

  /** Wraps a hasher: its results come out {@code delay} later, through the node's timer. */
  static final class SlowHasher implements PassiveModule {
    private final PassiveModule inner;
    private final Duration delay;

    SlowHasher(PassiveModule inner, Duration delay) {
      this.inner = inner;
      this.delay = delay;
    }

    @Override
    public boolean receivesMessages() {
      return false;
    }

    @Override
    public EventList applyEvents(EventList events) throws Exception {
      EventList out = inner.applyEvents(events);
      return out.isEmpty()
          ? out
          : EventList.of(Events.timerDelay(ModuleId.of("timer"), out.toList(), delay));
    }
  }

  /** Wraps ISS: drops ordering (PBFT) messages from peers while {@link #deaf} is set. */
  static final class DeafOrdering implements PassiveModule {
    private final PassiveModule inner;
    boolean deaf;

    DeafOrdering(PassiveModule inner) {
      this.inner = inner;
    }

    @Override
    public boolean receivesMessages() {
      return inner.receivesMessages();
    }

    @Override
    public EventList applyEvents(EventList events) throws Exception {
      if (!deaf) {
        return inner.applyEvents(events);
      }
      EventList kept = EventList.withCapacity(events.size());
      for (Event e : events) {
        if (!(e.payload() instanceof MessageReceived m
            && m.getMsg().getPayload().is(SbMessage.class))) {
          kept.add(e);
        }
      }
      return inner.applyEvents(kept);
    }
  }

  private final DeafOrdering[] iss3 = new DeafOrdering[1];

  /** A run in which node 3 is slow and its ISS can be made deaf to ordering messages. */
  private FaultRun slowLaggard(long seed) {
    return new FaultRun(
        seed,
        TrantorFaultSimulationTest.NET,
        NodeId.of("1"),
        (id, m) -> {
          if (id.equals(LAGGARD)) {
            iss3[0] = new DeafOrdering((PassiveModule) m.get(Iss.DEFAULT_ID));
            m.put(Iss.DEFAULT_ID, iss3[0]);
            m.put(
                HasherModule.DEFAULT_ID,
                new SlowHasher((PassiveModule) m.get(HasherModule.DEFAULT_ID), SLOW_HASH));
          }
        },
        Duration.ofNanos(1000));
  }

  static final Duration LOAD = Duration.ofSeconds(12);

  /** Submits a new request of each of 3 clients every 250 ms, for {@link #LOAD}. */
  private static void steadyLoad(FaultRun run) {
    run.submit(List.of());
    for (int k = 0; k < LOAD.toMillis() / 250; k++) {
      List<Request> wave = new ArrayList<>();
      for (int c = 0; c < 3; c++) {
        wave.add(
            Request.newBuilder()
                .setClientId("client" + c)
                .setReqNo(k)
                .setData(ByteString.copyFromUtf8("tx " + c + "." + k))
                .build());
      }
      run.sim.after(Duration.ofMillis(250L * k), () -> run.submitMore(wave));
    }
  }

  /** Runs to the end of the load, then until every node applied everything; checks. */
  private static void finish(FaultRun run) {
    Duration left = LOAD.minus(run.sim.now());
    if (!left.isNegative()) {
      run.sim.runFor(left);
    }
    run.runAndCheck(FaultRun.NODES, Duration.ofMinutes(2), "");
  }

  private static void checkStateTransfers(FaultRun run, int atLeast) {
    int transfers = run.current(LAGGARD).restores - 1; // the first restore is the start
    run.sim.check(
        transfers >= atLeast,
        "node 3 caught up by " + transfers + " state transfers, expected at least " + atLeast);
  }

  /**
   * Node 3's ordering messages are lost for 0.5–2.5 s at a time (asymmetric loss: availability and
   * checkpoint messages still arrive), then it hears everything for up to 1.5 s; six times. It
   * falls behind in ordering and is brought forward by state transfers, two epochs at a time.
   */
  @ParameterizedTest(name = "seed={0}")
  @MethodSource("seeds")
  void aSlowReplicaThatOnlyHearsCheckpointsCatchesUpByRepeatedStateTransfers(long seed) {
    FaultRun run = slowLaggard(seed);
    Simulation sim = run.sim;
    SplittableRandom rnd = new SplittableRandom(seed);
    steadyLoad(run);
    for (int cycle = 0; cycle < 6; cycle++) {
      iss3[0].deaf = true;
      sim.runFor(Duration.ofMillis(rnd.nextLong(500, 2500)));
      iss3[0].deaf = false;
      sim.runFor(Duration.ofMillis(rnd.nextLong(100, 1500)));
    }
    finish(run);
    checkStateTransfers(run, 3);
  }

  /**
   * Node 3 is partitioned from the others for 1–3 s at a time and reconnected for up to 1.5 s, five
   * times, while the others keep ordering; being slow, it often lags two epochs behind after
   * reconnecting and needs another state transfer.
   */
  @ParameterizedTest(name = "seed={0}")
  @MethodSource("seeds")
  void aSlowReplicaPartitionedAgainAndAgainCatchesUpEachTime(long seed) {
    FaultRun run = slowLaggard(seed);
    Simulation sim = run.sim;
    SplittableRandom rnd = new SplittableRandom(seed);
    steadyLoad(run);
    for (int cycle = 0; cycle < 5; cycle++) {
      sim.partition(List.of(LAGGARD));
      sim.runFor(Duration.ofMillis(rnd.nextLong(1000, 3000)));
      sim.heal();
      sim.runFor(Duration.ofMillis(rnd.nextLong(100, 1500)));
    }
    finish(run);
    checkStateTransfers(run, 3);
  }
}
