package io.github.mirframework.net.inprocess;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.mirframework.event.Event;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.pb.NetMessage;
import io.github.mirframework.event.pb.TestingString;
import io.github.mirframework.net.Membership;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.net.Transport;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class InProcessTransportAsTransportTest {
  static final NodeId A = NodeId.of("a");
  static final NodeId B = NodeId.of("b");
  static final NodeId C = NodeId.of("c");
  static final NetMessage MSG =
      Events.netMessage(ModuleId.of("app"), TestingString.newBuilder().setValue("x").build());

  static Membership of(NodeId... ids) {
    java.util.Map<NodeId, NodeAddress> m = new java.util.HashMap<>();
    for (NodeId id : ids) {
      m.put(id, NodeAddress.loopback(1));
    }
    return Membership.of(m);
  }

  @Test
  void connectRestrictsDestinationsAndCloseOldConnectionsForgets() throws Exception {
    InProcessNetwork net = new InProcessNetwork(List.of(A, B, C));
    Transport a = net.transport(A);
    Transport b = net.transport(B);
    net.transport(C);
    LinkedBlockingQueue<Event> atB = new LinkedBlockingQueue<>();
    b.start(
        events -> {
          events.forEach(atB::add);
          return true;
        });
    try {
      a.start();
      // Before connect(), every member is a destination.
      assertThat(a.send(C, MSG)).isTrue();
      a.connect(of(A, B));
      assertThat(a.send(C, MSG)).isFalse();
      assertThat(a.send(List.of(B, C), MSG)).isEqualTo(1);
      assertThat(atB.poll(5, TimeUnit.SECONDS)).isNotNull();
      assertThat(a.waitFor(2, Duration.ofSeconds(5))).isTrue();
      assertThat(a.waitFor(3, Duration.ofMillis(10))).isFalse();
      a.closeOldConnections(of(A));
      assertThat(a.send(B, MSG)).isFalse();
      assertThat(Map.of("dropped", ((InProcessTransport) a).droppedMessages()))
          .containsEntry("dropped", 3L);
    } finally {
      a.stop();
      b.close();
    }
  }
}
