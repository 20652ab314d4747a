package io.github.mirframework.examples.rbc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.examples.rbc.pb.Broadcast;
import io.github.mirframework.examples.rbc.pb.Deliver;
import io.github.mirframework.net.grpc.GrpcTransportProvider;
import io.github.mirframework.testing.Deployment;
import io.github.mirframework.types.NodeId;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The same nodes as in the simulation, as real nodes talking gRPC over mutual TLS on loopback. */
class ReliableBroadcastGrpcTest {
  @Test
  void fourNodesOverGrpcDeliverEveryBroadcast() throws Exception {
    List<NodeId> members = NodeId.range(4);
    ReliableBroadcast.Config config = ReliableBroadcast.Config.defaults(members);
    try (Deployment d =
        Deployment.builder(Deployment.Kind.PROVIDED)
            .nodes(members)
            .transports(GrpcTransportProvider.insecureMutualTls(7))
            .factory((id, env) -> RbcNode.modules(config, id, env.transport()))
            .build()) {
      for (NodeId id : members) {
        d.inject(
            id,
            EventList.of(
                Event.of(
                    config.self(),
                    Broadcast.newBuilder()
                        .setValue(ByteString.copyFromUtf8("from " + id))
                        .build())));
      }
      // DeliveryLog.delivered() is thread-safe, so the test thread may read it while nodes run.
      boolean done =
          d.runUntil(
              () ->
                  members.stream()
                      .allMatch(
                          id ->
                              d.module(id, config.consumer(), DeliveryLog.class).delivered().size()
                                  == 4),
              Duration.ofSeconds(60));
      assertThat(d.failures()).isEmpty();
      assertThat(done).as("every node delivered the 4 broadcasts").isTrue();
      for (NodeId id : members) {
        Set<String> values =
            d.module(id, config.consumer(), DeliveryLog.class).delivered().stream()
                .map(Deliver::getValue)
                .map(ByteString::toStringUtf8)
                .collect(Collectors.toSet());
        assertThat(values).containsExactlyInAnyOrder("from 0", "from 1", "from 2", "from 3");
      }
    }
  }
}
