package io.github.mirframework.samples;

import io.github.mirframework.metrics.NodeMetrics;
import io.github.mirframework.metrics.micrometer.MicrometerMetrics;
import io.github.mirframework.metrics.micrometer.PrometheusEndpoint;
import io.github.mirframework.types.NodeId;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * The samples' {@code --metrics-port}: one Prometheus registry for every node of the process (with
 * events counted by payload type, plus JVM memory, thread and CPU meters), served at {@code
 * http://127.0.0.1:PORT/metrics}. Thread-safe; {@link #close()} stops the HTTP server.
 */
public final class MetricsServer implements AutoCloseable {
  private final PrometheusMeterRegistry registry;
  private final MicrometerMetrics metrics;
  private final PrometheusEndpoint endpoint;

  private MetricsServer(
      PrometheusMeterRegistry registry, MicrometerMetrics metrics, PrometheusEndpoint endpoint) {
    this.registry = registry;
    this.metrics = metrics;
    this.endpoint = endpoint;
  }

  /**
   * Starts serving on the loopback interface, port {@code port} (0 picks a free one).
   *
   * @throws IOException if the port cannot be bound
   * @throws IllegalArgumentException if the port is not in 0..65535
   */
  public static MetricsServer start(int port) throws IOException {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("--metrics-port must be in 0..65535, got " + port);
    }
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    // The samples are slow enough to count every event by type (epochs, certificates, ...).
    MicrometerMetrics metrics =
        new MicrometerMetrics(registry, MicrometerMetrics.DEFAULT_TIMING_SAMPLE_PERIOD, true);
    PrometheusEndpoint endpoint =
        PrometheusEndpoint.start(
            registry, metrics, new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    return new MetricsServer(registry, metrics, endpoint);
  }

  /** The metrics of node {@code id}, for {@code Node.Builder.metrics}. */
  public NodeMetrics forNode(NodeId id) {
    return metrics.forNode(id);
  }

  /** Where the metrics are served. */
  public String url() {
    return "http://127.0.0.1:" + endpoint.port() + "/metrics";
  }

  /** The registry's current content in the Prometheus text format. */
  public String scrape() {
    metrics.refresh();
    return registry.scrape();
  }

  @Override
  public void close() {
    endpoint.close();
    registry.close();
  }
}
