package io.github.mirframework.tools.bench;

import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.types.NodeId;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One replica per process on this machine, started and stopped by the bench: each runs {@code bench
 * --role replica --spawned} from the same class path. Replicas quit when their standard input ends,
 * so they end with the bench even if it is killed; a shutdown hook also destroys them. Their logs
 * (standard error) go to {@code replica-<id>.log} in the output directory.
 *
 * <p>Threads: one reader of each replica's standard output ({@code bench-replica-<id>-out}), ended
 * when the replica ends.
 */
final class ProcessCluster implements Cluster {
  private static final long START_TIMEOUT_S = 180;

  private final List<Process> processes = new ArrayList<>();
  private final List<Thread> pumps = new ArrayList<>();
  private final List<BlockingQueue<String>> lines = new ArrayList<>();
  private final Thread hook = new Thread(this::destroyAll, "bench-kill-replicas");
  private RemoteCluster remote;

  ProcessCluster(BenchParams params, AppliedListener observer, PrintStream log) throws Exception {
    Files.createDirectories(params.out());
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      List<NodeId> ids = NodeId.range(params.nodes());
      for (NodeId id : ids) {
        spawn(params, id);
      }
      Map<NodeId, Integer> transportPorts = new LinkedHashMap<>();
      Map<NodeId, Integer> reportPorts = new LinkedHashMap<>();
      for (int i = 0; i < ids.size(); i++) {
        String[] f = expect(i, ReplicaRole.PORTS, params).split(" ");
        transportPorts.put(ids.get(i), Integer.parseInt(f[1]));
        reportPorts.put(ids.get(i), Integer.parseInt(f[2]));
      }
      String membership = ReplicaRole.membershipLine(transportPorts);
      for (Process p : processes) {
        OutputStream o = p.getOutputStream();
        o.write((membership + "\n").getBytes(StandardCharsets.UTF_8));
        o.flush();
      }
      Map<NodeId, RemoteCluster.Endpoint> endpoints = new LinkedHashMap<>();
      for (int i = 0; i < ids.size(); i++) {
        String[] f = expect(i, ReplicaRole.READY, params).split(" ");
        endpoints.put(
            ids.get(i),
            new RemoteCluster.Endpoint(
                NodeAddress.of("127.0.0.1", Integer.parseInt(f[1])),
                NodeAddress.of("127.0.0.1", reportPorts.get(ids.get(i)))));
      }
      log.println(
          "started "
              + ids.size()
              + " replica processes (pids "
              + processes.stream().map(p -> Long.toString(p.pid())).toList()
              + "), logs in "
              + params.out());
      remote = new RemoteCluster(params, endpoints, observer);
    } catch (Exception e) {
      close();
      throw e;
    }
  }

  private void spawn(BenchParams params, NodeId id) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    for (String o : params.replicaJvmOptions().trim().split("\\s+")) {
      if (!o.isEmpty()) {
        cmd.add(o);
      }
    }
    cmd.add("--enable-native-access=ALL-UNNAMED");
    if (Runtime.version().feature() >= 23) {
      cmd.add("--sun-misc-unsafe-memory-access=allow");
    }
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add("io.github.mirframework.samples.Samples");
    cmd.add("bench");
    cmd.addAll(BenchCommand.replicaArguments(params, id));
    Path logFile = params.out().resolve("replica-" + id.value() + ".log");
    Process p =
        new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.to(logFile.toFile())).start();
    processes.add(p);
    BlockingQueue<String> q = new LinkedBlockingQueue<>();
    lines.add(q);
    Thread pump =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  if (line.startsWith("BENCH-")) {
                    q.add(line);
                  }
                }
              } catch (IOException e) {
                // The replica ended.
              }
            },
            "bench-replica-" + id.value() + "-out");
    pump.setDaemon(true);
    pump.start();
    pumps.add(pump);
  }

  private String expect(int i, String prefix, BenchParams params) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(START_TIMEOUT_S);
    Process p = processes.get(i);
    while (System.nanoTime() < deadline) {
      String line = lines.get(i).poll(200, TimeUnit.MILLISECONDS);
      if (line != null) {
        if (line.startsWith(prefix + " ")) {
          return line;
        }
        continue;
      }
      if (!p.isAlive()) {
        throw new IOException(
            "replica "
                + i
                + " exited with status "
                + p.exitValue()
                + " before "
                + prefix
                + "; see "
                + params.out().resolve("replica-" + i + ".log"));
      }
    }
    throw new IOException(
        "replica " + i + " did not report " + prefix + " within " + START_TIMEOUT_S + " s");
  }

  @Override
  public Submitter submitter() {
    return remote.submitter();
  }

  @Override
  public Usage usage() throws Exception {
    return remote.usage();
  }

  @Override
  public long heapAfterGc() throws Exception {
    return remote.heapAfterGc();
  }

  @Override
  public boolean cpuIncludesClients() {
    return false;
  }

  @Override
  public void close() {
    if (remote != null) {
      remote.quitAll();
      remote.close();
    }
    for (Process p : processes) {
      try {
        p.getOutputStream().close(); // end of standard input: the replica quits
      } catch (IOException e) {
        // Already gone.
      }
    }
    for (Process p : processes) {
      try {
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
          p.destroy();
          if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        p.destroyForcibly();
      }
    }
    for (Thread t : pumps) {
      try {
        t.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // The JVM is shutting down: the hook runs.
    }
  }

  private void destroyAll() {
    for (Process p : processes) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
  }
}
