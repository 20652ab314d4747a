package io.github.mirframework.wal.file;

import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.PayloadRegistry;
import io.github.mirframework.module.Module;
import io.github.mirframework.sim.SimEnvironment;
import io.github.mirframework.sim.Simulation;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import io.github.mirframework.wal.WriteAheadLog;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.stream.LongStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Crash recovery end to end in the deterministic simulation, with the real WAL implementations: a
 * node whose stateful module persists its state changes is crashed at random points (many seeds),
 * restarted, replays its WAL, and must end with exactly the state it had persisted, never having
 * applied anything it had not persisted.
 */
class SimulatedCrashRecoveryTest {
  private static final NodeId NODE = NodeId.of("0");

  @TempDir Path dir;

  static LongStream seeds() {
    return LongStream.range(0, 25);
  }

  @ParameterizedTest(name = "seed={0}")
  @MethodSource("seeds")
  void fileWal(long seed) throws Exception {
    Path walDir = dir.resolve("wal");
    run(
        seed,
        env -> {
          try {
            return FileWal.open(walDir, PayloadRegistry.shared());
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
  }

  @ParameterizedTest(name = "seed={0}")
  @MethodSource("seeds")
  void inMemoryWal(long seed) {
    InMemoryWal.Store store = new InMemoryWal.Store();
    run(seed, env -> InMemoryWal.open(store, PayloadRegistry.shared()));
  }

  private static void run(long seed, Function<SimEnvironment, Module> walFactory) {
    // Register the replayed payload type before any WAL is opened (as an application must).
    PayloadRegistry.shared()
        .register(io.github.mirframework.event.pb.TestingString.getDefaultInstance());
    Simulation sim =
        Simulation.builder(Simulation.seedOr(seed))
            .nodes(1)
            .processingDelay(Duration.ofNanos(100), Duration.ofNanos(50_000))
            .factory(
                (id, env) -> {
                  Map<ModuleId, Module> m = new LinkedHashMap<>();
                  m.put(PersistingCounter.WAL, walFactory.apply(env));
                  m.put(PersistingCounter.COUNTER, new PersistingCounter());
                  return m;
                })
            .build();
    SplittableRandom r = new SplittableRandom(seed);
    for (int round = 0; round < 6; round++) {
      EventList in = EventList.empty();
      int n = 1 + r.nextInt(40);
      for (int i = 0; i < n; i++) {
        in.add(Events.testingUint(PersistingCounter.COUNTER, 1 + r.nextInt(1000)));
      }
      sim.inject(NODE, in);
      sim.runFor(Duration.ofNanos(r.nextLong(150_000)));
      long appliedBeforeCrash =
          sim.module(NODE, PersistingCounter.COUNTER, PersistingCounter.class).sum();
      sim.crash(NODE);
      sim.restart(NODE);
      sim.runUntilQuiet(Duration.ofSeconds(10));
      long recovered = sim.module(NODE, PersistingCounter.COUNTER, PersistingCounter.class).sum();
      long persisted = persisted(sim);
      sim.check(recovered == persisted, "recovered " + recovered + " != persisted " + persisted);
      sim.check(
          appliedBeforeCrash <= persisted,
          "applied " + appliedBeforeCrash + " before persisting (persisted " + persisted + ")");
    }
  }

  private static long persisted(Simulation sim) {
    try {
      WriteAheadLog wal = sim.module(NODE, PersistingCounter.WAL, WriteAheadLog.class);
      return PersistingCounter.persistedSum(wal.loadAll());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
