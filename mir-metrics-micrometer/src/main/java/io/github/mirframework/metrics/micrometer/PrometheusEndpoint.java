package io.github.mirframework.metrics.micrometer;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A minimal HTTP server that serves a {@link PrometheusMeterRegistry} in the Prometheus text format
 * at {@code GET /metrics} (JDK's built-in HTTP server; no other path, no other method).
 *
 * <p>It owns one thread ({@code mir-metrics-http}), ended by {@link #close()}. Thread-safe.
 */
public final class PrometheusEndpoint implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PrometheusEndpoint.class);

  /** The content type of the Prometheus text format. */
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final HttpServer server;
  private final ExecutorService executor;

  private PrometheusEndpoint(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  /**
   * Starts serving {@code registry} on {@code address} (port 0 picks a free port, see {@link
   * #port()}). {@code metrics}, if not null, is {@linkplain MicrometerMetrics#refresh() refreshed}
   * before each scrape so that new transport peers appear.
   *
   * @throws IOException if the address cannot be bound
   */
  public static PrometheusEndpoint start(
      PrometheusMeterRegistry registry, MicrometerMetrics metrics, InetSocketAddress address)
      throws IOException {
    Objects.requireNonNull(registry, "registry");
    Objects.requireNonNull(address, "address");
    HttpServer server = HttpServer.create(address, 16);
    ExecutorService executor =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "mir-metrics-http");
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(executor);
    server.createContext(
        "/",
        exchange -> {
          try (exchange) {
            handle(exchange, registry, metrics);
          } catch (IOException | RuntimeException e) {
            LOG.debug("metrics request failed", e);
          }
        });
    server.start();
    return new PrometheusEndpoint(server, executor);
  }

  private static void handle(
      HttpExchange exchange, PrometheusMeterRegistry registry, MicrometerMetrics metrics)
      throws IOException {
    if (!exchange.getRequestURI().getPath().equals("/metrics")) {
      send(exchange, 404, "only /metrics is served\n");
      return;
    }
    if (!exchange.getRequestMethod().equals("GET") && !exchange.getRequestMethod().equals("HEAD")) {
      exchange.getResponseHeaders().set("Allow", "GET, HEAD");
      send(exchange, 405, "use GET\n");
      return;
    }
    if (metrics != null) {
      metrics.refresh();
    }
    exchange.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
    send(exchange, 200, registry.scrape());
  }

  private static void send(HttpExchange exchange, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    boolean head = exchange.getRequestMethod().equals("HEAD");
    exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
    if (!head) {
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  /** The port the endpoint listens on. */
  public int port() {
    return server.getAddress().getPort();
  }

  /** Stops the server and ends its thread, waiting at most a second for a request in progress. */
  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
    try {
      if (!executor.awaitTermination(1, TimeUnit.SECONDS)) {
        LOG.warn("the metrics HTTP thread did not stop within a second");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
