package io.github.mirframework.tools.bench;

import io.github.mirframework.types.NodeId;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code bench}: measures a Trantor system (ISS with PBFT, real ECDSA) under load: throughput,
 * latency percentiles, CPU per request, GC, heap, lost requests, with a progress line per second,
 * JSON/CSV results and PNG plots. Mir's {@code cmd/bench}, with defaults chosen for throughput.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Benchmarks a Trantor system (ISS + PBFT, ECDSA) under closed- or open-loop load.",
      "Layouts: all replicas in this JVM (in-process transport), or one JVM per replica over gRPC",
      "with mutual TLS (started and stopped by the bench). For several machines, run",
      "'--role replica --id N --membership FILE' on each replica machine and",
      "'--role client --membership FILE' on the load machine.",
      "Results (results.json, results.csv, timeseries.csv, throughput.png, latency.png) go to --out."
    })
public final class BenchCommand implements Callable<Integer> {

  /** What this invocation does. */
  enum Role {
    /** Start the replicas (layout) and drive the load. */
    BENCH,
    /** Run one replica on the addresses of a membership file. */
    REPLICA,
    /** Drive the load against replicas listed in a membership file. */
    CLIENT
  }

  @Spec CommandSpec spec;

  @Option(
      names = "--layout",
      description = "in-jvm or processes (default: ${DEFAULT-VALUE})",
      converter = LayoutConverter.class,
      defaultValue = "in-jvm")
  BenchParams.Layout layout;

  @Option(
      names = "--role",
      description = "bench, replica or client (default: ${DEFAULT-VALUE})",
      converter = RoleConverter.class,
      defaultValue = "bench")
  Role role;

  @Option(names = "--id", description = "the replica's ID (with --role replica)")
  String id;

  @Option(
      names = "--membership",
      description =
          "membership file: 'ID HOST TRANSPORT_PORT REQUEST_PORT REPORT_PORT' per line (roles replica and client)")
  Path membership;

  @Option(
      names = "--spawned",
      hidden = true,
      description = "replica started by the bench (ports and membership over stdin/stdout)")
  boolean spawned;

  @Option(
      names = "--nodes",
      description = "replicas (default: ${DEFAULT-VALUE})",
      defaultValue = "4")
  int nodes;

  @Option(
      names = "--clients",
      description = "clients (default: ${DEFAULT-VALUE})",
      defaultValue = "50")
  int clients;

  @Option(
      names = "--outstanding",
      description = "requests in flight per client, closed loop (default: ${DEFAULT-VALUE})",
      defaultValue = "1")
  int outstanding;

  @Option(
      names = "--rate",
      description =
          "open loop: total requests per second, 0 for a closed loop (default: ${DEFAULT-VALUE})",
      defaultValue = "0")
  int rate;

  @Option(
      names = "--request-size",
      description = "payload bytes per request (default: ${DEFAULT-VALUE})",
      defaultValue = "0")
  int requestSize;

  @Option(
      names = "--warmup",
      description =
          "load before measuring, e.g. 15s (default: 15s in one JVM; 120s with --layout processes,"
              + " where every replica JVM compiles the same code on the shared cores)",
      converter = Durations.class)
  Duration warmup;

  /** The default warm-up in one JVM. */
  static final Duration WARMUP_IN_JVM = Duration.ofSeconds(15);

  /**
   * The default warm-up with one JVM per replica: on a 2-core machine the JIT compilers of five
   * JVMs still take a sixth of a replica's CPU after 90 s, and throughput keeps rising until then.
   */
  static final Duration WARMUP_PROCESSES = Duration.ofSeconds(120);

  @Option(
      names = "--duration",
      description = "measured time (default: ${DEFAULT-VALUE})",
      converter = Durations.class,
      defaultValue = "30s")
  Duration duration;

  @Option(
      names = "--drain",
      description =
          "longest wait for requests in flight after the load (default: ${DEFAULT-VALUE})",
      converter = Durations.class,
      defaultValue = "10s")
  Duration drain;

  @Option(
      names = "--submit",
      description =
          "grpc (MirClient to every replica's request receiver) or direct (inject into the replicas; in-jvm only) (default: ${DEFAULT-VALUE})",
      converter = SubmitConverter.class,
      defaultValue = "grpc")
  BenchParams.SubmitPath submit;

  @Option(
      names = "--client-tls",
      negatable = true,
      description = "clients talk TLS to the replicas (default: ${DEFAULT-VALUE})",
      defaultValue = "true",
      fallbackValue = "true")
  boolean tls;

  @Option(
      names = "--shared-connections",
      negatable = true,
      description =
          "the clients share one connection (and I/O thread) per replica, as in a process serving many users; --no-shared-connections gives each client its own (default: ${DEFAULT-VALUE})",
      defaultValue = "true",
      fallbackValue = "true")
  boolean sharedConnections;

  @Option(
      names = "--worker-threads",
      description =
          "threads that run a replica's modules; 0 = one thread per module (default: ${DEFAULT-VALUE})",
      defaultValue = "1")
  int workerThreads;

  @Option(
      names = "--batch-size",
      description = "most requests per batch (default: ${DEFAULT-VALUE})",
      defaultValue = "1024")
  int batchSize;

  @Option(
      names = "--proposal-delay",
      description = "longest wait of a leader to fill a batch (default: ${DEFAULT-VALUE})",
      converter = Durations.class,
      defaultValue = "2ms")
  Duration proposalDelay;

  @Option(
      names = "--batch-timeout",
      description =
          "longest wait of a leader's batch request for a first request; an idle leader proposes"
              + " an empty batch only this often (0: at once) (default: ${DEFAULT-VALUE})",
      converter = Durations.class,
      defaultValue = "50ms")
  Duration batchTimeout;

  @Option(
      names = "--segment-length",
      description = "sequence numbers per leader and epoch (default: ${DEFAULT-VALUE})",
      defaultValue = "64")
  int segmentLength;

  @Option(
      names = "--leaders",
      description = "replicas leading a segment in each epoch (default: ${DEFAULT-VALUE})",
      defaultValue = "1")
  int leaders;

  @Option(
      names = "--view-change-sn-timeout",
      description = "PBFT view-change timeout per sequence number (default: ${DEFAULT-VALUE})",
      converter = Durations.class,
      defaultValue = "4s")
  Duration vcSn;

  @Option(
      names = "--view-change-segment-timeout",
      description = "PBFT view-change timeout per segment (default: ${DEFAULT-VALUE})",
      converter = Durations.class,
      defaultValue = "10s")
  Duration vcSegment;

  @Option(
      names = "--key-seed",
      description =
          "seed of the deterministic, insecure benchmark keys (default: ${DEFAULT-VALUE})",
      defaultValue = "1")
  long keySeed;

  @Option(names = "--out", description = "result directory (default: bench-results/<date-time>)")
  Path out;

  @Option(
      names = "--replica-jvm-options",
      description = "JVM options of replica processes (default: ${DEFAULT-VALUE})",
      defaultValue = "-Xms1g -Xmx4g -XX:+UseG1GC")
  String replicaJvmOptions;

  @Option(
      names = "--jfr",
      description =
          "record the measured window of this JVM with Java Flight Recorder (window.jfr in --out); for replica processes add -XX:StartFlightRecording to --replica-jvm-options")
  boolean jfr;

  /** Picocli's entry point: runs on standard input and output. */
  @Override
  public Integer call() throws Exception {
    return run(System.out);
  }

  BenchParams params() {
    Path dir =
        out != null
            ? out
            : Path.of(
                "bench-results",
                LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    return new BenchParams(
        layout,
        nodes,
        clients,
        outstanding,
        rate,
        requestSize,
        warmup != null
            ? warmup
            : layout == BenchParams.Layout.PROCESSES ? WARMUP_PROCESSES : WARMUP_IN_JVM,
        duration,
        drain,
        submit,
        tls,
        sharedConnections,
        workerThreads,
        batchSize,
        proposalDelay,
        batchTimeout,
        segmentLength,
        leaders,
        vcSn,
        vcSegment,
        keySeed,
        dir,
        replicaJvmOptions,
        jfr);
  }

  /** Runs the command, printing to {@code stdout}; returns the exit status. */
  int run(PrintStream stdout) throws Exception {
    BenchParams p;
    try {
      p = params();
      if (role != Role.REPLICA && (id != null || spawned)) {
        throw new IllegalArgumentException("--id and --spawned are for --role replica");
      }
      if (role == Role.REPLICA && id == null) {
        throw new IllegalArgumentException("--role replica needs --id");
      }
      if (role == Role.REPLICA && spawned == (membership != null)) {
        throw new IllegalArgumentException(
            "--role replica needs --membership (or is started by the bench)");
      }
      if (role == Role.CLIENT && membership == null) {
        throw new IllegalArgumentException("--role client needs --membership");
      }
      if (role == Role.BENCH && membership != null) {
        throw new IllegalArgumentException("--membership is for --role replica or client");
      }
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    switch (role) {
      case REPLICA -> {
        BufferedReader in =
            new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        ReplicaRole.run(
            p, NodeId.of(id), spawned ? null : MembershipFile.read(membership), in, stdout);
        return 0;
      }
      case CLIENT -> {
        Map<NodeId, MembershipFile.Entry> m = MembershipFile.read(membership);
        Map<NodeId, RemoteCluster.Endpoint> endpoints = new LinkedHashMap<>();
        m.forEach((n, e) -> endpoints.put(n, new RemoteCluster.Endpoint(e.requests(), e.report())));
        return bench(p, stdout, load -> new RemoteCluster(p, endpoints, load));
      }
      default -> {
        return bench(
            p,
            stdout,
            load ->
                p.layout() == BenchParams.Layout.IN_JVM
                    ? new InJvmCluster(p, load)
                    : new ProcessCluster(p, load, stdout));
      }
    }
  }

  /** Opens the cluster under test for a load generator. */
  @FunctionalInterface
  interface ClusterFactory {
    Cluster open(LoadGenerator load) throws Exception;
  }

  static int bench(BenchParams p, PrintStream stdout, ClusterFactory factory) throws Exception {
    stdout.println("bench parameters:");
    p.describe().forEach((k, v) -> stdout.printf("  %-28s %s%n", k, v));
    LoadGenerator load = new LoadGenerator(p);
    BenchResults results;
    try (Cluster cluster = factory.open(load)) {
      try {
        results = BenchRun.run(p, cluster, load, stdout);
      } finally {
        load.stop();
      }
    }
    results.print(stdout);
    List<Path> files = results.write(p.out());
    stdout.println("results: " + files.stream().map(Path::toString).toList());
    return 0;
  }

  /** The arguments of a replica process started by the bench for {@code params}. */
  static List<String> replicaArguments(BenchParams params, NodeId id) {
    List<String> a = new ArrayList<>();
    a.addAll(List.of("--role", "replica", "--spawned", "--id", id.value()));
    a.addAll(List.of("--nodes", Integer.toString(params.nodes())));
    a.addAll(List.of("--batch-size", Integer.toString(params.batchSize())));
    a.addAll(List.of("--worker-threads", Integer.toString(params.workerThreads())));
    a.addAll(List.of("--proposal-delay", params.proposalDelay().toMillis() + "ms"));
    a.addAll(List.of("--batch-timeout", params.batchTimeout().toMillis() + "ms"));
    a.addAll(List.of("--segment-length", Integer.toString(params.segmentLength())));
    a.addAll(List.of("--leaders", Integer.toString(params.leaders())));
    a.addAll(List.of("--view-change-sn-timeout", params.viewChangeSnTimeout().toMillis() + "ms"));
    a.addAll(
        List.of(
            "--view-change-segment-timeout", params.viewChangeSegmentTimeout().toMillis() + "ms"));
    a.addAll(List.of("--key-seed", Long.toString(params.keySeed())));
    a.add(params.tls() ? "--client-tls" : "--no-client-tls");
    a.addAll(List.of("--out", params.out().toString()));
    return a;
  }

  /** Accepts {@code in-jvm} and {@code processes}. */
  static final class LayoutConverter implements CommandLine.ITypeConverter<BenchParams.Layout> {
    @Override
    public BenchParams.Layout convert(String v) {
      return switch (v.toLowerCase(java.util.Locale.ROOT)) {
        case "in-jvm", "injvm", "in_jvm" -> BenchParams.Layout.IN_JVM;
        case "processes" -> BenchParams.Layout.PROCESSES;
        default ->
            throw new CommandLine.TypeConversionException(
                "'" + v + "' is not a layout (in-jvm, processes)");
      };
    }
  }

  /** Accepts {@code grpc} and {@code direct}. */
  static final class SubmitConverter implements CommandLine.ITypeConverter<BenchParams.SubmitPath> {
    @Override
    public BenchParams.SubmitPath convert(String v) {
      return switch (v.toLowerCase(java.util.Locale.ROOT)) {
        case "grpc" -> BenchParams.SubmitPath.GRPC;
        case "direct" -> BenchParams.SubmitPath.DIRECT;
        default ->
            throw new CommandLine.TypeConversionException(
                "'" + v + "' is not a submit path (grpc, direct)");
      };
    }
  }

  /** Accepts {@code bench}, {@code replica} and {@code client}. */
  static final class RoleConverter implements CommandLine.ITypeConverter<Role> {
    @Override
    public Role convert(String v) {
      return switch (v.toLowerCase(java.util.Locale.ROOT)) {
        case "bench" -> Role.BENCH;
        case "replica" -> Role.REPLICA;
        case "client" -> Role.CLIENT;
        default ->
            throw new CommandLine.TypeConversionException(
                "'" + v + "' is not a role (bench, replica, client)");
      };
    }
  }
}
