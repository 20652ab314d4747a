package io.github.mirframework.client;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.github.mirframework.event.EventList;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.node.Node;
import io.github.mirframework.types.ClientId;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * An idle client keeps its streams: the receiver permits the client's keep-alive pings. gRPC does
 * not let a client ping more often than every 10 s, so the idle period is real time (~40 s); a
 * receiver with gRPC's default permit (one ping per 5 minutes) runs alongside as the control and
 * must end its idle client's connection with {@code GOAWAY ENHANCE_YOUR_CALM (too_many_pings)}.
 */
class KeepAliveTest {
  static final ModuleId MEMPOOL = ModuleId.of("mempool");

  final List<AutoCloseable> toClose = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  <T extends AutoCloseable> T closeLater(T c) {
    toClose.add(c);
    return c;
  }

  MirClient idleClient(String name, RequestReceiver.Params params) throws Exception {
    PassiveModule sink = events -> EventList.empty();
    Node node = closeLater(Node.builder(NodeId.of(0)).module(MEMPOOL, sink).build());
    node.start();
    RequestReceiver rr =
        closeLater(
            RequestReceiver.builder(node, MEMPOOL, NodeAddress.loopback(0))
                .plaintext()
                .insecureUnauthenticatedClientsForTesting()
                .params(params)
                .build());
    rr.start();
    MirClient c =
        closeLater(
            MirClient.builder(ClientId.of(name))
                .nodes(Map.of(NodeId.of(0), rr.listenAddress()))
                .plaintext()
                .insecureUnsignedRequestsForTesting()
                .params(MirClient.Params.defaults().withKeepAliveTime(Duration.ofSeconds(10)))
                .build());
    c.start();
    long first = c.submit(ByteString.copyFromUtf8("hello"));
    assertThat(c.awaitAcknowledged(first, 1, Duration.ofSeconds(30))).isTrue();
    return c;
  }

  @Test
  void anIdleClientIsNeverToldTooManyPings() throws Exception {
    assertThat(RequestReceiver.Params.defaults().permitKeepAliveTime())
        .isLessThanOrEqualTo(MirClient.Params.defaults().keepAliveTime());
    MirClient agreed = idleClient("agreed", RequestReceiver.Params.defaults());
    MirClient control =
        idleClient(
            "control",
            RequestReceiver.Params.defaults()
                .withKeepAlive(Duration.ofMinutes(5), Duration.ofMinutes(5)));

    // Idle until the control client's connection is ended for pinging (three 10 s pings).
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (control.streamsEndedCount() == 0) {
      assertThat(System.nanoTime()).as("the control is told too_many_pings").isLessThan(deadline);
      LockSupport.parkNanos(50_000_000);
    }
    // The agreed client has idled just as long, pinging every 10 s, and kept its stream.
    assertThat(agreed.streamsEndedCount()).isZero();
    long reqNo = agreed.submit(ByteString.copyFromUtf8("after idling"));
    assertThat(agreed.awaitAcknowledged(reqNo, 1, Duration.ofSeconds(30))).isTrue();
    assertThat(agreed.streamsEndedCount()).isZero();
  }
}
