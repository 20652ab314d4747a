package io.github.mirframework.samples.pingpong;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.mirframework.samples.TransportChoice;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code pingpong --metrics-port 0} serves both nodes' metrics over HTTP while it runs. */
@Timeout(60)
class PingPongMetricsTest {

  @Test
  void theMetricsEndpointServesPrometheusTextWithBothNodesModulesAndPeers() throws Exception {
    PingPongCommand cmd = new PingPongCommand();
    cmd.transport = TransportChoice.GRPC_PLAINTEXT;
    cmd.rounds = 3;
    cmd.periodMs = 20;
    cmd.metricsPort = 0;
    AtomicReference<HttpResponse<String>> scraped = new AtomicReference<>();
    cmd.beforeStop =
        m -> {
          try {
            scraped.set(
                HttpClient.newHttpClient()
                    .send(
                        HttpRequest.newBuilder(URI.create(m.url()))
                            .timeout(Duration.ofSeconds(10))
                            .build(),
                        HttpResponse.BodyHandlers.ofString()));
          } catch (Exception e) {
            throw new AssertionError(e);
          }
        };
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    int rc = cmd.run(new PrintStream(buf, true, StandardCharsets.UTF_8));
    String out = buf.toString(StandardCharsets.UTF_8);
    assertThat(rc).as(out).isZero();
    assertThat(out).containsPattern("metrics: http://127\\.0\\.0\\.1:\\d+/metrics");
    HttpResponse<String> resp = scraped.get();
    assertThat(resp.statusCode()).isEqualTo(200);
    assertThat(resp.body())
        .containsPattern("mir_module_events_total\\{module=\"pingpong\",node=\"0\"} [1-9]")
        .containsPattern("mir_module_events_total\\{module=\"pingpong\",node=\"1\"} [1-9]")
        .containsPattern(
            "mir_transport_peer_messages_sent_total\\{node=\"0\",peer=\"1\",transport=\"net\"}"
                + " [1-9]")
        .contains("mir_module_apply_seconds_count{module=\"timer\",node=\"0\"}")
        .contains("jvm_memory_used_bytes");
  }
}
