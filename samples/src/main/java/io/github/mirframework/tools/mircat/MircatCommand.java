package io.github.mirframework.tools.mircat;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.TextFormat;
import com.google.protobuf.util.JsonFormat;
import io.github.mirframework.eventlog.LogReadException;
import io.github.mirframework.eventlog.LogReader;
import io.github.mirframework.eventlog.RecordedEntry;
import io.github.mirframework.eventlog.RecordedEvent;
import io.github.mirframework.eventlog.Recorder;
import io.github.mirframework.eventlog.TruncatedLogException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Mir's {@code mircat}: prints the events of a log written by a {@link Recorder}, filtered by type,
 * destination module and node, as text or JSON lines. The log describes its own payload types, so
 * no application classes are needed.
 */
@Command(
    name = "mircat",
    mixinStandardHelpOptions = true,
    subcommands = {TimelineCommand.class},
    description = {
      "Prints the events of a recorded event log (Mir's mircat).",
    },
    footer = {
      "",
      "Examples:",
      "  mircat --src rec/node-0 --summary",
      "      what the log holds: counts per event type, destination and node",
      "  mircat --src rec/node-0 --event SendMessage --event-dest net --limit 20",
      "      the first 20 messages node 0 sent",
      "  mircat --src rec/node-0 -e NewOrderedBatch --time relative",
      "      ordered batches, with times relative to the log's first entry",
      "  mircat --src rec/node-0 --format json | jq .payload",
      "      JSON lines for other tools",
      "  mircat --src rec/node-0 --follow -e MessageReceived",
      "      keep printing new events while a node is still recording",
      "  mircat timeline --src rec/node-0 --src rec/node-1 --out run.html",
      "      a message-sequence chart of all nodes in one HTML page (see timeline --help)",
      "",
      "  mircat --src rec/node-0 --debug --modules pingpong --run",
      "      replay node 0's events into a new pingpong module; report the first divergence",
      "  mircat --src rec/node-0 --debug --modules bcb -e SendMessage",
      "      replay step by step, pausing before every batch that holds a SendMessage",
      "  mircat --src rec/node-0 --iss-event Preprepare --iss-event NewEpoch",
      "      only these ISS events (also inside sent and received ISS messages)",
      "",
      "Exit status: 0 events shown (with --debug: the replay reproduced the log),",
      "             1 unreadable log, 2 bad arguments, 3 no event matched,",
      "             4 the replay diverged from the recording."
    })
public final class MircatCommand implements Callable<Integer> {

  /** How events are printed. */
  public enum Format {
    /** A header line per event, then its payload in protobuf text format. */
    TEXT,
    /** One JSON object per event and line (for jq and other tools). */
    JSON
  }

  @Option(
      names = "--src",
      description =
          "A log file (<prefix>-NNNNN.gz) or a directory holding one recorder's series of files"
              + " (required).")
  Path src;

  @Option(
      names = "--prefix",
      defaultValue = Recorder.DEFAULT_FILE_PREFIX,
      description =
          "File-name prefix of the series when --src is a directory (default: ${DEFAULT-VALUE}).")
  String prefix = Recorder.DEFAULT_FILE_PREFIX;

  @Option(
      names = {"-e", "--event"},
      description =
          "Show only events of this payload type: full name (mir.core.SendMessage) or simple name"
              + " (SendMessage), case-insensitive. Repeatable.")
  List<String> events = new ArrayList<>();

  @Option(
      names = {"-r", "--event-dest"},
      description =
          "Show only events addressed to this module, or to a submodule of it (iss matches iss/0)."
              + " Repeatable.")
  List<String> destinations = new ArrayList<>();

  @Option(
      names = {"-s", "--iss-event"},
      description =
          "Show only ISS events of this kind (Mir's --iss-event): the payload's simple type name"
              + " (NewEpoch, SbEvent), the case inside it (PersistPreprepare, Commit) or both"
              + " (SbEvent:Commit); received and sent ISS messages count too (SbMessage:Prepare)."
              + " Other events are still selected by --event; without --event only ISS events"
              + " are shown. Repeatable.")
  List<String> issEvents = new ArrayList<>();

  @Option(
      names = {"-n", "--node"},
      description = "Show only events recorded by this node. Repeatable.")
  List<String> nodes = new ArrayList<>();

  @Option(
      names = "--offset",
      defaultValue = "0",
      description = "Skip this many matching events first.")
  long offset;

  @Option(
      names = "--limit",
      defaultValue = "0",
      description = "Show at most this many events; 0 shows all (default).")
  long limit;

  @Option(
      names = "--format",
      defaultValue = "TEXT",
      description = "TEXT or JSON (default: ${DEFAULT-VALUE}).")
  Format format = Format.TEXT;

  @Option(
      names = "--summary",
      description = "Print how many events of each type, destination and node the log holds.")
  boolean summary;

  @Option(
      names = {"-i", "--interactive"},
      description = "Choose the event types and destinations to show from lists read from the log.")
  boolean interactive;

  @Option(names = "--color", description = "Colour the headers (default: only on a terminal).")
  Boolean color;

  /** How event times are shown. */
  public enum TimeFormat {
    /** UTC date and time (ISO 8601) plus the time since the log's first entry. */
    BOTH,
    /** UTC date and time (ISO 8601) with milliseconds. */
    ISO,
    /** Seconds since the log's first entry. */
    RELATIVE,
    /** Raw milliseconds since the epoch, as recorded. */
    MS
  }

  @Option(
      names = "--time",
      defaultValue = "BOTH",
      description = "How times are shown: BOTH, ISO, RELATIVE or MS (default: ${DEFAULT-VALUE}).")
  TimeFormat time = TimeFormat.BOTH;

  @Option(
      names = {"-f", "--follow"},
      description =
          "Keep reading: print new events as the recorder writes them (Ctrl-C to stop). The"
              + " recorder flushes when it has been idle for a moment.")
  boolean follow;

  @Option(
      names = "--follow-idle-exit",
      defaultValue = "0",
      paramLabel = "SECONDS",
      description = "With --follow: stop after this many seconds without a new event (0: never).")
  double followIdleExitSeconds;

  /** Milliseconds between two reads of a followed log. */
  static final long FOLLOW_POLL_MS = 250;

  // --- debug mode (replay) -------------------------------------------------------------------

  @Option(
      names = {"-d", "--debug"},
      description =
          "Replay the log of one node into a node built from the real modules (--modules), step by"
              + " step, and report the first event where the replay differs from the recording"
              + " (Mir's debug mode). Interactive unless --run.")
  boolean debug;

  @Option(
      names = "--modules",
      paramLabel = "NAME",
      description =
          "With --debug: the modules to replay: pingpong, bcb, the name of a ReplayModules"
              + " service on the class path, or a ReplayModules class name.")
  String modules;

  @Option(
      names = "--own-id",
      paramLabel = "NODE",
      description = "With --debug: the node whose events are replayed (default: the log's node).")
  String ownId;

  @Option(
      names = {"-m", "--node-id"},
      paramLabel = "NODE",
      description =
          "With --debug: a member of the recorded deployment, once per node, in order (default:"
              + " the module set's fixed members, else the nodes the log mentions).")
  List<String> membership = new ArrayList<>();

  @Option(
      names = {"-P", "--param"},
      paramLabel = "KEY=VALUE",
      description = "With --debug: a parameter of the module set (see --modules list).")
  Map<String, String> params = new java.util.LinkedHashMap<>();

  @Option(
      names = "--external",
      paramLabel = "TYPE",
      description =
          "With --debug: full name of an event type that enters the node from outside (injected,"
              + " or from an active module), accepted wherever the log shows it. Repeatable.")
  List<String> externalTypes = new ArrayList<>();

  @Option(
      names = "--run",
      description =
          "With --debug: do not ask, replay to the end (or the first divergence) and report.")
  boolean runToEnd;

  @Option(
      names = "--show-node-output",
      description =
          "With --debug: print every replayed batch that matches the filters, with the events the"
              + " modules produced.")
  boolean showNodeOutput;

  @Override
  public Integer call() throws Exception {
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    if (debug && !runToEnd && System.console() != null) {
      try (org.jline.terminal.Terminal terminal =
          org.jline.terminal.TerminalBuilder.builder().system(true).dumb(true).build()) {
        org.jline.reader.LineReader reader =
            org.jline.reader.LineReaderBuilder.builder()
                .terminal(terminal)
                .appName("mircat")
                .build();
        return run(
            System.out,
            System.err,
            in,
            prompt -> {
              try {
                return reader.readLine(prompt);
              } catch (org.jline.reader.EndOfFileException
                  | org.jline.reader.UserInterruptException e) {
                return null;
              }
            });
      }
    }
    return run(System.out, System.err, in);
  }

  /**
   * Runs the command; returns the exit status (0 ok, 1 unreadable log, 2 bad arguments, 3 no event
   * matched, 4 the replay diverged from the recording).
   */
  int run(PrintStream out, PrintStream err, BufferedReader in) throws IOException {
    return run(
        out,
        err,
        in,
        prompt -> {
          out.print(prompt);
          out.flush();
          return in.readLine();
        });
  }

  int run(PrintStream out, PrintStream err, BufferedReader in, DebugSession.LineSource lines)
      throws IOException {
    if (src == null) {
      err.println("mircat: --src is required (see --help)");
      return 2;
    }
    if (debug) {
      if (follow || summary || interactive) {
        err.println("mircat: --debug cannot be combined with --follow, --summary or --interactive");
        return 2;
      }
      List<Path> files;
      try {
        files = logFiles();
      } catch (IllegalArgumentException | LogReadException e) {
        err.println("mircat: " + e.getMessage());
        return 2;
      }
      return new DebugSession(this, files, out, err, lines).run();
    }
    if (offset < 0 || limit < 0) {
      err.println("mircat: --offset and --limit must not be negative");
      return 2;
    }
    if (followIdleExitSeconds < 0 || Double.isNaN(followIdleExitSeconds)) {
      err.println("mircat: --follow-idle-exit must not be negative");
      return 2;
    }
    if (follow && (summary || interactive)) {
      err.println("mircat: --follow cannot be combined with --summary or --interactive");
      return 2;
    }
    List<Path> files;
    try {
      files = logFiles();
    } catch (IllegalArgumentException | LogReadException e) {
      err.println("mircat: " + e.getMessage());
      return 2;
    }
    try {
      if (summary || interactive) {
        Counts counts = count(files);
        if (summary) {
          counts.print(out);
        }
        if (interactive && !choose(counts, out, in)) {
          return 2;
        }
        if (summary && !interactive) {
          return counts.truncated == null ? 0 : warnTruncated(err, counts.truncated);
        }
      }
      return print(files, out, err);
    } catch (TruncatedLogException e) {
      return warnTruncated(err, e);
    } catch (LogReadException e) {
      err.println("mircat: " + e.getMessage());
      return 1;
    }
  }

  private List<Path> logFiles() {
    if (Files.isRegularFile(src)) {
      return List.of(src);
    }
    if (!Files.isDirectory(src)) {
      throw new IllegalArgumentException("no such file or directory: " + src);
    }
    List<Path> series = LogReader.seriesFiles(src, prefix);
    if (series.isEmpty()) {
      throw new IllegalArgumentException(
          "no log files named " + prefix + "-NNNNN.gz in " + src + " (see --prefix)");
    }
    return series;
  }

  private static int warnTruncated(PrintStream err, TruncatedLogException e) {
    err.println(
        "mircat: warning: the log ends early (still being written, or the recorder was killed);"
            + " shown up to the cut: "
            + e.getMessage());
    return 0;
  }

  // ----------------------------------------------------------------------------------------------
  // Printing

  private int print(List<Path> files, PrintStream out, PrintStream err) {
    boolean colored = color != null ? color : System.console() != null && out == System.out;
    Scan scan = new Scan(out, colored);
    if (!follow) {
      scan.read(files);
    } else {
      long idleLimitNanos = (long) (followIdleExitSeconds * 1e9);
      long lastNews = System.nanoTime();
      while (!scan.done()) {
        long before = scan.index;
        try {
          scan.read(logFiles());
        } catch (TruncatedLogException e) {
          // The recorder is still writing the last file: shown up to its last flushed entry.
        } catch (IllegalArgumentException e) {
          // No file yet: the recorder has not started.
        }
        if (scan.done()) {
          break;
        }
        long now = System.nanoTime();
        if (scan.index > before) {
          lastNews = now;
        } else if (idleLimitNanos > 0 && now - lastNews >= idleLimitNanos) {
          break;
        }
        try {
          Thread.sleep(FOLLOW_POLL_MS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
    }
    if (scan.shown == 0 && err != null) {
      err.println("mircat: no event matches (" + scan.index + " events in the log)");
      return 3;
    }
    return 0;
  }

  /**
   * One pass (or, with --follow, several passes) over the log: events already handled by an earlier
   * pass are skipped, so each is shown at most once.
   */
  private final class Scan {
    private final PrintStream out;
    private final boolean colored;
    long index;
    long matched;
    long shown;
    Long firstTimeMs;

    Scan(PrintStream out, boolean colored) {
      this.out = out;
      this.colored = colored;
    }

    boolean done() {
      return limit > 0 && shown >= limit;
    }

    void read(List<Path> files) {
      long seen = 0;
      try (LogReader reader = LogReader.open(files)) {
        Printer printer = new Printer(reader, colored);
        for (RecordedEntry entry : reader) {
          if (firstTimeMs == null) {
            firstTimeMs = entry.timeMs();
          }
          for (RecordedEvent e : entry.events()) {
            long i = seen++;
            if (i < index) {
              continue;
            }
            index++;
            if (!matches(entry, e, reader.typeRegistry())) {
              continue;
            }
            if (matched++ < offset) {
              continue;
            }
            if (done()) {
              return;
            }
            out.println(printer.print(entry, e, i, firstTimeMs));
            shown++;
          }
        }
      }
    }
  }

  /**
   * Whether an event passes the filters (--node, --event, --iss-event, --event-dest).
   *
   * @param types the log's types, to look inside ISS messages
   */
  boolean matches(RecordedEntry entry, RecordedEvent e, com.google.protobuf.TypeRegistry types) {
    if (!nodes.isEmpty() && !nodes.contains(entry.nodeId().value())) {
      return false;
    }
    if (!issEvents.isEmpty()) {
      java.util.Optional<String> iss = IssEventNames.of(e.payload(), types);
      if (iss.isPresent()) {
        if (issEvents.stream().noneMatch(f -> IssEventNames.matches(f, iss.get()))) {
          return false;
        }
      } else if (events.isEmpty() || events.stream().noneMatch(t -> typeMatches(t, e.typeName()))) {
        return false;
      }
    } else if (!events.isEmpty() && events.stream().noneMatch(t -> typeMatches(t, e.typeName()))) {
      return false;
    }
    if (!destinations.isEmpty()) {
      String dest = e.destination().value();
      return destinations.stream().anyMatch(d -> dest.equals(d) || dest.startsWith(d + "/"));
    }
    return true;
  }

  static boolean typeMatches(String wanted, String typeName) {
    String simple = typeName.substring(typeName.lastIndexOf('.') + 1);
    return wanted.equalsIgnoreCase(typeName) || wanted.equalsIgnoreCase(simple);
  }

  /** Formats events; JSON uses the types described in the log. */
  private final class Printer {
    private final LogReader reader;
    private final boolean colored;
    private JsonFormat.Printer json;
    private com.google.protobuf.TypeRegistry jsonTypes;
    private FullTextFormat text;
    private com.google.protobuf.TypeRegistry textTypes;

    Printer(LogReader reader, boolean colored) {
      this.reader = reader;
      this.colored = colored;
    }

    String print(RecordedEntry entry, RecordedEvent e, long index, long firstTimeMs) {
      return format == Format.JSON
          ? json(entry, e, index)
          : text(entry, e, index, formatTime(entry.timeMs(), firstTimeMs));
    }

    private String text(RecordedEntry entry, RecordedEvent e, long index, String when) {
      String simple = e.typeName().substring(e.typeName().lastIndexOf('.') + 1);
      String header =
          "[ "
              + simple
              + " ] [ Node #"
              + entry.nodeId()
              + " ] [ Time "
              + when
              + " ] [ Index #"
              + index
              + " ] [ To "
              + e.destination()
              + " ]";
      if (colored) {
        header = "\u001b[1;36m" + header + "\u001b[0m";
      }
      StringBuilder sb = new StringBuilder(header).append('\n');
      appendText(sb, e, "  ");
      return sb.toString();
    }

    private void appendText(StringBuilder sb, RecordedEvent e, String indent) {
      com.google.protobuf.TypeRegistry types = reader.typeRegistry();
      if (text == null || textTypes != types) {
        text = new FullTextFormat(types);
        textTypes = types;
      }
      sb.append(indent).append(e.typeName()).append(" {\n");
      text.appendFields(sb, e.payload(), indent + "  ");
      sb.append(indent).append('}');
      for (RecordedEvent f : e.followUps()) {
        sb.append('\n').append(indent).append("then -> ").append(f.destination()).append('\n');
        appendText(sb, f, indent + "  ");
      }
    }

    private String json(RecordedEntry entry, RecordedEvent e, long index) {
      StringBuilder sb = new StringBuilder();
      sb.append("{\"index\":").append(index);
      sb.append(",\"node\":").append(quote(entry.nodeId().value()));
      sb.append(",\"module\":").append(quote(entry.moduleId().value()));
      sb.append(",\"timeMs\":").append(entry.timeMs());
      sb.append(",\"time\":").append(quote(Instant.ofEpochMilli(entry.timeMs()).toString()));
      sb.append(',');
      appendJsonEvent(sb, e);
      return sb.append('}').toString();
    }

    private void appendJsonEvent(StringBuilder sb, RecordedEvent e) {
      com.google.protobuf.TypeRegistry types = reader.typeRegistry();
      if (json == null || jsonTypes != types) {
        json =
            JsonFormat.printer()
                .usingTypeRegistry(types)
                .alwaysPrintFieldsWithNoPresence()
                .omittingInsignificantWhitespace();
        jsonTypes = types;
      }
      sb.append("\"dest\":").append(quote(e.destination().value()));
      sb.append(",\"type\":").append(quote(e.typeName()));
      sb.append(",\"payload\":");
      try {
        sb.append(json.print(e.payload()));
      } catch (InvalidProtocolBufferException ex) {
        // A payload with an Any of a type the log does not describe: fall back to text.
        sb.append(quote(TextFormat.printer().emittingSingleLine(true).printToString(e.payload())));
      }
      if (!e.followUps().isEmpty()) {
        sb.append(",\"followUps\":[");
        for (int i = 0; i < e.followUps().size(); i++) {
          if (i > 0) {
            sb.append(',');
          }
          sb.append('{');
          appendJsonEvent(sb, e.followUps().get(i));
          sb.append('}');
        }
        sb.append(']');
      }
    }
  }

  /** Formats a recorded time as chosen by --time; relative times count from {@code firstMs}. */
  String formatTime(long ms, long firstMs) {
    String iso = ISO_MILLIS.format(Instant.ofEpochMilli(ms));
    String rel = String.format(Locale.ROOT, "%+.3fs", (ms - firstMs) / 1000.0);
    return switch (time) {
      case BOTH -> iso + " " + rel;
      case ISO -> iso;
      case RELATIVE -> rel;
      case MS -> ms + "ms";
    };
  }

  private static final DateTimeFormatter ISO_MILLIS =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", Locale.ROOT)
          .withZone(ZoneOffset.UTC);

  static String quote(String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) {
            sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"').toString();
  }

  // ----------------------------------------------------------------------------------------------
  // Summary and interactive selection

  /** What a log holds, counted in one pass. */
  static final class Counts {
    final Map<String, Long> types = new TreeMap<>();
    final Map<String, Long> destinations = new TreeMap<>();
    final Map<String, Long> nodes = new TreeMap<>();
    long total;
    TruncatedLogException truncated;

    void print(PrintStream out) {
      out.println(total + " events");
      section(out, "event types (--event)", types);
      section(out, "destinations (--event-dest)", destinations);
      section(out, "nodes (--node)", nodes);
    }

    private static void section(PrintStream out, String title, Map<String, Long> counts) {
      out.println(title + ":");
      counts.forEach((k, v) -> out.printf(Locale.ROOT, "  %10d  %s%n", v, k));
    }
  }

  private Counts count(List<Path> files) {
    Counts c = new Counts();
    try (LogReader reader = LogReader.open(files)) {
      for (RecordedEntry entry : reader) {
        for (RecordedEvent e : entry.events()) {
          c.total++;
          c.types.merge(e.typeName(), 1L, Long::sum);
          c.destinations.merge(e.destination().value(), 1L, Long::sum);
          c.nodes.merge(entry.nodeId().value(), 1L, Long::sum);
        }
      }
    } catch (TruncatedLogException e) {
      c.truncated = e;
    }
    return c;
  }

  /** Asks for the types and destinations to show; returns false on bad input. */
  private boolean choose(Counts counts, PrintStream out, BufferedReader in) throws IOException {
    List<String> chosenTypes = pick("event types", counts.types, out, in);
    if (chosenTypes == null) {
      return false;
    }
    List<String> chosenDests = pick("destinations", counts.destinations, out, in);
    if (chosenDests == null) {
      return false;
    }
    events = chosenTypes;
    destinations = chosenDests;
    StringBuilder flags = new StringBuilder("mircat --src ").append(src);
    events.forEach(t -> flags.append(" --event ").append(t));
    destinations.forEach(d -> flags.append(" --event-dest ").append(d));
    out.println("Same selection from the command line: " + flags);
    return true;
  }

  /** Shows a numbered list and reads a selection ("1,3-4"; empty: all). Null on bad input. */
  private static List<String> pick(
      String what, Map<String, Long> counts, PrintStream out, BufferedReader in)
      throws IOException {
    List<String> keys = new ArrayList<>(counts.keySet());
    out.println("Select " + what + " (numbers like 1,3-4; empty for all):");
    for (int i = 0; i < keys.size(); i++) {
      out.printf(Locale.ROOT, "  %3d) %s (%d)%n", i + 1, keys.get(i), counts.get(keys.get(i)));
    }
    out.print("> ");
    out.flush();
    String line = in.readLine();
    if (line == null || line.isBlank()) {
      return List.of();
    }
    Set<String> chosen = new LinkedHashSet<>();
    for (String part : line.split(",")) {
      String p = part.trim();
      int from;
      int to;
      try {
        int dash = p.indexOf('-');
        if (dash > 0) {
          from = Integer.parseInt(p.substring(0, dash).trim());
          to = Integer.parseInt(p.substring(dash + 1).trim());
        } else {
          from = Integer.parseInt(p);
          to = from;
        }
      } catch (NumberFormatException e) {
        out.println("mircat: not a number or range: '" + p + "'");
        return null;
      }
      if (from < 1 || to > keys.size() || from > to) {
        out.println("mircat: " + p + " is not in 1.." + keys.size());
        return null;
      }
      for (int i = from; i <= to; i++) {
        chosen.add(keys.get(i - 1));
      }
    }
    return List.copyOf(chosen);
  }
}
