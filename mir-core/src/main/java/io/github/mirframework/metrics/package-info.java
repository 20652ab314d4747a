/**
 * A tiny metrics SPI: what a node measures about itself, without depending on a metrics library.
 *
 * <p>A node built with {@code Node.Builder.metrics(NodeMetrics)} reports, per module, every batch
 * it applied (number of events and time spent in {@code applyEvents}) to a {@link ModuleMetrics},
 * and offers gauges that are read on demand: the events waiting in each module's buffer ({@link
 * ModuleGauges}), the events and bytes buffered in the node, whether input is paused and how many
 * received messages were dropped for want of a receiving module ({@link NodeGauges}). A module that
 * implements {@link TransportStats} (a transport) is handed to {@link NodeMetrics#transport} so its
 * per-peer counters can be published too. Ordering protocols report their progress (requests
 * applied, commit latency, view changes, epochs, checkpoints) to the {@link OrderingMetrics} the
 * binding gives out through {@link NodeMetrics#ordering}.
 *
 * <p>A binding turns these into a metrics library's meters (e.g. {@code mir-metrics-micrometer}).
 * Without a binding a node measures nothing: the only cost left is one null check per batch.
 */
package io.github.mirframework.metrics;
