package io.github.mirframework.tools.bench;

import io.github.mirframework.client.RequestReceiver;
import io.github.mirframework.mempool.SimpleMempool;
import io.github.mirframework.net.Membership;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.net.grpc.GrpcTransport;
import io.github.mirframework.net.grpc.NodeIdentity;
import io.github.mirframework.net.grpc.Security;
import io.github.mirframework.node.Node;
import io.github.mirframework.types.NodeId;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * One replica in its own process: a Trantor node on the gRPC transport with mutual TLS, its request
 * receiver and its {@link ReportServer}. Either started by the bench ({@code spawned}: it binds
 * free ports, tells them on standard output, reads the membership from standard input and quits
 * when standard input ends, so it never outlives the bench) or on its own on fixed addresses from a
 * {@link MembershipFile} (it runs until told to quit or interrupted).
 */
final class ReplicaRole {
  static final String PORTS = "BENCH-PORTS";
  static final String MEMBERSHIP = "BENCH-MEMBERSHIP";
  static final String READY = "BENCH-READY";

  private ReplicaRole() {}

  /**
   * Runs replica {@code id} until it is told to quit.
   *
   * @param fixed the membership file, or null if spawned by the bench (talks over {@code in} and
   *     {@code out})
   */
  static void run(
      BenchParams params,
      NodeId id,
      Map<NodeId, MembershipFile.Entry> fixed,
      BufferedReader in,
      PrintStream out)
      throws Exception {
    CountDownLatch quit = new CountDownLatch(1);
    List<NodeId> ids = fixed == null ? NodeId.range(params.nodes()) : List.copyOf(fixed.keySet());
    if (!ids.contains(id)) {
      throw new IllegalArgumentException("replica " + id + " is not in the membership " + ids);
    }
    MembershipFile.Entry me = fixed == null ? null : fixed.get(id);
    String host = me == null ? "127.0.0.1" : me.host();
    GrpcTransport transport =
        GrpcTransport.builder(id, NodeAddress.of(host, me == null ? 0 : me.transportPort()))
            .security(Security.insecureMutualTlsForTesting(id, ids, params.keySeed()))
            .build();
    ReportServer report = null;
    Node node = null;
    RequestReceiver rr = null;
    Thread stdinWatch = null;
    Thread hook = null;
    try {
      transport.start();
      report = new ReportServer(host, me == null ? 0 : me.reportPort(), quit);
      Membership membership;
      if (fixed == null) {
        out.println(PORTS + " " + transport.listenAddress().port() + " " + report.port());
        out.flush();
        membership = parseMembership(in.readLine(), ids);
      } else {
        Map<NodeId, NodeAddress> a = new LinkedHashMap<>();
        fixed.forEach((n, e) -> a.put(n, e.transport()));
        membership = Membership.of(a);
      }
      transport.connect(membership);
      BenchApp app = new BenchApp(id.equals(ids.get(0)) ? report : null);
      node = Replicas.build(id, transport, membership, app, params);
      node.start();
      RequestReceiver.Builder b =
          RequestReceiver.builder(
                  node,
                  SimpleMempool.DEFAULT_ID,
                  NodeAddress.of(host, me == null ? 0 : me.requestPort()))
              // Unsigned requests: the bench measures ordering (see ClientPathBenchmark for
              // signing).
              .insecureUnauthenticatedClientsForTesting()
              .streamsPerConnection(GrpcSubmitter.STREAMS_PER_CONNECTION);
      if (params.tls()) {
        b.tls(NodeIdentity.insecureForTesting(id, params.keySeed()));
      } else {
        b.plaintext();
      }
      rr = b.build();
      rr.start();
      out.println(READY + " " + rr.listenAddress().port());
      out.flush();
      if (fixed == null) {
        stdinWatch = new Thread(() -> awaitEof(in, quit), "bench-stdin-watch");
        stdinWatch.setDaemon(true);
        stdinWatch.start();
      } else {
        hook = new Thread(quit::countDown, "bench-replica-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        out.println("replica " + id + " running; stop it with Ctrl-C or by the bench client ('Q')");
      }
      quit.await();
    } finally {
      if (rr != null) {
        rr.stop();
      }
      if (node != null) {
        node.stop();
      }
      transport.stop();
      if (report != null) {
        report.close();
      }
      if (hook != null) {
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
          // Shutting down already.
        }
      }
    }
  }

  private static void awaitEof(BufferedReader in, CountDownLatch quit) {
    try {
      while (in.readLine() != null) {
        // Nothing else is sent after the membership.
      }
    } catch (IOException e) {
      // The bench is gone either way.
    }
    quit.countDown();
  }

  /** Parses {@code BENCH-MEMBERSHIP 0=host:port 1=host:port ...}. */
  static Membership parseMembership(String line, List<NodeId> ids) {
    if (line == null || !line.startsWith(MEMBERSHIP + " ")) {
      throw new IllegalArgumentException("expected the membership from the bench, got " + line);
    }
    Map<NodeId, NodeAddress> a = new LinkedHashMap<>();
    for (String f : line.substring(MEMBERSHIP.length() + 1).trim().split(" ")) {
      int eq = f.indexOf('=');
      int colon = f.lastIndexOf(':');
      if (eq < 1 || colon < eq) {
        throw new IllegalArgumentException("bad membership entry '" + f + "'");
      }
      a.put(
          NodeId.of(f.substring(0, eq)),
          NodeAddress.of(f.substring(eq + 1, colon), Integer.parseInt(f.substring(colon + 1))));
    }
    if (!a.keySet().equals(new java.util.HashSet<>(ids))) {
      throw new IllegalArgumentException("membership " + a.keySet() + " is not " + ids);
    }
    return Membership.of(a);
  }

  /** The membership line for {@code ports} (transport port of each node on 127.0.0.1). */
  static String membershipLine(Map<NodeId, Integer> ports) {
    List<String> f = new ArrayList<>();
    ports.forEach((n, p) -> f.add(n.value() + "=127.0.0.1:" + p));
    return MEMBERSHIP + " " + String.join(" ", f);
  }
}
