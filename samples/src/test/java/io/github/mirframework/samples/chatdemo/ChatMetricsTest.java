package io.github.mirframework.samples.chatdemo;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code chat --metrics-port 0}: the replicas' metrics are served while the chat runs. */
@Timeout(300)
class ChatMetricsTest {

  @Test
  void theReplicasModulesAndTransportsAreServedAsPrometheusText() throws Exception {
    try (ChatCommandTest.Run chat =
        new ChatCommandTest.Run("--metrics-port", "0", "--drain-timeout-s", "20")) {
      chat.await("the banner", l -> l.stream().anyMatch(s -> s.contains("Quit with")));
      String url =
          chat.out.lines().stream()
              .map(Pattern.compile("metrics: (http://127\\.0\\.0\\.1:\\d+/metrics)")::matcher)
              .filter(Matcher::find)
              .map(m -> m.group(1))
              .findFirst()
              .orElseThrow();
      chat.type("hello metrics");
      chat.await(
          "the message on every replica",
          l -> l.stream().filter(s -> s.contains("hello metrics")).count() >= 4);
      HttpResponse<String> resp =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(resp.statusCode()).isEqualTo(200);
      assertThat(resp.body())
          .containsPattern("mir_module_events_total\\{module=\"iss\",node=\"0\"} [1-9]")
          .containsPattern("mir_module_events_total\\{module=\"app\",node=\"3\"} [1-9]")
          .containsPattern(
              "mir_transport_peer_messages_sent_total\\{node=\"1\",peer=\"2\",transport=\"net\"}"
                  + " [1-9]")
          .contains("mir_transport_messages_received_total{node=\"0\",transport=\"net\"}")
          // Ordering progress, from events counted by type: certificates delivered to the batch
          // fetcher.
          .containsPattern(
              "mir_module_event_types_total\\{module=\"batchfetcher\",node=\"0\","
                  + "type=\"mir.iss.DeliverCert\"} [1-9]");
      assertThat(chat.finish()).isZero();
    }
  }
}
