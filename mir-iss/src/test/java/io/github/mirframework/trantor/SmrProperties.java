package io.github.mirframework.trantor;

import io.github.mirframework.batchfetcher.pb.NewOrderedBatch;
import io.github.mirframework.checkpoint.StableCheckpoints;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.event.PayloadRegistry;
import io.github.mirframework.eventlog.LogReadException;
import io.github.mirframework.eventlog.LogReader;
import io.github.mirframework.eventlog.RecordedEntry;
import io.github.mirframework.eventlog.RecordedEvent;
import io.github.mirframework.eventlog.Recorder;
import io.github.mirframework.eventlog.TruncatedLogException;
import io.github.mirframework.iss.pb.AppRestoreState;
import io.github.mirframework.iss.pb.NewEpoch;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The state-machine-replication properties of a Trantor run, checked on the event logs the nodes
 * recorded (Mir's {@code checkEventTraces}, generalized to restarts and state transfer), read back
 * from disk with {@link LogReader}.
 *
 * <p>What a node's application saw is taken from the events its {@code app} module processed:
 * {@code NewOrderedBatch} (requests applied), {@code NewEpoch} (an epoch starts here) and {@code
 * AppRestoreState} (the state is replaced by a checkpoint's: every start of a node begins with one,
 * for its starting checkpoint, and every state transfer adds one). From these, each node's applied
 * requests are placed in one <em>global</em> sequence: a node starting from, or transferring to,
 * the checkpoint of epoch e continues at the position where epoch e starts (as recorded by any node
 * that went through that epoch's {@code NewEpoch}). Then:
 *
 * <ul>
 *   <li><b>agreement</b>: every node applied, at each position, the same request as every other
 *       node (Mir compares the sequences of batches; comparing requests is the property the
 *       application sees), and every epoch starts at the same position on every node;
 *   <li><b>no duplication</b>: no request (client ID, request number) is in the sequence twice;
 *   <li><b>validity</b>: every request in it was submitted (same client, number and data);
 *   <li><b>completeness</b>: in the end, each node's state (the sequence up to where that node
 *       stopped) holds every submitted request. With the two above, all nodes end with the same
 *       sequence of exactly the submitted requests, as Mir requires.
 * </ul>
 *
 * <p>Pass only the logs of correct nodes that should have applied everything (a crashed node that
 * never came back does not have to). A node's log directories must be given in the order of its
 * starts (see {@code Deployment.logDirectories()}). A log cut short by a crash is read up to its
 * last complete entry. Stateless; thread-safe.
 */
public final class SmrProperties {
  /** The application module whose events are examined. */
  public static final ModuleId APP = Trantor.APP;

  private static final int MAX_EXAMPLES = 5;

  private SmrProperties() {}

  /**
   * What the logs show and what is wrong with it.
   *
   * @param violations the violated properties, each with the node, position and requests involved;
   *     empty if all hold
   * @param applied per node, the length of its final state (requests applied, counting those
   *     restored from a checkpoint)
   * @param highestEpoch per node, the highest epoch it started ({@code NewEpoch}) or restored
   * @param restores per node, the number of {@code AppRestoreState} events beyond the first of each
   *     start (state transfers)
   * @param sequence the global sequence of applied requests
   */
  public record Result(
      List<String> violations,
      Map<NodeId, Integer> applied,
      Map<NodeId, Long> highestEpoch,
      Map<NodeId, Integer> restores,
      List<Request> sequence) {

    /** Whether every property holds. */
    public boolean ok() {
      return violations.isEmpty();
    }
  }

  /** Checks the properties; returns the violations (empty if all hold). */
  public static List<String> violations(
      Map<NodeId, List<Path>> logDirsByNode, Collection<Request> submitted) {
    return check(logDirsByNode, submitted).violations();
  }

  /** Checks the properties and reports what the logs show. */
  public static Result check(Map<NodeId, List<Path>> logDirsByNode, Collection<Request> submitted) {
    List<String> violations = new ArrayList<>();
    Map<NodeId, List<Segment>> segments = new LinkedHashMap<>();
    Map<NodeId, Integer> restores = new LinkedHashMap<>();
    Map<NodeId, Long> highestEpoch = new LinkedHashMap<>();
    for (Map.Entry<NodeId, List<Path>> e : new TreeMap<>(logDirsByNode).entrySet()) {
      NodeId node = e.getKey();
      if (e.getValue().isEmpty()) {
        violations.add("node " + node + ": no event log");
      }
      List<Segment> nodeSegments = new ArrayList<>();
      int transfers = 0;
      long highest = 0;
      for (Path dir : e.getValue()) {
        List<Segment> run = readRun(node, dir, violations);
        transfers += Math.max(0, run.size() - 1);
        for (Segment s : run) {
          highest = Math.max(highest, s.startEpoch);
          for (Object item : s.items) {
            if (item instanceof Long epoch) {
              highest = Math.max(highest, epoch);
            }
          }
        }
        nodeSegments.addAll(run);
      }
      segments.put(node, nodeSegments);
      restores.put(node, transfers);
      highestEpoch.put(node, highest);
    }

    // Place every segment in the global sequence; a segment can be placed once the position of
    // the epoch it starts from is known (epoch 0 starts at 0, others where some node began them).
    List<Request> global = new ArrayList<>();
    Map<Long, Integer> epochStart = new HashMap<>();
    Map<Long, NodeId> epochStartWitness = new HashMap<>();
    epochStart.put(0L, 0);
    Map<NodeId, Integer> finalCursor = new LinkedHashMap<>();
    Map<NodeId, Boolean> diverged = new HashMap<>();
    List<Pending> pending = new ArrayList<>();
    segments.forEach(
        (node, list) -> {
          for (int i = 0; i < list.size(); i++) {
            pending.add(new Pending(node, i, list.get(i)));
          }
        });
    boolean progress = true;
    while (!pending.isEmpty() && progress) {
      progress = false;
      for (Iterator<Pending> it = pending.iterator(); it.hasNext(); ) {
        Pending p = it.next();
        Integer start = epochStart.get(p.segment.startEpoch);
        if (start == null) {
          continue;
        }
        it.remove();
        progress = true;
        int cursor = start;
        for (Object item : p.segment.items) {
          if (item instanceof Long epoch) {
            Integer known = epochStart.putIfAbsent(epoch, cursor);
            if (known == null) {
              epochStartWitness.put(epoch, p.node);
            } else if (known != cursor) {
              violations.add(
                  "agreement: epoch "
                      + epoch
                      + " starts after "
                      + cursor
                      + " requests at node "
                      + p.node
                      + " but after "
                      + known
                      + " at node "
                      + epochStartWitness.get(epoch));
            }
            continue;
          }
          for (Request r : ((NewOrderedBatch) item).getTxsList()) {
            if (cursor < global.size()) {
              if (!global.get(cursor).equals(r) && diverged.putIfAbsent(p.node, true) == null) {
                violations.add(
                    "agreement: node "
                        + p.node
                        + " applied "
                        + describe(r)
                        + " at position "
                        + cursor
                        + ", another node applied "
                        + describe(global.get(cursor)));
              }
            } else {
              global.add(r);
            }
            cursor++;
          }
        }
        // Segments of a node are in order: the last one placed that is also its last one decides.
        if (p.index == segments.get(p.node).size() - 1) {
          finalCursor.put(p.node, cursor);
        }
      }
    }
    for (Pending p : pending) {
      violations.add(
          "node "
              + p.node
              + " restored the checkpoint of epoch "
              + p.segment.startEpoch
              + ", but no node's log shows where that epoch starts");
    }

    // No duplication and validity, on the global sequence.
    Map<String, Integer> firstPosition = new HashMap<>();
    Map<String, Request> submittedByKey = new LinkedHashMap<>();
    for (Request r : submitted) {
      submittedByKey.put(key(r), r);
    }
    int duplicates = 0;
    int invented = 0;
    for (int i = 0; i < global.size(); i++) {
      Request r = global.get(i);
      Integer first = firstPosition.putIfAbsent(key(r), i);
      if (first != null && duplicates++ < MAX_EXAMPLES) {
        violations.add(
            "no duplication: " + describe(r) + " applied at positions " + first + " and " + i);
      }
      Request s = submittedByKey.get(key(r));
      if ((s == null || !s.equals(r)) && invented++ < MAX_EXAMPLES) {
        violations.add("validity: " + describe(r) + " at position " + i + " was never submitted");
      }
    }

    // Completeness: each node's final state holds every submitted request.
    Map<NodeId, Integer> applied = new LinkedHashMap<>();
    for (NodeId node : segments.keySet()) {
      int end = finalCursor.getOrDefault(node, 0);
      applied.put(node, end);
      Set<String> have = new LinkedHashSet<>();
      for (Request r : global.subList(0, Math.min(end, global.size()))) {
        have.add(key(r));
      }
      List<String> missing = new ArrayList<>();
      for (String k : submittedByKey.keySet()) {
        if (!have.contains(k)) {
          missing.add(k);
        }
      }
      if (!missing.isEmpty()) {
        violations.add(
            "completeness: node "
                + node
                + " applied "
                + end
                + " requests and misses "
                + missing.size()
                + " of the "
                + submittedByKey.size()
                + " submitted, e.g. "
                + missing.subList(0, Math.min(MAX_EXAMPLES, missing.size())));
      }
    }
    return new Result(
        List.copyOf(violations),
        Map.copyOf(applied),
        Map.copyOf(highestEpoch),
        Map.copyOf(restores),
        List.copyOf(global));
  }

  /** A stretch of one node's application events that starts at a known checkpoint. */
  private record Segment(long startEpoch, List<Object> items) {}

  private record Pending(NodeId node, int index, Segment segment) {}

  /**
   * Reads one start of a node: a list of segments, each beginning at an {@code AppRestoreState}
   * (items: {@code NewOrderedBatch}es and epoch numbers of {@code NewEpoch}s).
   */
  private static List<Segment> readRun(NodeId node, Path dir, List<String> violations) {
    List<Path> files = LogReader.seriesFiles(dir, Recorder.DEFAULT_FILE_PREFIX);
    if (files.isEmpty()) {
      violations.add("node " + node + ": no log files in " + dir);
      return List.of();
    }
    PayloadRegistry registry =
        PayloadRegistry.empty()
            .register(NewOrderedBatch.getDefaultInstance())
            .register(NewEpoch.getDefaultInstance())
            .register(AppRestoreState.getDefaultInstance());
    List<Segment> out = new ArrayList<>();
    Segment current = null;
    try (LogReader reader = LogReader.open(files, registry)) {
      while (true) {
        Optional<RecordedEntry> entry;
        try {
          entry = reader.next();
        } catch (TruncatedLogException e) {
          break; // The node was killed: what was written before the cut is what it did.
        }
        if (entry.isEmpty()) {
          break;
        }
        if (!entry.get().moduleId().equals(APP)) {
          continue;
        }
        for (RecordedEvent ev : entry.get().events()) {
          switch (ev.payload()) {
            case AppRestoreState r -> {
              current =
                  new Segment(
                      StableCheckpoints.epoch(r.getCheckpoint()).value(), new ArrayList<>());
              out.add(current);
            }
            case NewOrderedBatch b -> {
              if (current == null) {
                violations.add(
                    "node " + node + ": applied a batch before restoring any state, in " + dir);
                current = new Segment(0, new ArrayList<>());
                out.add(current);
              }
              current.items.add(b);
            }
            case NewEpoch ne -> {
              if (current != null) {
                current.items.add(ne.getEpochNr());
              }
            }
            default -> {}
          }
        }
      }
    } catch (LogReadException e) {
      violations.add("node " + node + ": cannot read its event log: " + e.getMessage());
    }
    return out;
  }

  private static String key(Request r) {
    return r.getClientId() + "#" + r.getReqNo();
  }

  private static String describe(Request r) {
    return "request " + key(r) + " (" + r.getData().size() + " bytes)";
  }
}
