package io.github.mirframework.net.grpc;

import static io.github.mirframework.net.grpc.TestCluster.msg;
import static org.assertj.core.api.Assertions.assertThat;

import io.github.mirframework.net.Membership;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.types.NodeId;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The test scenarios of Mir's libp2p transport ({@code libp2p_transport_test.go}), adapted to the
 * gRPC transport. A libp2p "disconnect" becomes: the receiver forgets the sender and makes it known
 * again, which cuts the sender's stream and makes it reconnect.
 */
class GrpcTransportScenariosTest {
  static final NodeId A = NodeId.of("a");
  static final NodeId B = NodeId.of("b");
  static final NodeId C = NodeId.of("c");
  static final NodeId D = NodeId.of("d");
  static final NodeId E = NodeId.of("e");

  /** An address where nothing listens: a port that was bound and released. */
  static NodeAddress deadAddress() throws Exception {
    try (java.net.ServerSocket s =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return NodeAddress.loopback(s.getLocalPort());
    }
  }

  /** Cuts the connection from {@code from} to {@code to} at the receiving end. */
  static void disconnect(TestCluster c, NodeId from, NodeId to) {
    GrpcTransport receiver = c.transports.get(to);
    Membership all = c.membership();
    receiver.closeOldConnections(all.without(from));
    assertThat(receiver.hasIncomingStream(from)).isFalse();
    receiver.connect(all);
  }

  /** Sends numbered messages until one arrives (Mir's testEventuallySentMsg). */
  static void eventuallySent(TestCluster c, NodeId from, NodeId to, String text) {
    GrpcTransport t = c.transports.get(from);
    CollectingSink sink = c.sinks.get(to);
    int[] n = {0};
    Await.until(
        () -> {
          if (sink.textsFrom(from.value()).stream().anyMatch(s -> s.startsWith(text))) {
            return true;
          }
          t.send(to, msg(text + " #" + n[0]++));
          return false;
        },
        text + " from " + from + " to " + to);
  }

  static void eventuallyConnected(TestCluster c, NodeId x, NodeId y) {
    Await.until(
        () -> c.transports.get(x).isConnected(y) && c.transports.get(y).isConnected(x),
        x + " and " + y + " connected");
  }

  @Test
  void sending() throws Exception {
    try (TestCluster c =
        new TestCluster(TestCluster.Mode.MUTUAL_TLS, List.of("a", "b", "c", "d"))) {
      c.deliverToSinks();
      // e is a member that never comes up.
      Membership initial = c.membership().with(E, deadAddress());
      for (GrpcTransport t : c.transports.values()) {
        t.connect(initial);
      }
      for (NodeId x : c.ids) {
        for (NodeId y : c.ids) {
          if (x.compareTo(y) < 0) {
            eventuallyConnected(c, x, y);
          }
        }
      }
      GrpcTransport a = c.t("a");
      assertThat(a.send(NodeId.of("unknownNode"), msg("?"))).isFalse();
      assertThat(a.droppedCount(DropReason.UNKNOWN_DESTINATION)).isEqualTo(1);
      assertThat(a.send(E, msg("to e"))).as("queued for a node that is down").isTrue();
      assertThat(a.isConnected(E)).isFalse();

      assertThat(a.send(B, msg("to b"))).isTrue();
      assertThat(a.send(C, msg("to c"))).isTrue();
      Await.until(() -> c.sink("b").textsFrom("a").equals(List.of("to b")), "b receives");
      Await.until(() -> c.sink("c").textsFrom("a").equals(List.of("to c")), "c receives");

      disconnect(c, A, B);
      eventuallySent(c, A, B, "after disconnect");
      eventuallySent(c, A, C, "after disconnect");
      assertThat(a.metrics().peers().get(E).queued()).isEqualTo(1);
    }
  }

  @Test
  void connectingAndReconfiguring() throws Exception {
    try (TestCluster c =
        new TestCluster(TestCluster.Mode.MUTUAL_TLS, List.of("a", "b", "c", "d"))) {
      c.deliverToSinks();
      GrpcTransport a = c.t("a");
      GrpcTransport b = c.t("b");
      GrpcTransport cc = c.t("c");
      GrpcTransport d = c.t("d");
      Membership abc = c.membership("a", "b", "c");
      a.connect(abc);
      b.connect(abc);
      cc.connect(abc);
      eventuallyConnected(c, A, B);
      eventuallyConnected(c, A, C);
      eventuallyConnected(c, B, C);
      for (GrpcTransport t : List.of(a, b, cc)) {
        assertThat(t.isConnected(D)).isFalse();
        assertThat(d.hasIncomingStream(t.self())).isFalse();
      }

      Membership abd = c.membership("a", "b", "d");
      for (GrpcTransport t : List.of(a, b, d)) {
        t.connect(abd);
        t.closeOldConnections(abd);
      }
      eventuallyConnected(c, A, B);
      eventuallyConnected(c, A, D);
      eventuallyConnected(c, B, D);
      for (GrpcTransport t : List.of(a, b, d)) {
        assertThat(t.knownNodes()).containsExactlyInAnyOrder(A, B, D);
        assertThat(t.isConnected(C)).isFalse();
        assertThat(t.metrics().peers()).doesNotContainKey(C);
      }
      Await.until(
          () -> !cc.hasIncomingStream(A) && !cc.hasIncomingStream(B),
          "c's incoming streams from a and b end");
      // c still knows a and b, but they refuse it now.
      long refusedBefore = a.refusedStreamCount();
      assertThat(cc.send(A, msg("still there?"))).isTrue();
      Await.until(
          () -> a.refusedStreamCount() > refusedBefore, "a refuses the stream of removed node c");
      assertThat(a.send(C, msg("bye"))).isFalse();
      assertThat(a.droppedCount(DropReason.UNKNOWN_DESTINATION)).isEqualTo(1);
      assertThat(c.sink("a").textsFrom("c")).isEmpty();

      // Traffic within the new membership works.
      assertThat(d.send(List.of(A, B, D), msg("hello from d"))).isEqualTo(3);
      Await.until(
          () ->
              c.sink("a").textsFrom("d").size() == 1
                  && c.sink("b").textsFrom("d").size() == 1
                  && c.sink("d").textsFrom("d").size() == 1,
          "d's broadcast arrives");
    }
  }

  @Test
  void twoNodesInSyncMode() throws Exception {
    try (TestCluster c = new TestCluster(TestCluster.Mode.PLAINTEXT, List.of("a", "b"))) {
      c.deliverToSinks().connectAll();
      GrpcTransport a = c.t("a");
      assertThat(a.waitFor(2, Await.DEFAULT)).isTrue();
      assertThat(a.send(B, msg("one"))).isTrue();
      Await.until(() -> c.sink("b").count() == 1, "first message");
      disconnect(c, A, B);
      eventuallySent(c, A, B, "after disconnect");
      eventuallyConnected(c, A, B);
      assertThat(a.waitFor(2, Duration.ZERO)).isTrue();
      assertThat(a.waitFor(3, Duration.ofMillis(20))).as("only two nodes").isFalse();
    }
  }

  @Test
  void waitForReturnsFalseWhenStopped() throws Exception {
    try (TestCluster c = new TestCluster(TestCluster.Mode.PLAINTEXT, List.of("a", "b"))) {
      GrpcTransport a = c.t("a");
      a.connect(c.membership().with(E, deadAddress()));
      Thread stopper = new Thread(a::stop);
      stopper.start();
      assertThat(a.waitFor(3, Await.DEFAULT)).isFalse();
      stopper.join();
    }
  }

  @Test
  void messagingAcrossADisconnect() throws Exception {
    try (TestCluster c = new TestCluster(TestCluster.Mode.MUTUAL_TLS, List.of("a", "b"))) {
      c.deliverToSinks().connectAll();
      GrpcTransport a = c.t("a");
      assertThat(a.waitFor(2, Await.DEFAULT)).isTrue();
      int total = 300;
      int disconnectAt = total / 3;
      int sent = 0;
      for (int i = 0; i < total; i++) {
        if (i == disconnectAt) {
          disconnect(c, A, B);
        }
        if (a.send(B, msg("m" + i))) {
          sent++;
        }
      }
      int sentBefore = disconnectAt;
      int sentAfter = sent - sentBefore;
      // Messages written to the stream that was cut are lost; queued ones survive.
      Await.until(
          () -> c.sink("b").count() > sentBefore + sentAfter / 2,
          "more than half of the messages after the disconnect arrive");
      List<String> got = c.sink("b").textsFrom("a");
      assertThat(got).doesNotHaveDuplicates();
      assertThat(got)
          .isSortedAccordingTo(
              (x, y) ->
                  Integer.compare(
                      Integer.parseInt(x.substring(1)), Integer.parseInt(y.substring(1))));
    }
  }

  @Test
  void aSlowReceiverNeverBlocksTheSender() throws Exception {
    try (TestCluster c =
        new TestCluster(
            TestCluster.Mode.PLAINTEXT,
            List.of("a", "b"),
            id -> TestCluster.fastParams().withSendQueue(1000, 1 << 30).withInboxCapacity(100))) {
      c.deliverToSinks().connectAll();
      GrpcTransport a = c.t("a");
      GrpcTransport b = c.t("b");
      assertThat(a.waitFor(2, Await.DEFAULT)).isTrue();
      assertThat(a.send(B, msg("first"))).isTrue();
      Await.until(() -> c.sink("b").count() == 1, "first message");

      c.sink("b").block(); // b's node stops taking input
      int n = 200_000;
      long start = System.nanoTime();
      for (int i = 0; i < n; i++) {
        a.send(B, msg("flood " + i));
      }
      long elapsedMs = (System.nanoTime() - start) / 1_000_000;
      // The loop above never waited for b: what could not be queued was dropped.
      Await.until(() -> a.droppedCount(DropReason.QUEUE_FULL) > 0, "a's queue for b overflows");
      assertThat(elapsedMs).as("sending %d messages took %d ms", n, elapsedMs).isLessThan(20_000);
      // b buffers at most its inbox (plus one frame per stream) while its node is blocked.
      long receivedWhileBlocked = b.receivedCount();
      assertThat(receivedWhileBlocked).isLessThanOrEqualTo(1 + 100 + 4096 + 16);
      // a is still usable for others, and b catches up once unblocked.
      assertThat(a.send(A, msg("to self"))).isTrue();
      c.sink("b").unblock();
      Await.until(() -> c.sink("b").textsFrom("a").size() > 1000, "b catches up");
    }
  }

  @Test
  void oneConnectionAttemptAtATimeWithBackoff() throws Exception {
    try (TestCluster c = new TestCluster(TestCluster.Mode.PLAINTEXT, List.of("a"))) {
      c.deliverToSinks();
      GrpcTransport a = c.t("a");
      a.connect(c.membership("a").with(E, deadAddress()));
      assertThat(a.send(E, msg("into the void"))).isTrue();
      Await.until(
          () -> a.metrics().peers().get(E).connectAttempts() >= 5, "a retries connecting to e");
      long t0 = System.nanoTime();
      long attempts0 = a.metrics().peers().get(E).connectAttempts();
      Await.until(
          () -> a.metrics().peers().get(E).connectAttempts() >= attempts0 + 2, "more retries");
      long ms = (System.nanoTime() - t0) / 1_000_000;
      long attempts = a.metrics().peers().get(E).connectAttempts() - attempts0;
      // With the delay capped at 200 ms (x1.2 jitter), two more attempts take at least ~160 ms
      // once the backoff has grown: no busy retry loop.
      assertThat(ms / attempts).as("ms per attempt after %d attempts", attempts0).isGreaterThan(40);
      assertThat(a.isConnected(E)).isFalse();
      assertThat(a.metrics().peers().get(E).queued()).isEqualTo(1);
    }
  }

  @Test
  void openingAConnectionAfterFailures() throws Exception {
    try (TestCluster c = new TestCluster(TestCluster.Mode.MUTUAL_TLS, List.of("a"))) {
      c.deliverToSinks();
      GrpcTransport a = c.t("a");
      NodeAddress bAddress = deadAddress();
      a.connect(c.membership("a").with(B, bAddress));
      assertThat(a.send(B, msg("early"))).isTrue();
      Await.until(
          () -> a.metrics().peers().get(B).connectAttempts() >= 3,
          "a fails to reach b a few times");
      assertThat(a.isConnected(B)).isFalse();

      GrpcTransport b = c.newTransport(B, bAddress);
      b.start();
      b.connect(c.membership("a").with(B, bAddress));
      CollectingSink sink = new CollectingSink();
      b.start(sink);
      Await.until(() -> sink.textsFrom("a").equals(List.of("early")), "b gets the early message");
      assertThat(a.isConnected(B)).isTrue();
    }
  }
}
