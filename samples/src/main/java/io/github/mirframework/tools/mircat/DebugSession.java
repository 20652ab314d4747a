package io.github.mirframework.tools.mircat;

import io.github.mirframework.event.Event;
import io.github.mirframework.event.PayloadRegistry;
import io.github.mirframework.event.pb.MessageReceived;
import io.github.mirframework.event.pb.SendMessage;
import io.github.mirframework.eventlog.LogReadException;
import io.github.mirframework.eventlog.LogReader;
import io.github.mirframework.eventlog.RecordedEntry;
import io.github.mirframework.eventlog.RecordedEvent;
import io.github.mirframework.eventlog.TruncatedLogException;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@code mircat --debug}: replays one node's log with a {@link Replayer}, interactively (step,
 * continue to the next batch that matches the filters, show outputs and pending predictions) or to
 * the end ({@code --run}), and reports the first divergence.
 */
final class DebugSession {

  /** Where interactive commands come from (a JLine reader on a terminal, else standard input). */
  @FunctionalInterface
  interface LineSource {
    /** Shows {@code prompt} and reads a line; null at the end of the input. */
    String readLine(String prompt) throws IOException;
  }

  static final int EXIT_DIVERGED = 4;

  private static final String HELP =
      """
      Commands (Enter repeats a step):
        s [N]     replay the next batch (N batches)
        c         continue to the next batch that matches the filters (--event, --event-dest,
                  --iss-event), or to a divergence
        r         run to the end (stops at a divergence)
        o         show what the last replayed batch produced
        p         show the events the replay produced that the log has not shown yet
        i         counts so far
        q         quit
        h         this help""";

  private final MircatCommand cmd;
  private final List<Path> files;
  private final PrintStream out;
  private final PrintStream err;
  private final LineSource lines;

  private Replayer replayer;
  private LogReader reader;
  private Replayer.Step last;
  private int pauses;
  private boolean reportedDivergence;

  DebugSession(
      MircatCommand cmd, List<Path> files, PrintStream out, PrintStream err, LineSource lines) {
    this.cmd = cmd;
    this.files = files;
    this.out = out;
    this.err = err;
    this.lines = lines;
  }

  /** All module sets: built-ins, then services on the class path. */
  static Map<String, ReplayModules> available() {
    Map<String, ReplayModules> all = new LinkedHashMap<>();
    for (ReplayModules m : BuiltinReplayModules.all()) {
      all.put(m.name(), m);
    }
    for (ReplayModules m : ServiceLoader.load(ReplayModules.class)) {
      all.putIfAbsent(m.name(), m);
    }
    return all;
  }

  private Optional<ReplayModules> resolve(String name) {
    Map<String, ReplayModules> all = available();
    if (all.containsKey(name)) {
      return Optional.of(all.get(name));
    }
    if (name.contains(".")) {
      try {
        Class<?> c = Class.forName(name, true, Thread.currentThread().getContextClassLoader());
        if (!ReplayModules.class.isAssignableFrom(c)) {
          err.println("mircat: " + name + " does not implement " + ReplayModules.class.getName());
          return Optional.empty();
        }
        return Optional.of((ReplayModules) c.getDeclaredConstructor().newInstance());
      } catch (ReflectiveOperationException | LinkageError e) {
        err.println("mircat: cannot create module set " + name + ": " + e);
        return Optional.empty();
      }
    }
    return Optional.empty();
  }

  int run() throws IOException {
    if (cmd.modules == null || cmd.modules.equals("list")) {
      PrintStream to = cmd.modules == null ? err : out;
      if (cmd.modules == null) {
        to.println("mircat: --debug needs --modules; known module sets:");
      }
      available().values().forEach(m -> to.println("  " + m.name() + ": " + m.description()));
      return cmd.modules == null ? 2 : 0;
    }
    Optional<ReplayModules> set = resolve(cmd.modules);
    if (set.isEmpty()) {
      err.println("mircat: unknown module set '" + cmd.modules + "' (--modules list shows them)");
      return 2;
    }
    Scan scan;
    try {
      scan = scan();
    } catch (TruncatedLogException e) {
      err.println("mircat: the log is truncated before its first entry: " + e.getMessage());
      return 1;
    } catch (LogReadException e) {
      err.println("mircat: " + e.getMessage());
      return 1;
    }
    if (scan.self == null) {
      err.println("mircat: the log holds no event" + (cmd.ownId == null ? "" : " of " + cmd.ownId));
      return 3;
    }
    List<NodeId> members;
    try {
      members =
          !cmd.membership.isEmpty()
              ? cmd.membership.stream().map(NodeId::of).toList()
              : !set.get().defaultMembership().isEmpty()
                  ? set.get().defaultMembership()
                  : scan.members;
    } catch (IllegalArgumentException e) {
      err.println("mircat: bad --node-id: " + e.getMessage());
      return 2;
    }
    try {
      replayer =
          new Replayer(
              set.get(),
              new ReplayModules.ReplaySetup(scan.self, members, cmd.params),
              Set.copyOf(cmd.externalTypes));
    } catch (RuntimeException e) {
      err.println("mircat: module set '" + cmd.modules + "' could not be built: " + e.getMessage());
      return 2;
    }
    try {
      out.println(
          "Replaying node "
              + scan.self
              + " (members "
              + members
              + ") into module set '"
              + set.get().name()
              + "': replayed "
              + new TreeSet<>(replayer.replayedModules())
              + ", checked only "
              + boundaries(scan.modules));
      reader = LogReader.open(files, replayer.registry());
      return loop(scan.self);
    } finally {
      if (reader != null) {
        reader.close();
      }
      replayer.close();
    }
  }

  private String boundaries(Set<ModuleId> inLog) {
    TreeSet<ModuleId> b = new TreeSet<>(inLog);
    b.removeAll(replayer.replayedModules());
    return b.toString();
  }

  private record Scan(NodeId self, List<NodeId> members, Set<ModuleId> modules) {}

  /** Finds the node to replay, the members the log mentions and the modules it has. */
  private Scan scan() {
    NodeId self = cmd.ownId == null ? null : NodeId.of(cmd.ownId);
    Set<NodeId> seen = new java.util.HashSet<>();
    Set<ModuleId> mods = new TreeSet<>();
    try (LogReader r = LogReader.open(files, PayloadRegistry.withCoreTypes())) {
      try {
        for (RecordedEntry entry : r) {
          if (self == null) {
            self = entry.nodeId();
          }
          if (!entry.nodeId().equals(self)) {
            continue;
          }
          mods.add(entry.moduleId());
          for (RecordedEvent e : entry.events()) {
            if (e.payload() instanceof MessageReceived m) {
              addNode(seen, m.getFrom());
            } else if (e.payload() instanceof SendMessage s) {
              s.getDestinationsList().forEach(d -> addNode(seen, d));
            }
          }
        }
      } catch (TruncatedLogException e) {
        if (self == null) {
          throw e;
        }
      }
    }
    if (self == null || mods.isEmpty()) {
      return new Scan(null, List.of(), Set.of());
    }
    seen.add(self);
    List<NodeId> members = new ArrayList<>(seen);
    members.sort(
        Comparator.comparing((NodeId n) -> !n.value().matches("\\d{1,18}"))
            .thenComparing(n -> n.value().matches("\\d{1,18}") ? Long.parseLong(n.value()) : 0L)
            .thenComparing(NodeId::value));
    return new Scan(self, List.copyOf(members), mods);
  }

  private static void addNode(Set<NodeId> seen, String id) {
    try {
      seen.add(NodeId.of(id));
    } catch (IllegalArgumentException e) {
      // Not a valid node ID: not a member.
    }
  }

  private enum Mode {
    STEP,
    CONTINUE,
    RUN
  }

  private int loop(NodeId self) throws IOException {
    Mode mode = cmd.runToEnd ? Mode.RUN : Mode.CONTINUE;
    int stepsLeft = 0;
    boolean truncated = false;
    Iterator<RecordedEntry> it = reader.iterator();
    while (true) {
      RecordedEntry entry;
      try {
        if (!it.hasNext()) {
          break;
        }
        entry = it.next();
      } catch (TruncatedLogException e) {
        truncated = true;
        err.println("mircat: warning: the log ends early: " + e.getMessage());
        break;
      } catch (LogReadException e) {
        err.println("mircat: " + e.getMessage());
        return 1;
      }
      if (!entry.nodeId().equals(self)) {
        continue;
      }
      if (replayer.failed()) {
        break;
      }
      long first = replayer.nextIndex();
      boolean selected = selected(entry, first);
      boolean pause =
          mode == Mode.STEP && stepsLeft == 0 || mode == Mode.CONTINUE && selected && canPause();
      if (pause) {
        pauses++;
        showBatch("next", entry, first);
        String command = ask();
        while (true) {
          if (command == null || command.equals("q")) {
            return finish(truncated, true);
          } else if (command.equals("c")) {
            mode = Mode.CONTINUE;
            break;
          } else if (command.equals("r")) {
            mode = Mode.RUN;
            break;
          } else if (command.isEmpty() || command.startsWith("s")) {
            mode = Mode.STEP;
            stepsLeft = parseCount(command);
            if (stepsLeft < 0) {
              out.println("usage: s [N] with N >= 1");
              command = ask();
              continue;
            }
            break;
          } else if (command.equals("o")) {
            showOutput(last);
          } else if (command.equals("p")) {
            showPending();
          } else if (command.equals("i")) {
            showCounts();
          } else {
            out.println(HELP);
          }
          command = ask();
        }
      }
      last = replayer.apply(entry);
      if (mode == Mode.STEP) {
        stepsLeft--;
        showStep(last);
      } else if (cmd.showNodeOutput && selected) {
        showStep(last);
      }
      if (last.divergence().isPresent() && !reportedDivergence) {
        reportedDivergence = true;
        out.println(last.divergence().get().describe());
        if (mode == Mode.RUN || cmd.runToEnd) {
          break;
        }
        mode = Mode.STEP;
        stepsLeft = 0;
      }
    }
    return finish(truncated, false);
  }

  private boolean canPause() {
    return cmd.limit == 0 || pauses < cmd.limit;
  }

  private boolean selected(RecordedEntry entry, long first) {
    boolean filtered =
        !cmd.events.isEmpty() || !cmd.destinations.isEmpty() || !cmd.issEvents.isEmpty();
    for (int i = 0; i < entry.events().size(); i++) {
      if (first + i < cmd.offset) {
        continue;
      }
      if (!filtered || cmd.matches(entry, entry.events().get(i), reader.typeRegistry())) {
        return true;
      }
    }
    return false;
  }

  private static int parseCount(String command) {
    String rest = command.isEmpty() ? "" : command.substring(1).trim();
    if (rest.isEmpty()) {
      return 1;
    }
    try {
      int n = Integer.parseInt(rest);
      return n >= 1 ? n : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private String ask() throws IOException {
    String line = lines.readLine("(mircat debug: s/c/r/o/p/i/q/h) > ");
    return line == null ? null : line.trim().toLowerCase(Locale.ROOT);
  }

  private void showBatch(String label, RecordedEntry entry, long first) {
    out.println(
        "---- "
            + label
            + ": #"
            + first
            + (entry.events().size() > 1 ? ".." + (first + entry.events().size() - 1) : "")
            + " for module "
            + entry.moduleId()
            + (replayer.replayedModules().contains(entry.moduleId())
                ? " (replayed)"
                : " (boundary: checked only)"));
    for (int i = 0; i < entry.events().size(); i++) {
      out.println("  #" + (first + i) + " " + replayer.describe(entry.events().get(i).toEvent()));
    }
  }

  private void showStep(Replayer.Step step) {
    out.println(
        "---- replayed: #"
            + step.firstIndex()
            + " for module "
            + step.entry().moduleId()
            + (step.replayed() ? "" : " (boundary)"));
    for (Replayer.Checked c : step.checked()) {
      out.println("  #" + c.index() + " " + c.verdict() + ": " + c.event().typeName());
    }
    showOutput(step);
  }

  private void showOutput(Replayer.Step step) {
    if (step == null) {
      out.println("nothing replayed yet");
      return;
    }
    if (step.produced().isEmpty()) {
      out.println("  => produced nothing");
      return;
    }
    out.println("  => produced " + step.produced().size() + " event(s):");
    for (Event e : step.produced()) {
      out.println("     " + replayer.describe(e));
    }
  }

  private void showPending() {
    Map<ModuleId, List<Event>> pending = replayer.unconsumed();
    if (pending.isEmpty()) {
      out.println("no produced event is waiting to show up in the log");
      return;
    }
    pending.forEach(
        (dest, evs) -> {
          out.println("  for " + dest + ": " + evs.size());
          evs.stream().limit(20).forEach(e -> out.println("     " + replayer.describe(e)));
          if (evs.size() > 20) {
            out.println("     ...");
          }
        });
  }

  private void showCounts() {
    out.println(
        "events checked: "
            + replayer.nextIndex()
            + " ("
            + replayer.matchedEvents()
            + " produced by the replay, "
            + replayer.externalEvents()
            + " from outside the node)"
            + replayer.divergence().map(d -> "; diverged at #" + d.index()).orElse(""));
  }

  private int finish(boolean truncated, boolean quit) {
    showCounts();
    if (!replayer.undecodableTypes().isEmpty()) {
      out.println(
          "note: the module set does not know the types "
              + new TreeSet<>(replayer.undecodableTypes())
              + "; their events were replayed as dynamic messages");
    }
    Optional<Replayer.Divergence> d = replayer.divergence();
    if (d.isPresent()) {
      if (!reportedDivergence) {
        out.println(d.get().describe());
      }
      return EXIT_DIVERGED;
    }
    int pending = replayer.unconsumed().values().stream().mapToInt(List::size).sum();
    if (pending > 0 && !quit) {
      out.println(
          "note: "
              + pending
              + " event(s) the replay produced never showed up in the log (the node stopped"
              + (truncated ? ", or the log was cut," : "")
              + " before processing them; 'p' in interactive mode lists them)");
    }
    out.println(
        quit
            ? "stopped; no divergence so far"
            : "the replay reproduced the recording: no divergence");
    return 0;
  }
}
