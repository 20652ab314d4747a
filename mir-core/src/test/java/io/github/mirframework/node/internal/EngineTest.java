package io.github.mirframework.node.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.module.Module;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.node.NodeConfig;
import io.github.mirframework.node.UnknownDestinationException;
import io.github.mirframework.types.ModuleId;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The deterministic step function, without threads. */
class EngineTest {
  static final ModuleId A = ModuleId.of("a");
  static final ModuleId B = ModuleId.of("b");
  static final PassiveModule ECHO = events -> events;

  static Engine engine(NodeConfig config) {
    Map<ModuleId, Module> m = new LinkedHashMap<>();
    m.put(A, (PassiveModule) events -> EventList.empty());
    m.put(B, (PassiveModule) events -> EventList.empty());
    return new Engine(m, config);
  }

  @Test
  void followUpsAreRoutedOnlyWhenTheParentBatchCompletes() {
    Engine e = engine(NodeConfig.defaults());
    e.route(
        EventList.of(
            Events.testingString(A, "parent").withFollowUp(Events.testingString(B, "child"))));
    Engine.Batch batch = e.takeBatch(0);
    assertThat(batch.events().get(0).hasFollowUps()).isTrue();
    EventList out = Engine.process(batch, null);
    assertThat(e.bufferedEvents(1)).as("not before completion").isZero();
    e.complete(batch, out);
    assertThat(e.bufferSnapshot(1)).containsExactly(Events.testingString(B, "child"));
  }

  @Test
  void oneBatchInFlightPerModuleAndBoundedBatches() {
    Engine e = engine(NodeConfig.defaults().withMaxEventBatchSize(3));
    EventList in = EventList.empty();
    for (int i = 0; i < 7; i++) {
      in.add(Events.testingUint(A, i));
    }
    e.route(in);
    Engine.Batch first = e.takeBatch(0);
    assertThat(first.events().size()).isEqualTo(3);
    assertThat(e.takeBatch(0)).as("module busy").isNull();
    assertThat(e.ready(0)).isFalse();
    e.complete(first, EventList.empty());
    assertThat(e.takeBatch(0).events().size()).isEqualTo(3);
    assertThat(e.processedEvents(0)).isEqualTo(3);
  }

  @Test
  void pausesAboveTheByteThresholdAndResumesAtTheByteResumeThreshold() {
    // Few events, but large ones: the byte budget pauses input although the count is far below.
    Engine e =
        engine(
            NodeConfig.defaults()
                .withMaxEventBatchSize(1)
                .withInputBytes(3 * 1000 + 100, 1000 + 100));
    EventList in = EventList.empty();
    for (int i = 0; i < 4; i++) {
      in.add(Events.testingString(A, "x".repeat(997)));
    }
    int size = in.get(0).payload().getSerializedSize();
    assertThat(size).isEqualTo(1000);
    e.route(in);
    assertThat(e.bufferedBytes()).isEqualTo(4L * size);
    assertThat(e.inputPaused()).isTrue();
    e.complete(e.takeBatch(0), EventList.empty()); // 3000 bytes left
    e.complete(e.takeBatch(0), EventList.empty()); // 2000 bytes left
    assertThat(e.inputPaused()).isTrue();
    e.complete(e.takeBatch(0), EventList.empty()); // 1000 bytes left
    assertThat(e.inputPaused()).isFalse();
    assertThat(e.bufferedBytes()).isEqualTo(size);
    e.takeBatch(0);
    assertThat(e.bufferedBytes()).isZero();
  }

  @Test
  void pausesAboveThePauseThresholdAndResumesAtTheResumeThreshold() {
    Engine e = engine(new NodeConfig(2, 4, 2, NodeConfig.DEFAULT_STOP_GRACE_PERIOD));
    EventList in = EventList.empty();
    for (int i = 0; i < 5; i++) {
      in.add(Events.testingUint(A, i));
    }
    e.route(in);
    assertThat(e.inputPaused()).isTrue();
    Engine.Batch b1 = e.takeBatch(0); // 3 left
    assertThat(e.inputPaused()).isTrue();
    e.complete(b1, EventList.empty());
    e.takeBatch(0); // 1 left
    assertThat(e.inputPaused()).isFalse();
  }

  @Test
  void nextBatchVisitsModulesRoundRobin() {
    Engine e = engine(NodeConfig.defaults().withMaxEventBatchSize(1));
    e.route(
        EventList.of(
            Events.testingUint(A, 1),
            Events.testingUint(A, 2),
            Events.testingUint(B, 3),
            Events.testingUint(B, 4)));
    StringBuilder order = new StringBuilder();
    for (int i = 0; i < 4; i++) {
      Engine.Batch b = e.nextBatch();
      order.append(b.moduleId());
      e.complete(b, EventList.empty());
    }
    assertThat(order.toString()).isEqualTo("abab");
    assertThat(e.nextBatch()).isNull();
    assertThat(e.isIdle()).isTrue();
  }

  @Test
  void routingRejectsUnknownDestinationsButDropsUnknownReceivedMessages() {
    Engine e = engine(NodeConfig.defaults());
    Event msg =
        Events.messageReceived(
            io.github.mirframework.types.NodeId.of("x"),
            Events.netMessage(
                ModuleId.of("ghost"), io.github.mirframework.event.pb.Init.getDefaultInstance()));
    e.route(EventList.of(msg));
    assertThat(e.droppedMessages()).isEqualTo(1);
    assertThatThrownBy(() -> e.route(EventList.of(Events.testingUint(ModuleId.of("c/d"), 1))))
        .isInstanceOf(UnknownDestinationException.class)
        .hasMessageContaining("'c/d'");
  }

  @Test
  void subIdsAreRoutedToTheirTopLevelModule() {
    Engine e = engine(NodeConfig.defaults());
    e.route(EventList.of(Events.testingUint(A.then("sub/x"), 1)));
    assertThat(e.bufferedEvents(0)).isEqualTo(1);
  }

  @Test
  void modulesMustBeTopLevelAndUnique() {
    assertThatThrownBy(() -> new Engine(Map.of(ModuleId.of("a/b"), ECHO), NodeConfig.defaults()))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
