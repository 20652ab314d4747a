package io.github.mirframework.metrics.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.pb.Init;
import io.github.mirframework.event.pb.MessageReceived;
import io.github.mirframework.event.pb.TestingUint;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.net.Membership;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.net.inprocess.InProcessNetwork;
import io.github.mirframework.node.Node;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Two nodes over the in-process transport, one sending 1000 messages to the other: the binding
 * reports the modules' events, batches and time, the node's gauges and the transport's per-peer
 * counters, and the endpoint serves them as Prometheus text.
 */
@Timeout(60)
class MicrometerMetricsTest {
  static final NodeId A = NodeId.of("a");
  static final NodeId B = NodeId.of("b");
  static final ModuleId NET = ModuleId.of("net");
  static final ModuleId APP = ModuleId.of("app");
  static final int MESSAGES = 1000;

  /** On Init, node a sends MESSAGES numbers to b's app; b counts what it receives. */
  static final class App implements PassiveModule {
    private final NodeId self;
    private final CountDownLatch received;

    App(NodeId self, CountDownLatch received) {
      this.self = self;
      this.received = received;
    }

    @Override
    public boolean receivesMessages() {
      return true;
    }

    @Override
    public EventList applyEvents(EventList events) {
      EventList out = EventList.empty();
      for (Event e : events) {
        if (e.payload() instanceof Init && self.equals(A)) {
          for (int i = 0; i < MESSAGES; i++) {
            out.add(
                Events.sendMessage(
                    NET, APP, TestingUint.newBuilder().setValue(i).build(), List.of(B)));
          }
        } else if (e.payload() instanceof MessageReceived) {
          received.countDown();
        }
      }
      return out;
    }
  }

  @Test
  void aShortRunReportsNonZeroCountersAndTheEndpointServesPrometheusText() throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    MicrometerMetrics metrics = new MicrometerMetrics(registry, 1, true);
    InProcessNetwork net = new InProcessNetwork(List.of(A, B));
    Membership membership =
        new Membership(
            List.of(A, B).stream()
                .collect(
                    Collectors.toMap(Function.identity(), n -> NodeAddress.of("127.0.0.1", 1))));
    CountDownLatch received = new CountDownLatch(MESSAGES);
    List<Node> nodes = new ArrayList<>();
    for (NodeId id : List.of(A, B)) {
      var transport = net.transport(id);
      transport.connect(membership);
      nodes.add(
          Node.builder(id)
              .module(NET, transport)
              .module(APP, new App(id, received))
              .metrics(metrics.forNode(id))
              .build());
    }
    try (PrometheusEndpoint endpoint =
        PrometheusEndpoint.start(
            registry, metrics, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
      nodes.forEach(Node::start);
      assertThat(received.await(30, TimeUnit.SECONDS)).isTrue();

      // Module counters: b's app applied at least the messages and its Init, in some batches.
      FunctionCounter events =
          registry.get("mir.module.events").tags("node", "b", "module", "app").functionCounter();
      assertThat(events.count()).isGreaterThanOrEqualTo(MESSAGES + 1);
      FunctionCounter batches =
          registry.get("mir.module.batches").tags("node", "b", "module", "app").functionCounter();
      assertThat(batches.count()).isBetween(1.0, events.count());
      FunctionTimer apply =
          registry.get("mir.module.apply").tags("node", "a", "module", "app").functionTimer();
      assertThat(apply.count()).isPositive();
      assertThat(apply.totalTime(TimeUnit.NANOSECONDS)).isPositive();
      Gauge queue = registry.get("mir.module.queue").tags("node", "a", "module", "net").gauge();
      assertThat(queue.value()).isGreaterThanOrEqualTo(0);

      // Events by type: b's app applied the messages as received messages.
      assertThat(
              registry
                  .get("mir.module.event.types")
                  .tags("node", "b", "module", "app", "type", "mir.core.MessageReceived")
                  .counter()
                  .count())
          .isEqualTo(MESSAGES);

      // Transport counters: a sent MESSAGES messages to b, b received them from a.
      metrics.refresh();
      assertThat(
              registry
                  .get("mir.transport.peer.messages.sent")
                  .tags("node", "a", "peer", "b")
                  .functionCounter()
                  .count())
          .isEqualTo(MESSAGES);
      assertThat(
              registry
                  .get("mir.transport.peer.bytes.received")
                  .tags("node", "b", "peer", "a")
                  .functionCounter()
                  .count())
          .isPositive();

      HttpResponse<String> resp =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(
                          URI.create("http://127.0.0.1:" + endpoint.port() + "/metrics"))
                      .timeout(Duration.ofSeconds(10))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(resp.statusCode()).isEqualTo(200);
      assertThat(resp.headers().firstValue("Content-Type"))
          .contains(PrometheusEndpoint.CONTENT_TYPE);
      assertThat(resp.body())
          .contains("# TYPE mir_module_events_total counter")
          .containsPattern("mir_module_events_total\\{module=\"app\",node=\"b\"} [1-9]")
          .containsPattern(
              "mir_transport_peer_messages_sent_total\\{node=\"a\",peer=\"b\",transport=\"net\"}"
                  + " 1000")
          .contains("mir_node_buffered_events{node=\"a\"}");

      HttpResponse<String> other =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + endpoint.port() + "/x"))
                      .timeout(Duration.ofSeconds(10))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(other.statusCode()).isEqualTo(404);
    } finally {
      nodes.forEach(Node::stop);
    }
    assertThat(nodes).allSatisfy(n -> assertThat(n.failure()).isEmpty());
  }
}
