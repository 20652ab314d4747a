package io.github.mirframework.net.grpc;

import static io.github.mirframework.net.grpc.TestCluster.msg;
import static org.assertj.core.api.Assertions.assertThat;

import io.github.mirframework.net.Membership;
import io.github.mirframework.types.NodeId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Two nodes that start at about the same time: whichever connects first is refused by the other
 * (which does not know it yet) and must not stay cut off for a whole backoff period, and nothing
 * either sends in the meantime may be lost.
 */
class ConnectionRaceTest {
  private static final NodeId A = NodeId.of("a");
  private static final NodeId B = NodeId.of("b");

  /** Backoff so long that waiting for it would time the test out. */
  private static GrpcTransport.Params slowRetry() {
    return GrpcTransport.Params.defaults()
        .withReconnectDelays(Duration.ofSeconds(60), Duration.ofSeconds(120));
  }

  @ParameterizedTest
  @EnumSource(TestCluster.Mode.class)
  void aRefusedNodeReconnectsAsSoonAsThePeerConnectsBack(TestCluster.Mode mode) throws Exception {
    try (TestCluster c = new TestCluster(mode, List.of("a", "b"), id -> slowRetry())) {
      c.deliverToSinks();
      Membership m = c.membership();
      c.t("a").connect(m);
      c.t("a").send(B, msg("sent while refused"));
      // b does not know a yet: a's stream is refused and a waits a minute before trying again.
      Await.until(() -> c.t("b").refusedStreamCount() >= 1, "b refuses a's first stream");
      assertThat(c.t("a").isConnected(B)).isFalse();

      c.t("b").connect(m);
      // b's stream to a shows that b is up and knows a: a retries at once instead of in a minute.
      Await.until(() -> c.t("a").isConnected(B) && c.t("b").isConnected(A), "a and b connected");
      c.t("b").send(A, msg("reply"));
      Await.until(
          () ->
              c.sink("b").textsFrom("a").equals(List.of("sent while refused"))
                  && c.sink("a").textsFrom("b").equals(List.of("reply")),
          "both messages delivered");
    }
  }

  /**
   * Both nodes connect and send at the same instant, many times over (each node's first stream may
   * be refused or accepted depending on who wins); every message must arrive exactly once and in
   * order.
   */
  @ParameterizedTest
  @EnumSource(TestCluster.Mode.class)
  void simultaneousConnectsLoseNothing(TestCluster.Mode mode) throws Exception {
    int rounds = 15;
    int perNode = 20;
    for (int r = 0; r < rounds; r++) {
      try (TestCluster c = new TestCluster(mode, List.of("a", "b"))) {
        c.deliverToSinks();
        Membership m = c.membership();
        CyclicBarrier start = new CyclicBarrier(2);
        List<Thread> threads = new ArrayList<>();
        List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
        for (NodeId self : c.ids) {
          NodeId other = self.equals(A) ? B : A;
          GrpcTransport t = c.transports.get(self);
          Thread th =
              Thread.ofPlatform()
                  .name("racer-" + self)
                  .start(
                      () -> {
                        try {
                          start.await(10, TimeUnit.SECONDS);
                          t.connect(m);
                          for (int k = 0; k < perNode; k++) {
                            t.send(other, msg(self + "-" + k));
                          }
                        } catch (Exception e) {
                          errors.add(e);
                        }
                      });
          threads.add(th);
        }
        for (Thread th : threads) {
          th.join();
        }
        assertThat(errors).isEmpty();
        List<String> fromA = new ArrayList<>();
        List<String> fromB = new ArrayList<>();
        for (int k = 0; k < perNode; k++) {
          fromA.add("a-" + k);
          fromB.add("b-" + k);
        }
        int round = r;
        Await.until(
            () -> c.sink("b").count() >= perNode && c.sink("a").count() >= perNode,
            Duration.ofSeconds(10),
            () ->
                "round "
                    + round
                    + ": a got "
                    + c.sink("a").received()
                    + ", b got "
                    + c.sink("b").received());
        assertThat(c.sink("b").textsFrom("a")).as("round %d", r).isEqualTo(fromA);
        assertThat(c.sink("a").textsFrom("b")).as("round %d", r).isEqualTo(fromB);
      }
    }
  }
}
