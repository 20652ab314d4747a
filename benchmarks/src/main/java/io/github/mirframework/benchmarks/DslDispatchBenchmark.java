package io.github.mirframework.benchmarks;

import io.github.mirframework.dsl.DslModule;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.pb.TestingString;
import io.github.mirframework.event.pb.TestingUint;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Cost of the DSL's dispatch per event: a batch of 512 events through a {@link DslModule} with one
 * handler, compared with a hand-written {@code switch} module doing the same work, and for received
 * messages (which the DSL unpacks from {@code Any} before dispatch).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class DslDispatchBenchmark {
  static final int BATCH = 512;
  static final ModuleId SELF = ModuleId.of("m");

  private DslModule dsl;
  private DslModule dslMessages;
  private PassiveModule handWritten;
  private EventList events;
  private EventList messages;
  private long sum;

  @Setup
  public void setUp() {
    dsl = new DslModule(SELF);
    dsl.upon(TestingUint.class, u -> sum += u.getValue());
    dslMessages = new DslModule(SELF);
    dslMessages.uponMessage(TestingString.class, (from, s) -> sum += s.getValue().length());
    handWritten =
        in -> {
          for (int i = 0; i < in.size(); i++) {
            switch (in.get(i).payload()) {
              case TestingUint u -> sum += u.getValue();
              default -> throw new IllegalArgumentException();
            }
          }
          return EventList.empty();
        };
    events = EventList.withCapacity(BATCH);
    messages = EventList.withCapacity(BATCH);
    for (int i = 0; i < BATCH; i++) {
      events.add(Events.testingUint(SELF, i));
      messages.add(
          Events.messageReceived(
              NodeId.of("1"),
              Events.netMessage(SELF, TestingString.newBuilder().setValue("m" + i).build())));
    }
  }

  /** DSL dispatch of a plain event, per event. */
  @Benchmark
  @OperationsPerInvocation(BATCH)
  public void dslEvent(Blackhole bh) throws Exception {
    bh.consume(dsl.applyEvents(EventList.withCapacity(BATCH).addAll(events)));
  }

  /** The same work in a hand-written switch, per event. */
  @Benchmark
  @OperationsPerInvocation(BATCH)
  public void switchEvent(Blackhole bh) throws Exception {
    bh.consume(handWritten.applyEvents(EventList.withCapacity(BATCH).addAll(events)));
  }

  /**
   * DSL dispatch of a received message, per message: type lookup from the Any's type URL and
   * unpacking (protobuf caches the parsed value inside the Any after the first unpack, so this
   * measures the steady-state dispatch, not parsing).
   */
  @Benchmark
  @OperationsPerInvocation(BATCH)
  public void dslMessage(Blackhole bh) throws Exception {
    bh.consume(dslMessages.applyEvents(EventList.withCapacity(BATCH).addAll(messages)));
    bh.consume(sum);
  }
}
