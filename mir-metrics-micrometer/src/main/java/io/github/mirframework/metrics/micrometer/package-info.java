/**
 * Micrometer binding of Mir-Java's metrics SPI ({@code io.github.mirframework.metrics}) and a small
 * Prometheus HTTP endpoint.
 *
 * <p>Usage: one {@link MicrometerMetrics} per meter registry; {@code
 * Node.builder(id).metrics(metrics.forNode(id))} for each node; {@link PrometheusEndpoint#start} to
 * serve {@code /metrics}. Meter names and tags are listed in {@link MicrometerMetrics}.
 */
package io.github.mirframework.metrics.micrometer;
