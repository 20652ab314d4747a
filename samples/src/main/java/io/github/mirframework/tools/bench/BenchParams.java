package io.github.mirframework.tools.bench;

import io.github.mirframework.iss.Iss;
import io.github.mirframework.iss.pbft.PbftParams;
import io.github.mirframework.mempool.SimpleMempool;
import io.github.mirframework.net.Membership;
import io.github.mirframework.trantor.Trantor;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Everything a bench run depends on, validated. Immutable.
 *
 * @param layout where the replicas run
 * @param nodes number of replicas
 * @param clients number of clients
 * @param outstanding requests each client keeps in flight (closed loop; ignored with a rate)
 * @param rate total requests per second of an open-loop load, 0 for a closed loop
 * @param requestSize payload bytes per request
 * @param warmup load before measuring
 * @param duration measured time
 * @param drain how long to wait after the load for requests still in flight
 * @param submit how requests reach the replicas
 * @param tls whether clients talk TLS to the replicas (replicas always talk mutual TLS to each
 *     other over gRPC)
 * @param sharedConnections whether the bench's clients share one connection per replica ({@code
 *     ClientChannels}) instead of each opening its own
 * @param workerThreads worker threads per replica node ({@code NodeConfig.workerThreads}; 0: one
 *     per module)
 * @param batchSize most requests in a batch (mempool)
 * @param proposalDelay longest time a leader waits to fill a batch
 * @param batchTimeout how long a leader's batch request waits for a first request when there is
 *     none (then an empty batch is proposed); 0 proposes empty batches at once
 * @param segmentLength sequence numbers per leader and epoch
 * @param leaders how many replicas lead a segment per epoch
 * @param viewChangeSnTimeout PBFT's per-sequence-number view-change timeout
 * @param viewChangeSegmentTimeout PBFT's per-segment view-change timeout
 * @param keySeed seed of the deterministic (insecure) keys of replicas and TLS
 * @param out directory of the result files
 * @param replicaJvmOptions JVM options of replica processes, space-separated
 * @param jfr whether to record the measured window of this JVM with Java Flight Recorder
 */
record BenchParams(
    Layout layout,
    int nodes,
    int clients,
    int outstanding,
    int rate,
    int requestSize,
    Duration warmup,
    Duration duration,
    Duration drain,
    SubmitPath submit,
    boolean tls,
    boolean sharedConnections,
    int workerThreads,
    int batchSize,
    Duration proposalDelay,
    Duration batchTimeout,
    int segmentLength,
    int leaders,
    Duration viewChangeSnTimeout,
    Duration viewChangeSegmentTimeout,
    long keySeed,
    Path out,
    String replicaJvmOptions,
    boolean jfr) {

  /** Where the replicas run. */
  enum Layout {
    /** All replicas in this JVM, connected by the in-process transport. */
    IN_JVM,
    /** One JVM per replica started by the bench, connected by gRPC with mutual TLS. */
    PROCESSES
  }

  /** How the load reaches the replicas. */
  enum SubmitPath {
    /** Through {@code MirClient} and each replica's request receiver (gRPC). */
    GRPC,
    /** Injected into every replica's mempool directly (one JVM only): the ordering path alone. */
    DIRECT
  }

  /** The period of ISS's catch-up, checkpoint-resend and PBFT Done-resend timers. */
  static final Duration BACKGROUND_PERIOD = Duration.ofMillis(500);

  BenchParams {
    Objects.requireNonNull(layout, "layout");
    Objects.requireNonNull(submit, "submit");
    Objects.requireNonNull(out, "out");
    Objects.requireNonNull(replicaJvmOptions, "replicaJvmOptions");
    List<String> problems = new ArrayList<>();
    if (nodes < 1 || nodes > 64) {
      problems.add("--nodes must be between 1 and 64, got " + nodes);
    }
    if (clients < 1 || clients > 100_000) {
      problems.add("--clients must be between 1 and 100000, got " + clients);
    }
    if (outstanding < 1 || outstanding > 10_000) {
      problems.add("--outstanding must be between 1 and 10000, got " + outstanding);
    }
    if (rate < 0) {
      problems.add("--rate must not be negative, got " + rate);
    }
    if (requestSize < 0 || requestSize > 1 << 20) {
      problems.add("--request-size must be between 0 and 1048576 bytes, got " + requestSize);
    }
    nonNegative(problems, "--warmup", warmup);
    positive(problems, "--duration", duration);
    nonNegative(problems, "--drain", drain);
    if (workerThreads < 0 || workerThreads > 1024) {
      problems.add("--worker-threads must be between 0 and 1024, got " + workerThreads);
    }
    if (batchSize < 1) {
      problems.add("--batch-size must be at least 1, got " + batchSize);
    }
    nonNegative(problems, "--proposal-delay", proposalDelay);
    nonNegative(problems, "--batch-timeout", batchTimeout);
    if (segmentLength < 1) {
      problems.add("--segment-length must be at least 1, got " + segmentLength);
    }
    if (leaders < 1 || leaders > nodes) {
      problems.add("--leaders must be between 1 and --nodes (" + nodes + "), got " + leaders);
    }
    positive(problems, "--view-change-sn-timeout", viewChangeSnTimeout);
    positive(problems, "--view-change-segment-timeout", viewChangeSegmentTimeout);
    if (submit == SubmitPath.DIRECT && layout != Layout.IN_JVM) {
      problems.add("--submit direct needs --layout in-jvm (it injects requests into the nodes)");
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(String.join("; ", problems));
    }
  }

  private static void positive(List<String> problems, String name, Duration d) {
    if (d == null || d.isNegative() || d.isZero()) {
      problems.add(name + " must be positive, got " + d);
    }
  }

  private static void nonNegative(List<String> problems, String name, Duration d) {
    if (d == null || d.isNegative()) {
      problems.add(name + " must not be negative, got " + d);
    }
  }

  /** Whether the load is open-loop (a fixed rate) rather than closed-loop. */
  boolean openLoop() {
    return rate > 0;
  }

  /** The Trantor parameters of a replica in {@code membership}. */
  Trantor.Params trantorParams(Membership membership) {
    Iss.Params d = Iss.Params.defaults(membership);
    Iss.Params iss =
        new Iss.Params(
            membership,
            d.configOffset(),
            segmentLength,
            0,
            proposalDelay,
            d.numBuckets(),
            new FirstLeadersPolicy(
                List.copyOf(membership.ids()).stream().sorted().toList(), leaders),
            d.requestNAckTimeout(),
            PbftParams.DEFAULT_MSG_BUF_CAPACITY,
            d.retainedEpochs(),
            BACKGROUND_PERIOD,
            BACKGROUND_PERIOD,
            BACKGROUND_PERIOD,
            BACKGROUND_PERIOD,
            viewChangeSnTimeout,
            viewChangeSegmentTimeout,
            Duration.ofSeconds(1));
    return new Trantor.Params(
        new SimpleMempool.Params(batchSize).withBatchTimeout(batchTimeout), iss);
  }

  /** Every parameter by name, in a stable order, as printed and written to the results. */
  Map<String, String> describe() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("layout", layout == Layout.IN_JVM ? "in-jvm" : "processes");
    m.put("nodes", Integer.toString(nodes));
    m.put("clients", Integer.toString(clients));
    m.put("load", openLoop() ? "open loop" : "closed loop");
    m.put("outstanding", openLoop() ? "-" : Integer.toString(outstanding));
    m.put("rate", openLoop() ? rate + " req/s" : "-");
    m.put("request-size", requestSize + " B");
    m.put("warmup", Durations.format(warmup));
    m.put("duration", Durations.format(duration));
    m.put("drain", Durations.format(drain));
    m.put("submit", submit == SubmitPath.GRPC ? "grpc (MirClient)" : "direct (inject)");
    m.put("client-tls", Boolean.toString(tls));
    m.put("client-connections", sharedConnections ? "shared" : "one per client");
    m.put("worker-threads", workerThreads == 0 ? "one per module" : workerThreads + " per replica");
    m.put("replica-transport", layout == Layout.IN_JVM ? "in-process" : "gRPC, mutual TLS");
    m.put("crypto", "ECDSA P-256 (deterministic insecure keys, seed " + keySeed + ")");
    m.put("batch-size", Integer.toString(batchSize));
    m.put("proposal-delay", Durations.format(proposalDelay));
    m.put("batch-timeout", Durations.format(batchTimeout));
    m.put("segment-length", Integer.toString(segmentLength));
    m.put("leaders", Integer.toString(leaders));
    m.put("view-change-sn-timeout", Durations.format(viewChangeSnTimeout));
    m.put("view-change-segment-timeout", Durations.format(viewChangeSegmentTimeout));
    m.put("background-timer-period", Durations.format(BACKGROUND_PERIOD));
    if (layout == Layout.PROCESSES) {
      m.put("replica-jvm-options", replicaJvmOptions);
    }
    m.put("jfr", Boolean.toString(jfr));
    m.put("out", out.toString());
    return m;
  }
}
