package io.github.mirframework.samples.pingpong;

import io.github.mirframework.eventlog.Recorder;
import io.github.mirframework.module.Module;
import io.github.mirframework.node.Node;
import io.github.mirframework.samples.MetricsServer;
import io.github.mirframework.samples.TransportChoice;
import io.github.mirframework.testing.TransportProvider;
import io.github.mirframework.timer.TimerModule;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Runs pingpong between two nodes in this JVM, over gRPC with mutual TLS by default. */
@Command(
    name = "pingpong",
    mixinStandardHelpOptions = true,
    description =
        "Two nodes in this JVM exchange pings and pongs over gRPC (Mir's pingpong sample).")
public final class PingPongCommand implements Callable<Integer> {

  @Option(
      names = "--rounds",
      defaultValue = "5",
      description = "Stop after each node received this many pongs; 0 runs until interrupted.")
  int rounds;

  @Option(
      names = "--period-ms",
      defaultValue = "1000",
      description = "Milliseconds between two pings of a node (default: ${DEFAULT-VALUE}).")
  long periodMs;

  @Option(
      names = "--transport",
      defaultValue = "GRPC",
      description =
          "GRPC (mutual TLS on 127.0.0.1), GRPC_PLAINTEXT or INPROCESS (default: ${DEFAULT-VALUE}).")
  TransportChoice transport = TransportChoice.GRPC;

  @Option(
      names = "--record",
      description =
          "Record every event of node N in <dir>/node-N (read them with: mircat --src <dir>/node-0).")
  Path recordDir;

  @Option(
      names = "--metrics-port",
      paramLabel = "PORT",
      description =
          "Serve Prometheus metrics of both nodes at http://127.0.0.1:PORT/metrics (0: a free"
              + " port, printed at start).")
  Integer metricsPort;

  /** Told about the metrics server once the rounds are done, before the nodes stop (tests). */
  java.util.function.Consumer<MetricsServer> beforeStop = m -> {};

  @Override
  public Integer call() throws Exception {
    return run(System.out);
  }

  /** Runs the sample, printing to {@code out}; returns the exit status. */
  public int run(PrintStream out) throws Exception {
    if (rounds < 0 || periodMs <= 0) {
      out.println("--rounds must be >= 0 and --period-ms > 0");
      return 2;
    }
    List<NodeId> ids = List.of(NodeId.of("0"), NodeId.of("1"));
    MetricsServer metrics = null;
    if (metricsPort != null) {
      try {
        metrics = MetricsServer.start(metricsPort);
      } catch (IllegalArgumentException | java.io.IOException e) {
        out.println("cannot serve metrics: " + e.getMessage());
        return 2;
      }
      out.println("metrics: " + metrics.url());
    }
    try {
      return run(out, ids, metrics);
    } finally {
      if (metrics != null) {
        metrics.close();
      }
    }
  }

  private int run(PrintStream out, List<NodeId> ids, MetricsServer metrics) throws Exception {
    TransportProvider net = transport.open(ids);
    // Done when every node has received `rounds` pongs (counting all nodes together would let one
    // node finish for both when the other's first connection attempt is delayed).
    Map<NodeId, CountDownLatch> pongsLeft = new LinkedHashMap<>();
    for (NodeId id : ids) {
      pongsLeft.put(id, new CountDownLatch(Math.max(rounds, 1)));
    }
    List<Node> nodes = new ArrayList<>();
    PingPong.Config cfg = PingPong.Config.defaults();
    for (NodeId id : ids) {
      Map<ModuleId, Module> modules = new LinkedHashMap<>();
      modules.put(cfg.net(), net.transport(id));
      modules.put(cfg.timer(), new TimerModule());
      modules.put(
          cfg.self(),
          new PingPong(
              cfg,
              id,
              Duration.ofMillis(periodMs),
              o -> {
                synchronized (out) {
                  out.println("node " + id + ": " + o);
                }
                if (o.kind().equals("pong") && rounds > 0) {
                  pongsLeft.get(id).countDown();
                }
              }));
      Node.Builder node = Node.builder(id).modules(modules);
      if (metrics != null) {
        node.metrics(metrics.forNode(id));
      }
      if (recordDir != null) {
        node.interceptor(Recorder.builder(id, recordDir.resolve("node-" + id)).build());
      }
      nodes.add(node.build());
    }
    try {
      nodes.forEach(Node::start);
      if (rounds == 0) {
        new CountDownLatch(1).await();
      }
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(rounds * periodMs + 30_000);
      for (Map.Entry<NodeId, CountDownLatch> e : pongsLeft.entrySet()) {
        if (!e.getValue().await(deadline - System.nanoTime(), TimeUnit.NANOSECONDS)) {
          out.println(
              "pingpong did not complete in time: node "
                  + e.getKey()
                  + " is still waiting for "
                  + e.getValue().getCount()
                  + " pongs");
          return 1;
        }
      }
      if (metrics != null) {
        beforeStop.accept(metrics);
      }
    } finally {
      nodes.forEach(Node::stop);
      net.close();
    }
    for (Node n : nodes) {
      if (n.failure().isPresent()) {
        out.println("node " + n.id() + " failed: " + n.failure().get());
        return 1;
      }
    }
    return 0;
  }
}
