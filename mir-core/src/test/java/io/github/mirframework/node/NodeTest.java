package io.github.mirframework.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.timeout;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.pb.Init;
import io.github.mirframework.event.pb.TestingString;
import io.github.mirframework.eventlog.Interceptor;
import io.github.mirframework.module.ActiveModule;
import io.github.mirframework.module.EventSink;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.testing.FakeApp;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Port of Mir's TestNode_Run, plus the engine semantics Mir's tests lacked. */
class NodeTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final ModuleId A = ModuleId.of("a");
  private static final ModuleId B = ModuleId.of("b");
  private static final ModuleId C = ModuleId.of("c");

  private final List<Node> nodes = new ArrayList<>();

  Node track(Node n) {
    nodes.add(n);
    return n;
  }

  @AfterEach
  void stopNodesAndCheckThreads() {
    nodes.forEach(Node::stop);
    for (Node n : nodes) {
      assertThat(n.isTerminated()).isTrue();
      assertThat(liveThreadsOf(n.id())).as("threads of node %s after stop()", n.id()).isEmpty();
    }
  }

  /** The builder of every node in these tests; {@link PooledNodeTest} runs them on a pool. */
  Node.Builder builder(NodeId id) {
    return Node.builder(id).config(config());
  }

  /** The engine configuration of the nodes in these tests. */
  NodeConfig config() {
    return NodeConfig.defaults();
  }

  static List<String> liveThreadsOf(NodeId id) {
    List<String> names = new ArrayList<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.isAlive() && t.getName().startsWith("mir-" + id + "-")) {
        names.add(t.getName());
      }
    }
    return names;
  }

  /** A passive module that records every event it sees. */
  static final class Recording implements PassiveModule {
    final List<Event> seen = Collections.synchronizedList(new ArrayList<>());
    final java.util.function.Function<Event, EventList> reaction;

    Recording(java.util.function.Function<Event, EventList> reaction) {
      this.reaction = reaction;
    }

    Recording() {
      this(e -> EventList.empty());
    }

    @Override
    public EventList applyEvents(EventList events) {
      EventList out = EventList.empty();
      for (Event e : events) {
        seen.add(e);
        out.addAll(reaction.apply(e));
      }
      return out;
    }

    List<String> strings() {
      List<String> out = new ArrayList<>();
      synchronized (seen) {
        for (Event e : seen) {
          out.add(
              e.is(TestingString.class) ? e.payload(TestingString.class).getValue() : e.typeName());
        }
      }
      return out;
    }
  }

  static void await(java.util.function.BooleanSupplier cond, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        StringBuilder dump = new StringBuilder();
        Thread.getAllStackTraces()
            .forEach(
                (t, st) -> {
                  dump.append('\n').append(t.getName()).append(' ').append(t.getState());
                  for (StackTraceElement e : st) {
                    dump.append("\n    at ").append(e);
                  }
                });
        throw new AssertionError("timed out waiting until " + what + "; threads:" + dump);
      }
      java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
    }
  }

  @Test
  void eachModuleReceivesExactlyOneInitAddressedToItself() throws Exception {
    PassiveModule mock1 = mock(PassiveModule.class);
    PassiveModule mock2 = mock(PassiveModule.class);
    when(mock1.applyEvents(any())).thenReturn(EventList.empty());
    when(mock2.applyEvents(any())).thenReturn(EventList.empty());
    Node node =
        track(builder(NodeId.of("testnode")).module("mock1", mock1).module("mock2", mock2).build());
    node.start();
    verify(mock1, timeout(WAIT.toMillis()).times(1))
        .applyEvents(EventList.of(Events.init(ModuleId.of("mock1"))));
    verify(mock2, timeout(WAIT.toMillis()).times(1))
        .applyEvents(EventList.of(Events.init(ModuleId.of("mock2"))));
    node.stop();
    assertThat(node.failure()).isEmpty();
    verify(mock1, Mockito2.onlyOnce()).applyEvents(any());
  }

  /** Small helper to keep the imports readable. */
  static final class Mockito2 {
    static org.mockito.verification.VerificationMode onlyOnce() {
      return org.mockito.Mockito.times(1);
    }
  }

  @Test
  void followUpsAreReleasedOnlyAfterTheirParentWasApplied() throws Exception {
    CountDownLatch parentEntered = new CountDownLatch(1);
    CountDownLatch releaseParent = new CountDownLatch(1);
    List<String> order = Collections.synchronizedList(new ArrayList<>());
    Recording a =
        new Recording(
            e ->
                e.is(Init.class)
                    ? EventList.of(
                        Events.testingString(B, "parent")
                            .withFollowUp(
                                Events.testingString(C, "child")
                                    .withFollowUp(Events.testingString(C, "grandchild"))))
                    : EventList.empty());
    PassiveModule b =
        events -> {
          for (Event e : events) {
            if (e.is(TestingString.class)) {
              // Hold the parent inside its module until the test has checked that no follow-up was
              // released.
              parentEntered.countDown();
              try {
                releaseParent.await();
              } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
              }
              assertThat(e.hasFollowUps())
                  .as("modules see events stripped of follow-ups")
                  .isFalse();
              order.add("b:" + e.payload(TestingString.class).getValue());
            }
          }
          return EventList.empty();
        };
    CountDownLatch cInitialized = new CountDownLatch(1);
    PassiveModule c =
        events -> {
          for (Event e : events) {
            if (e.is(TestingString.class)) {
              order.add("c:" + e.payload(TestingString.class).getValue());
            } else if (e.is(Init.class)) {
              cInitialized.countDown();
            }
          }
          return EventList.empty();
        };
    Node node = track(builder(NodeId.of("fu")).module(A, a).module(B, b).module(C, c).build());
    node.start();
    try {
      assertThat(parentEntered.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
      // Once c has taken its Init, nothing else may be buffered: the follow-ups wait inside the
      // engine until b returns.
      assertThat(cInitialized.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
      await(() -> node.bufferedEvents() == 0, "c's Init taken from the buffer");
      assertThat(order).isEmpty();
    } finally {
      releaseParent.countDown();
    }
    await(() -> order.size() == 3, "all three events were applied");
    assertThat(order).containsExactly("b:parent", "c:child", "c:grandchild");
  }

  @Test
  void stopInterruptsAModuleThatBlocksPastTheGracePeriod() throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch never = new CountDownLatch(1);
    List<Boolean> sawInterrupt = Collections.synchronizedList(new ArrayList<>());
    PassiveModule stuck =
        events -> {
          entered.countDown();
          try {
            never.await();
          } catch (InterruptedException e) {
            sawInterrupt.add(true);
          }
          return EventList.empty();
        };
    Node node =
        track(
            builder(NodeId.of("stuck"))
                .module(A, stuck)
                .config(config().withStopGracePeriod(Duration.ofMillis(50)))
                .build());
    node.start();
    assertThat(entered.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
    node.stop();
    assertThat(sawInterrupt).containsExactly(true);
    assertThat(node.isTerminated()).isTrue();
    assertThat(liveThreadsOf(node.id())).isEmpty();
  }

  @Test
  void stopDoesNotInterruptAModuleThatFinishesWithinTheGracePeriod() throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    List<Boolean> sawInterrupt = Collections.synchronizedList(new ArrayList<>());
    PassiveModule slow =
        events -> {
          entered.countDown();
          try {
            release.await();
          } catch (InterruptedException e) {
            sawInterrupt.add(true);
          }
          return EventList.empty();
        };
    Node node = track(builder(NodeId.of("slow")).module(A, slow).build());
    node.start();
    assertThat(entered.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
    Thread stopper = Thread.ofPlatform().start(node::stop);
    // stop() is now waiting for the module (default grace period: 5 s); let the module finish.
    await(() -> stopper.getState() == Thread.State.TIMED_WAITING, "stop() waiting for the module");
    release.countDown();
    stopper.join(WAIT.toMillis());
    assertThat(stopper.isAlive()).isFalse();
    assertThat(sawInterrupt).isEmpty();
  }

  @Test
  void walEventsAreDispatchedBeforeInit() throws Exception {
    Recording a = new Recording();
    Node node =
        track(
            builder(NodeId.of("wal"))
                .module(A, a)
                .wal(
                    () ->
                        EventList.of(Events.testingString(A, "w1"), Events.testingString(A, "w2")))
                .build());
    node.start();
    await(() -> a.seen.size() == 3, "WAL events and Init were applied");
    assertThat(a.strings()).containsExactly("w1", "w2", "Init");
  }

  @Test
  void failingWalPreventsStartWithClearError() {
    Node node =
        track(
            builder(NodeId.of("badwal"))
                .module(A, new Recording())
                .wal(
                    () -> {
                      throw new java.io.IOException("disk on fire");
                    })
                .build());
    assertThatThrownBy(node::start)
        .isInstanceOf(MirException.class)
        .hasMessageContaining("write-ahead log")
        .hasMessageContaining("disk on fire");
    assertThat(node.isTerminated()).isTrue();
  }

  @Test
  void eventForUnknownModuleStopsTheNode() throws Exception {
    Recording a =
        new Recording(
            e ->
                e.is(Init.class)
                    ? EventList.of(Events.testingString(ModuleId.of("nowhere/sub"), "x"))
                    : EventList.empty());
    Node node = track(builder(NodeId.of("unknown")).module(A, a).build());
    node.start();
    assertThat(node.awaitTermination(WAIT)).isTrue();
    assertThat(node.failure())
        .get()
        .isInstanceOf(UnknownDestinationException.class)
        .hasFieldOrPropertyWithValue("destination", ModuleId.of("nowhere/sub"));
    assertThat(node.failure().get().getMessage()).contains("nowhere/sub").contains("TestingString");
  }

  @Test
  void receivedMessageForUnknownModuleIsDroppedAndCounted() throws Exception {
    Recording a = new Recording();
    Node node = track(builder(NodeId.of("drop")).module(A, a).build());
    node.start();
    node.injectEvents(
        EventList.of(
            Events.messageReceived(
                NodeId.of("evil"),
                Events.netMessage(
                    ModuleId.of("ghost"), TestingString.newBuilder().setValue("boo").build())),
            Events.testingString(A, "after")));
    await(() -> a.strings().contains("after"), "the event after the bad message was applied");
    assertThat(node.droppedMessages()).isEqualTo(1);
    assertThat(node.failure()).isEmpty();
  }

  @Test
  void receivedMessageForAModuleThatTakesNoMessagesIsDroppedAndCounted() throws Exception {
    Recording a = new Recording();
    // Like the crypto or timer module: fails on any event it does not expect.
    PassiveModule service =
        new PassiveModule() {
          @Override
          public EventList applyEvents(EventList events) {
            for (Event e : events) {
              if (!e.is(Init.class)) {
                throw new IllegalArgumentException("unexpected " + e.typeName());
              }
            }
            return EventList.empty();
          }

          @Override
          public boolean receivesMessages() {
            return false;
          }
        };
    Node node = track(builder(NodeId.of("svc")).module(A, a).module(B, service).build());
    node.start();
    node.injectEvents(
        EventList.of(
            Events.messageReceived(
                NodeId.of("evil"),
                Events.netMessage(B, TestingString.newBuilder().setValue("boo").build())),
            Events.messageReceived(
                NodeId.of("evil"),
                Events.netMessage(
                    ModuleId.of("b/sub"), TestingString.newBuilder().setValue("boo").build())),
            Events.testingString(A, "after")));
    await(() -> a.strings().contains("after"), "the event after the bad messages was applied");
    assertThat(node.droppedMessages()).isEqualTo(2);
    assertThat(node.failure()).isEmpty();
  }

  @Test
  void aModuleTakesNoPeerMessagesUnlessItDeclaresSo() throws Exception {
    Recording a = new Recording();
    // A consumer that does not override receivesMessages() and fails on anything unexpected: a
    // peer must not be able to stop the node through it.
    PassiveModule consumer =
        events -> {
          for (Event e : events) {
            if (!e.is(Init.class)) {
              throw new IllegalStateException("unexpected " + e.typeName());
            }
          }
          return EventList.empty();
        };
    assertThat(consumer.receivesMessages()).isFalse();
    Node node = track(builder(NodeId.of("optin")).module(A, a).module(B, consumer).build());
    node.start();
    node.injectEvents(
        EventList.of(
            Events.messageReceived(
                NodeId.of("evil"),
                Events.netMessage(B, TestingString.newBuilder().setValue("boo").build())),
            Events.testingString(A, "after")));
    await(() -> a.strings().contains("after"), "the event after the peer message was applied");
    assertThat(node.droppedMessages()).isEqualTo(1);
    assertThat(node.failure()).isEmpty();
  }

  @Test
  void fakeAppDoesNotRecordPeerMessagesAsDeliveries() throws Exception {
    FakeApp app = new FakeApp();
    assertThat(app.receivesMessages()).isFalse();
    Node node = track(builder(NodeId.of("fake")).module(A, app).build());
    node.start();
    node.injectEvents(
        EventList.of(
            Events.messageReceived(
                NodeId.of("evil"),
                Events.netMessage(A, TestingString.newBuilder().setValue("forged").build())),
            Events.testingString(A, "mine")));
    await(() -> app.deliveredCount() == 1, "the node's own event was delivered");
    assertThat(app.delivered())
        .containsExactly(TestingString.newBuilder().setValue("mine").build());
    assertThat(node.droppedMessages()).isEqualTo(1);
    // Applied directly (bypassing the node's routing), a peer message is still not a delivery.
    app.applyEvents(
        EventList.of(
            Events.messageReceived(
                NodeId.of("evil"),
                Events.netMessage(A, TestingString.newBuilder().setValue("forged").build()))));
    assertThat(app.deliveredCount()).isEqualTo(1);
    assertThat(app.ignoredPeerMessages()).isEqualTo(1);
  }

  @Test
  void injectingForAnUnknownModuleIsRejectedAtomicallyAndTheNodeKeepsRunning() throws Exception {
    Recording a = new Recording();
    Node node = track(builder(NodeId.of("inj")).module(A, a).build());
    node.start();
    assertThatThrownBy(
            () ->
                node.injectEvents(
                    EventList.of(Events.testingString(A, "first"), Events.testingString(B, "bad"))))
        .isInstanceOf(UnknownDestinationException.class)
        .hasMessageContaining("'b'");
    node.injectEvents(EventList.of(Events.testingString(A, "ok")));
    await(() -> a.strings().contains("ok"), "the good event was applied");
    assertThat(a.strings()).doesNotContain("first");
    assertThat(node.failure()).isEmpty();
  }

  @Test
  void throwingModuleStopsTheNodeWithItsModuleId() throws Exception {
    Recording a = new Recording();
    PassiveModule bad =
        events -> {
          for (Event e : events) {
            if (e.is(TestingString.class)) {
              throw new IllegalStateException("boom");
            }
          }
          return EventList.empty();
        };
    Node node = track(builder(NodeId.of("boom")).module(A, a).module(B, bad).build());
    node.start();
    node.injectEvents(EventList.of(Events.testingString(B, "x")));
    assertThat(node.awaitTermination(WAIT)).isTrue();
    Throwable f = node.failure().orElseThrow();
    assertThat(f).isInstanceOf(ModuleFailedException.class).hasMessageContaining("'b'");
    assertThat(((ModuleFailedException) f).moduleId()).isEqualTo(B);
    assertThat(f.getCause()).isInstanceOf(IllegalStateException.class).hasMessage("boom");
    assertThatThrownBy(() -> node.injectEvents(EventList.of(Events.testingString(A, "late"))))
        .isInstanceOf(NodeStoppedException.class)
        .hasCause(f);
  }

  @Test
  void runThrowsTheFailureAndReturnsNormallyAfterStop() throws Exception {
    PassiveModule bad =
        events -> {
          throw new IllegalArgumentException("bad init");
        };
    Node failing = track(builder(NodeId.of("run1")).module(A, bad).build());
    assertThatThrownBy(failing::run)
        .isInstanceOf(NodeStoppedException.class)
        .hasRootCauseMessage("bad init");

    Node stopped = track(builder(NodeId.of("run2")).module(A, new Recording()).build());
    Thread stopper =
        new Thread(
            () -> {
              while (stopped.bufferedEvents() > 0 || liveThreadsOf(stopped.id()).isEmpty()) {
                java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
              }
              stopped.stop();
            });
    stopper.start();
    stopped.run();
    stopper.join();
    assertThat(stopped.failure()).isEmpty();
  }

  @Test
  void nullOutputOfAModuleIsAFailure() throws Exception {
    Node node = track(builder(NodeId.of("null")).module(A, (PassiveModule) events -> null).build());
    node.start();
    assertThat(node.awaitTermination(WAIT)).isTrue();
    assertThat(node.failure().orElseThrow()).isInstanceOf(ModuleFailedException.class);
  }

  @Test
  void modulesGetBoundedBatchesAndAreNeverCalledConcurrently() throws Exception {
    int batch = 16;
    AtomicInteger inside = new AtomicInteger();
    AtomicBoolean overlap = new AtomicBoolean();
    AtomicInteger maxBatch = new AtomicInteger();
    AtomicInteger count = new AtomicInteger();
    PassiveModule sink =
        events -> {
          if (inside.incrementAndGet() != 1) {
            overlap.set(true);
          }
          maxBatch.accumulateAndGet(events.size(), Math::max);
          count.addAndGet(events.size());
          inside.decrementAndGet();
          return EventList.empty();
        };
    Node node =
        track(
            builder(NodeId.of("batch"))
                .module(A, sink)
                .config(config().withMaxEventBatchSize(batch))
                .build());
    node.start();
    List<Thread> injectors = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      Thread th =
          new Thread(
              () -> {
                for (int i = 0; i < 250; i++) {
                  EventList l = EventList.empty();
                  for (int k = 0; k < 10; k++) {
                    l.add(Events.testingUint(A, k));
                  }
                  node.injectEvents(l);
                }
              });
      injectors.add(th);
      th.start();
    }
    for (Thread th : injectors) {
      th.join();
    }
    await(() -> count.get() == 10_000 + 1, "all injected events and Init were applied");
    assertThat(overlap).isFalse();
    assertThat(maxBatch.get()).isLessThanOrEqualTo(batch);
  }

  @Test
  void eventsOfOneSourceArriveInOrder() throws Exception {
    Recording a = new Recording();
    Node node = track(builder(NodeId.of("fifo")).module(A, a).build());
    node.start();
    for (int i = 0; i < 1000; i++) {
      node.injectEvents(EventList.of(Events.testingString(A, Integer.toString(i))));
    }
    await(() -> a.seen.size() == 1001, "all events applied");
    List<String> got = a.strings();
    got.remove("Init");
    for (int i = 0; i < 1000; i++) {
      assertThat(got.get(i)).isEqualTo(Integer.toString(i));
    }
  }

  /**
   * An active module that emits what the test tells it to, from its own thread, and records its
   * life cycle.
   */
  static final class Emitter implements ActiveModule {
    volatile EventSink sink;
    final CountDownLatch started = new CountDownLatch(1);
    final AtomicBoolean closed = new AtomicBoolean();
    final List<Event> applied = Collections.synchronizedList(new ArrayList<>());

    @Override
    public void start(EventSink sink) {
      this.sink = sink;
      started.countDown();
    }

    @Override
    public void applyEvents(EventList events) {
      events.forEach(applied::add);
    }

    @Override
    public void close() {
      closed.set(true);
    }
  }

  @Test
  void activeModuleEmitsAreRoutedAndTheModuleIsClosedOnStop() throws Exception {
    Emitter em = new Emitter();
    Recording a = new Recording();
    Node node = track(builder(NodeId.of("active")).module("em", em).module(A, a).build());
    node.start();
    assertThat(em.started.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
    assertThat(em.sink.emit(EventList.of(Events.testingString(A, "spontaneous")))).isTrue();
    await(() -> a.strings().contains("spontaneous"), "the emitted event was applied");
    await(() -> em.applied.size() == 1, "the active module got its Init");
    node.stop();
    assertThat(em.closed).isTrue();
    assertThat(em.sink.emit(EventList.of(Events.testingString(A, "too late")))).isFalse();
  }

  @Test
  void interceptorSeesEveryEventOnceStrippedAndIsClosedOnStop() throws Exception {
    List<String> seen = Collections.synchronizedList(new ArrayList<>());
    AtomicBoolean closed = new AtomicBoolean();
    Interceptor icpt =
        new Interceptor() {
          @Override
          public void intercept(ModuleId module, EventList events) {
            for (Event e : events) {
              assertThat(e.hasFollowUps()).isFalse();
              seen.add(module + ":" + e.typeName());
            }
          }

          @Override
          public void close() {
            closed.set(true);
          }
        };
    Recording a =
        new Recording(
            e ->
                e.is(Init.class)
                    ? EventList.of(
                        Events.testingString(B, "p").withFollowUp(Events.testingString(A, "f")))
                    : EventList.empty());
    Node node =
        track(
            builder(NodeId.of("icpt"))
                .module(A, a)
                .module(B, new Recording())
                .interceptor(icpt)
                .build());
    node.start();
    await(() -> seen.size() == 4, "four events intercepted");
    node.stop();
    assertThat(seen)
        .containsExactlyInAnyOrder("a:Init", "b:Init", "b:TestingString", "a:TestingString");
    assertThat(closed).isTrue();
  }

  @Test
  void failingInterceptorStopsTheNode() throws Exception {
    Interceptor icpt =
        (module, events) -> {
          throw new java.io.IOException("disk full");
        };
    Node node =
        track(builder(NodeId.of("icptfail")).module(A, new Recording()).interceptor(icpt).build());
    node.start();
    assertThat(node.awaitTermination(WAIT)).isTrue();
    assertThat(node.failure().orElseThrow())
        .isInstanceOf(ModuleFailedException.class)
        .hasRootCauseMessage("disk full");
  }

  @Test
  void interceptorFailingToCloseIsReportedAsFailure() throws Exception {
    Interceptor icpt =
        new Interceptor() {
          @Override
          public void intercept(ModuleId module, EventList events) {}

          @Override
          public void close() throws java.io.IOException {
            throw new java.io.IOException("could not flush");
          }
        };
    Node node =
        track(builder(NodeId.of("icptclose")).module(A, new Recording()).interceptor(icpt).build());
    node.start();
    node.stop();
    assertThat(node.failure().orElseThrow()).hasRootCauseMessage("could not flush");
  }

  @Test
  void stopWithoutStartClosesModulesAndTerminates() {
    Emitter em = new Emitter();
    Node node = track(builder(NodeId.of("never")).module("em", em).build());
    node.stop();
    assertThat(node.isTerminated()).isTrue();
    assertThat(em.closed).isTrue();
    assertThatThrownBy(node::start).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void startTwiceIsRejected() {
    Node node = track(builder(NodeId.of("twice")).module(A, new Recording()).build());
    node.start();
    assertThatThrownBy(node::start).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void stopFromInsideAModuleDoesNotDeadlock() throws Exception {
    Node[] self = new Node[1];
    PassiveModule stopper =
        events -> {
          self[0].stop();
          return EventList.empty();
        };
    Node node = track(builder(NodeId.of("selfstop")).module(A, stopper).build());
    self[0] = node;
    node.start();
    assertThat(node.awaitTermination(WAIT)).isTrue();
    assertThat(node.failure()).isEmpty();
  }

  @Test
  void manyNodesStartAndStopWithoutLeakingThreads() throws Exception {
    for (int i = 0; i < 50; i++) {
      Node node =
          track(
              builder(NodeId.of("churn" + i))
                  .module(A, new Recording(e -> EventList.of(Events.testingString(B, "x"))))
                  .module(B, new Recording())
                  .module("em", new Emitter())
                  .build());
      node.start();
      node.injectEvents(EventList.of(Events.testingString(A, "go")));
      node.stop();
    }
  }
}
