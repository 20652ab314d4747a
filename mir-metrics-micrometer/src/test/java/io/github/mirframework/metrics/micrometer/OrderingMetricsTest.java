package io.github.mirframework.metrics.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.mirframework.metrics.NodeMetrics;
import io.github.mirframework.metrics.OrderingMetrics;
import io.github.mirframework.types.NodeId;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The ordering meters: what the protocol modules report through {@link NodeMetrics#ordering}
 * appears as {@code mir_ordering_*} series in the Prometheus scrape, per node, and the recorders
 * given out for one node add up.
 */
class OrderingMetricsTest {

  @Test
  void reportedProgressAppearsAsMirOrderingSeries() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    MicrometerMetrics metrics = new MicrometerMetrics(registry);
    AtomicLong clock = new AtomicLong(1_000);
    OrderingMetrics a = metrics.forNode(NodeId.of("a")).ordering(clock::get);
    OrderingMetrics b = metrics.forNode(NodeId.of("b")).ordering(clock::get);

    assertThat(a.nanoTime()).isEqualTo(1_000);
    clock.set(5_000);
    assertThat(a.nanoTime()).isEqualTo(5_000);

    a.epochStarted(0);
    a.requestsApplied(3);
    a.requestsApplied(0);
    a.certificateDelivered(false);
    a.certificateDelivered(false);
    a.certificateDelivered(true);
    a.committed(TimeUnit.MILLISECONDS.toNanos(20));
    a.committed(TimeUnit.MILLISECONDS.toNanos(40));
    a.viewChangeStarted("sn_timeout");
    a.viewChangeStarted("segment_timeout");
    a.viewChangeStarted("segment_timeout");
    a.checkpointStable(1, 16);
    a.epochCompleted(0);
    a.epochStarted(1);
    a.checkpointInstalled(3);
    a.epochStarted(3);
    b.requestsApplied(7);

    // A second recorder for node a (a restarted simulated node) adds to the same meters.
    OrderingMetrics again = metrics.forNode(NodeId.of("a")).ordering(clock::get);
    again.requestsApplied(2);
    again.checkpointStable(4, 64);

    Timer latency = registry.get("mir.ordering.commit.latency").tags("node", "a").timer();
    assertThat(latency.count()).isEqualTo(2);
    assertThat(latency.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(60.0);
    assertThat(latency.max(TimeUnit.MILLISECONDS)).isEqualTo(40.0);

    String scrape = registry.scrape();
    assertThat(scrape)
        .contains("# TYPE mir_ordering_requests_applied_total counter")
        .contains("mir_ordering_requests_applied_total{node=\"a\"} 5.0")
        .contains("mir_ordering_requests_applied_total{node=\"b\"} 7.0")
        .contains("mir_ordering_batches_applied_total{node=\"a\"} 3.0")
        .contains("mir_ordering_certificates_delivered_total{node=\"a\",outcome=\"ordered\"} 2.0")
        .contains("mir_ordering_certificates_delivered_total{node=\"a\",outcome=\"aborted\"} 1.0")
        .contains("mir_ordering_commit_latency_seconds_count{node=\"a\"} 2")
        .contains("mir_ordering_commit_latency_seconds_sum{node=\"a\"} 0.06")
        .contains("mir_ordering_commit_latency_seconds_bucket{node=\"a\",le=\"0.01\"} 0")
        .contains("mir_ordering_commit_latency_seconds_bucket{node=\"a\",le=\"0.02\"} 1")
        .contains("mir_ordering_commit_latency_seconds_bucket{node=\"a\",le=\"0.05\"} 2")
        .contains("mir_ordering_commit_latency_seconds_bucket{node=\"a\",le=\"+Inf\"} 2")
        .contains("mir_ordering_view_changes_total{cause=\"sn_timeout\",node=\"a\"} 1.0")
        .contains("mir_ordering_view_changes_total{cause=\"segment_timeout\",node=\"a\"} 2.0")
        .contains("mir_ordering_view_changes_total{cause=\"sn_timeout\",node=\"b\"} 0.0")
        .contains("mir_ordering_epoch{node=\"a\"} 3.0")
        .contains("mir_ordering_epochs_completed_total{node=\"a\"} 1.0")
        .contains("mir_ordering_checkpoints_stable_total{node=\"a\"} 2.0")
        .contains("mir_ordering_checkpoint_sn{node=\"a\"} 64.0")
        .contains("mir_ordering_checkpoints_installed_total{node=\"a\"} 1.0");
  }

  @Test
  void aBindingWithoutOrderingMetricsReturnsNull() {
    NodeMetrics none = (module, gauges) -> null;
    assertThat(none.ordering(System::nanoTime)).isNull();
  }
}
