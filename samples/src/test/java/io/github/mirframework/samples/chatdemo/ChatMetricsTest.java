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

/**
 * {@code chat --metrics-port 0}: the replicas' metrics (modules, transports, ordering progress) are
 * served while the chat runs.
 */
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
      // Every replica's own proposals reach delivery in sequence-number order, a moment after the
      // typed message is applied: scrape until node 1 has delivered one of its own.
      Pattern node1Delivered =
          Pattern.compile("mir_ordering_commit_latency_seconds_count\\{node=\"1\"} [1-9]");
      HttpClient http = HttpClient.newHttpClient();
      HttpResponse<String> resp;
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (true) {
        resp =
            http.send(
                HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(resp.statusCode()).isEqualTo(200);
        if (node1Delivered.matcher(resp.body()).find() || System.nanoTime() - deadline > 0) {
          break;
        }
        java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofMillis(200).toNanos());
      }
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
                  + "type=\"mir.iss.DeliverCert\"} [1-9]")
          // Ordering progress as reported by ISS and the app module: the typed message applied
          // on every replica, certificates delivered, the commit latency of own proposals.
          .containsPattern("mir_ordering_requests_applied_total\\{node=\"3\"} [1-9]")
          .containsPattern(
              "mir_ordering_certificates_delivered_total\\{node=\"0\",outcome=\"ordered\"}"
                  + " [1-9]")
          .containsPattern("mir_ordering_commit_latency_seconds_count\\{node=\"1\"} [1-9]")
          .contains("mir_ordering_epoch{node=\"2\"}")
          .contains("mir_ordering_view_changes_total{cause=\"sn_timeout\",node=\"0\"}");
      assertThat(chat.finish()).isZero();
    }
  }
}
