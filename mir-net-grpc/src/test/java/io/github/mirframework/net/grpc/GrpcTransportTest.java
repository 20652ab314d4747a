package io.github.mirframework.net.grpc;

import static io.github.mirframework.net.grpc.TestCluster.msg;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class GrpcTransportTest {
  static final ModuleId NET = ModuleId.of("net");

  static List<String> threadsOf(String node) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .map(Thread::getName)
        .filter(n -> n.startsWith("mir-grpc-" + node + "-"))
        .toList();
  }

  @Test
  void startAndStop() throws Exception {
    GrpcTransport t =
        GrpcTransport.builder(NodeId.of("startstop"), NodeAddress.loopback(0))
            .security(Security.plaintext())
            .build();
    assertThatThrownBy(t::listenAddress).isInstanceOf(IllegalStateException.class);
    t.start();
    t.start(); // idempotent
    assertThat(t.listenAddress().port()).isPositive();
    assertThat(threadsOf("startstop")).isNotEmpty();
    t.stop();
    t.stop(); // idempotent
    assertThat(threadsOf("startstop")).as("threads left after stop()").isEmpty();
    assertThatThrownBy(t::start).isInstanceOf(IllegalStateException.class);
    assertThat(t.send(NodeId.of("startstop"), msg("late"))).isFalse();
    assertThat(t.droppedCount(DropReason.CLOSED)).isEqualTo(1);
  }

  @Test
  void securityMustBeChosenExplicitly() {
    assertThatThrownBy(() -> GrpcTransport.builder(NodeId.of("x"), NodeAddress.loopback(0)).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("Security.plaintext()");
  }

  @Test
  void aSecondTransportCannotTakeAPortInUse() throws Exception {
    try (TestCluster c = new TestCluster(TestCluster.Mode.PLAINTEXT, List.of("p1"))) {
      GrpcTransport other = c.newTransport(NodeId.of("p2"), c.t("p1").listenAddress());
      assertThatThrownBy(other::start).hasMessageContaining("cannot listen");
      assertThat(threadsOf("p2")).isEmpty();
    }
  }

  @ParameterizedTest
  @EnumSource(TestCluster.Mode.class)
  void fourNodesExchangeMessages(TestCluster.Mode mode) throws Exception {
    try (TestCluster c = new TestCluster(mode, List.of("a", "b", "c", "d"))) {
      c.deliverToSinks().connectAll();
      for (GrpcTransport t : c.transports.values()) {
        assertThat(t.waitFor(4, Await.DEFAULT)).as("%s connected", t.self()).isTrue();
      }
      for (NodeId from : c.ids) {
        // Through the module interface, as a node would.
        c.transports
            .get(from)
            .applyEvents(
                EventList.of(
                    Events.sendMessage(NET, msg("hi from " + from), c.ids),
                    Events.sendMessage(NET, msg("bye from " + from), c.ids)));
      }
      for (NodeId to : c.ids) {
        CollectingSink s = c.sinks.get(to);
        Await.until(() -> s.count() == 8, to + " gets 8 messages, has " + s.received());
        for (NodeId from : c.ids) {
          assertThat(s.textsFrom(from.value()))
              .as("messages from %s at %s, in order", from, to)
              .containsExactly("hi from " + from, "bye from " + from);
        }
      }
      for (GrpcTransport t : c.transports.values()) {
        TransportMetrics m = t.metrics();
        assertThat(m.sent()).isEqualTo(6);
        assertThat(m.received()).isEqualTo(6);
        assertThat(m.deliveredLocally()).isEqualTo(2);
        assertThat(m.droppedTotal()).isZero();
      }
    }
    for (String n : List.of("a", "b", "c", "d")) {
      assertThat(threadsOf(n)).as("threads of %s left after stop()", n).isEmpty();
    }
  }

  @Test
  void messagesToSelfNeedNoNetwork() throws Exception {
    try (TestCluster c = new TestCluster(TestCluster.Mode.MUTUAL_TLS, List.of("solo"))) {
      c.deliverToSinks();
      // Not even connected to a membership.
      assertThat(c.t("solo").send(NodeId.of("solo"), msg("me"))).isTrue();
      Await.until(() -> c.sink("solo").count() == 1, "self-delivery");
      assertThat(c.sink("solo").received())
          .containsExactly(new CollectingSink.Received("solo", "me"));
      assertThat(c.t("solo").metrics().deliveredLocally()).isEqualTo(1);
    }
  }

  @Test
  void unknownDestinationsAndInvalidMessagesAreDroppedAndCounted() throws Exception {
    try (TestCluster c = new TestCluster(TestCluster.Mode.PLAINTEXT, List.of("a", "b"))) {
      c.deliverToSinks().connectAll();
      GrpcTransport a = c.t("a");
      assertThat(a.send(NodeId.of("nobody"), msg("x"))).isFalse();
      assertThat(a.droppedCount(DropReason.UNKNOWN_DESTINATION)).isEqualTo(1);
      // A SendMessage naming an impossible node ID is counted too, not thrown into the node.
      a.applyEvents(
          EventList.of(
              Event(
                  io.github.mirframework.event.pb.SendMessage.newBuilder()
                      .addDestinations("")
                      .addDestinations("b")
                      .setMsg(msg("ok"))
                      .build())));
      assertThat(a.droppedCount(DropReason.UNKNOWN_DESTINATION)).isEqualTo(2);
      assertThat(
              a.send(
                  NodeId.of("b"),
                  io.github.mirframework.event.pb.NetMessage.newBuilder()
                      .setDestModule("app")
                      .build()))
          .isFalse();
      assertThat(a.send(NodeId.of("b"), msg("x").toBuilder().setDestModule("/bad//module").build()))
          .isFalse();
      assertThat(a.droppedCount(DropReason.INVALID)).isEqualTo(2);
      Await.until(() -> c.sink("b").count() == 1, "the valid message arrives");
      assertThat(c.sink("b").received()).containsExactly(new CollectingSink.Received("a", "ok"));
    }
  }

  private static io.github.mirframework.event.Event Event(com.google.protobuf.Message payload) {
    return io.github.mirframework.event.Event.of(NET, payload);
  }

  @Test
  void tooLargeMessagesAreNotSent() throws Exception {
    try (TestCluster c =
        new TestCluster(
            TestCluster.Mode.PLAINTEXT,
            List.of("a", "b"),
            id -> TestCluster.fastParams().withMaxMessageSize(1024))) {
      c.deliverToSinks().connectAll();
      GrpcTransport a = c.t("a");
      String big = "x".repeat(2000);
      assertThat(a.send(List.of(NodeId.of("a"), NodeId.of("b")), msg(big)))
          .as("only the local delivery is accepted")
          .isEqualTo(1);
      assertThat(a.droppedCount(DropReason.TOO_LARGE)).isEqualTo(1);
      assertThat(a.send(NodeId.of("b"), msg("small"))).isTrue();
      Await.until(() -> c.sink("b").count() == 1, "the small message arrives");
    }
  }

  @Test
  void sendNeverBlocksAndCountsQueueOverflowPerPeer() throws Exception {
    try (TestCluster c =
        new TestCluster(
            TestCluster.Mode.PLAINTEXT,
            List.of("a", "b"),
            id -> TestCluster.fastParams().withSendQueue(5, 1 << 30))) {
      c.deliverToSinks();
      GrpcTransport a = c.t("a");
      c.t("b").stop();
      a.connect(c.membership("a", "b"));
      List<Boolean> results = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        results.add(a.send(NodeId.of("b"), msg("m" + i)));
      }
      assertThat(results).containsExactly(true, true, true, true, true, false, false, false);
      TransportMetrics m = a.metrics();
      assertThat(m.dropped(DropReason.QUEUE_FULL)).isEqualTo(3);
      assertThat(m.peers().get(NodeId.of("b")).droppedQueueFull()).isEqualTo(3);
      assertThat(m.peers().get(NodeId.of("b")).queued()).isEqualTo(5);
      assertThat(a.isConnected(NodeId.of("b"))).isFalse();
      assertThat(a.waitFor(2, Duration.ofMillis(50))).isFalse();
    }
  }
}
