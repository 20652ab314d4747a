package io.github.mirframework.tools.mircat;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.TextFormat;
import com.google.protobuf.util.JsonFormat;
import io.github.mirframework.eventlog.LogReadException;
import io.github.mirframework.eventlog.LogReader;
import io.github.mirframework.eventlog.RecordedEntry;
import io.github.mirframework.eventlog.RecordedEvent;
import io.github.mirframework.eventlog.Recorder;
import io.github.mirframework.eventlog.TruncatedLogException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code mircat timeline}: writes one self-contained HTML page showing the recorded logs of several
 * nodes as a message-sequence chart: a lane per node (or per node and module), every recorded event
 * as a tick, an arrow from each sent message to its reception, zoom and pan over time, filters by
 * module and event type, and the full content of an event on click. The page needs no network.
 */
@Command(
    name = "timeline",
    mixinStandardHelpOptions = true,
    description = {
      "Writes a self-contained HTML timeline (message-sequence chart) of the logs of several nodes."
    },
    footer = {
      "",
      "Example:",
      "  mircat timeline --src rec/node-0 --src rec/node-1 --out run.html",
      "  then open run.html in a browser: wheel zooms, drag pans, click an event for its content.",
      "",
      "Exit status: 0 written, 1 unreadable log, 2 bad arguments."
    })
public final class TimelineCommand implements Callable<Integer> {

  @Option(
      names = "--src",
      required = true,
      description = "A log file or a recorder's directory; repeat for each node.")
  List<Path> sources = new ArrayList<>();

  @Option(
      names = "--prefix",
      defaultValue = Recorder.DEFAULT_FILE_PREFIX,
      description = "File-name prefix of each series (default: ${DEFAULT-VALUE}).")
  String prefix = Recorder.DEFAULT_FILE_PREFIX;

  @Option(names = "--out", required = true, description = "The HTML file to write.")
  Path out;

  @Option(
      names = "--max-payload-chars",
      defaultValue = "4000",
      description =
          "Longer event contents are cut to this many characters in the page (default:"
              + " ${DEFAULT-VALUE}).")
  int maxPayloadChars = 4000;

  @Override
  public Integer call() throws Exception {
    return run(System.out, System.err);
  }

  /** Writes the page; returns the exit status. */
  int run(PrintStream stdout, PrintStream err) throws IOException {
    if (maxPayloadChars < 100) {
      err.println("mircat timeline: --max-payload-chars must be at least 100");
      return 2;
    }
    Model model = new Model(maxPayloadChars);
    for (Path src : sources) {
      List<Path> files;
      if (Files.isRegularFile(src)) {
        files = List.of(src);
      } else if (Files.isDirectory(src)) {
        files = LogReader.seriesFiles(src, prefix);
        if (files.isEmpty()) {
          err.println("mircat timeline: no log files named " + prefix + "-NNNNN.gz in " + src);
          return 2;
        }
      } else {
        err.println("mircat timeline: no such file or directory: " + src);
        return 2;
      }
      try (LogReader reader = LogReader.open(files)) {
        model.read(reader);
      } catch (TruncatedLogException e) {
        err.println("mircat timeline: warning: " + src + " ends early; shown up to the cut");
      } catch (LogReadException e) {
        err.println("mircat timeline: " + e.getMessage());
        return 1;
      }
    }
    model.matchMessages();
    String template;
    try (InputStream in = TimelineCommand.class.getResourceAsStream("timeline.html")) {
      if (in == null) {
        throw new IOException("timeline.html is missing from the jar");
      }
      template = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    int at = template.indexOf(DATA_MARK);
    if (at < 0) {
      throw new IOException("timeline.html has no data mark");
    }
    Path parent = out.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    try (Writer w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
      w.write(template, 0, at);
      model.writeJson(w);
      w.write(template, at + DATA_MARK.length(), template.length() - at - DATA_MARK.length());
    }
    stdout.printf(
        "wrote %s: %d events of %d nodes, %d messages matched (%d sent, %d received)%n",
        out,
        model.events.size(),
        model.nodes.size(),
        model.arrows.size(),
        model.sent,
        model.received);
    return 0;
  }

  /** Where the template takes the data (inside a script element of type application/json). */
  static final String DATA_MARK = "/*MIR-TIMELINE-DATA*/";

  /** The events of all logs, lanes and matched messages. */
  static final class Model {
    final int maxPayloadChars;
    final Map<String, Integer> nodes = new LinkedHashMap<>();
    final Map<String, Integer> modules = new LinkedHashMap<>();
    final Map<String, Integer> types = new LinkedHashMap<>();
    final List<Ev> events = new ArrayList<>();
    final List<int[]> arrows = new ArrayList<>();
    long sent;
    long received;
    // Pending sends by (sender, receiver, message bytes), oldest first.
    private final Map<MsgKey, ArrayDeque<Integer>> pending = new HashMap<>();
    private final List<Rcv> receptions = new ArrayList<>();

    Model(int maxPayloadChars) {
      this.maxPayloadChars = maxPayloadChars;
    }

    record Ev(long t, int node, int module, int type, String dest, String json) {}

    private record MsgKey(String from, String to, ByteString msg) {}

    private record Rcv(int event, MsgKey key) {}

    void read(LogReader reader) {
      JsonFormat.Printer json = null;
      com.google.protobuf.TypeRegistry jsonTypes = null;
      for (RecordedEntry entry : reader) {
        // The reader learns the types of each file as it goes: print with the latest.
        if (json == null || jsonTypes != reader.typeRegistry()) {
          jsonTypes = reader.typeRegistry();
          json =
              JsonFormat.printer()
                  .usingTypeRegistry(jsonTypes)
                  .alwaysPrintFieldsWithNoPresence()
                  .omittingInsignificantWhitespace();
        }
        String node = entry.nodeId().value();
        int n = nodes.computeIfAbsent(node, k -> nodes.size());
        int m = modules.computeIfAbsent(topLevel(entry.moduleId().value()), k -> modules.size());
        for (RecordedEvent e : entry.events()) {
          String simple = e.typeName().substring(e.typeName().lastIndexOf('.') + 1);
          int t = types.computeIfAbsent(simple, k -> types.size());
          int index = events.size();
          events.add(
              new Ev(entry.timeMs(), n, m, t, e.destination().value(), toJson(json, e.payload())));
          if (e.typeName().equals("mir.core.SendMessage")) {
            for (String to : destinations(e.payload())) {
              pending
                  .computeIfAbsent(
                      new MsgKey(node, to, msgBytes(e.payload())), k -> new ArrayDeque<>())
                  .addLast(index);
              sent++;
            }
          } else if (e.typeName().equals("mir.core.MessageReceived")) {
            received++;
            receptions.add(
                new Rcv(
                    index,
                    new MsgKey(stringField(e.payload(), "from"), node, msgBytes(e.payload()))));
          }
        }
      }
    }

    /** Pairs each reception with the oldest unmatched send of the same message. */
    void matchMessages() {
      for (Rcv r : receptions) {
        ArrayDeque<Integer> q = pending.get(r.key());
        if (q != null && !q.isEmpty()) {
          arrows.add(new int[] {q.pollFirst(), r.event()});
        }
      }
      receptions.clear();
      pending.clear();
    }

    private String toJson(JsonFormat.Printer json, Message payload) {
      String s;
      try {
        s = json.print(payload);
      } catch (InvalidProtocolBufferException e) {
        s =
            MircatCommand.quote(
                TextFormat.printer().emittingSingleLine(true).printToString(payload));
      }
      if (s.length() > maxPayloadChars) {
        s =
            MircatCommand.quote(
                s.substring(0, maxPayloadChars) + "... (" + s.length() + " characters, cut)");
      }
      return s;
    }

    private static String topLevel(String module) {
      int slash = module.indexOf('/');
      return slash < 0 ? module : module.substring(0, slash);
    }

    private static List<String> destinations(Message send) {
      FieldDescriptor f = send.getDescriptorForType().findFieldByName("destinations");
      List<String> out = new ArrayList<>();
      for (Object o : (List<?>) send.getField(f)) {
        out.add((String) o);
      }
      return out;
    }

    private static ByteString msgBytes(Message m) {
      FieldDescriptor f = m.getDescriptorForType().findFieldByName("msg");
      return ((Message) m.getField(f)).toByteString();
    }

    private static String stringField(Message m, String name) {
      return (String) m.getField(m.getDescriptorForType().findFieldByName(name));
    }

    void writeJson(Writer w) throws IOException {
      w.write("{\"nodes\":");
      writeNames(w, nodes);
      w.write(",\"modules\":");
      writeNames(w, modules);
      w.write(",\"types\":");
      writeNames(w, types);
      w.write(",\"events\":[");
      for (int i = 0; i < events.size(); i++) {
        Ev e = events.get(i);
        if (i > 0) {
          w.write(',');
        }
        w.write("[" + e.t() + "," + e.node() + "," + e.module() + "," + e.type() + ",");
        w.write(safe(MircatCommand.quote(e.dest())));
        w.write(',');
        w.write(safe(e.json()));
        w.write(']');
      }
      w.write("],\"arrows\":[");
      for (int i = 0; i < arrows.size(); i++) {
        if (i > 0) {
          w.write(',');
        }
        w.write("[" + arrows.get(i)[0] + "," + arrows.get(i)[1] + "]");
      }
      w.write("]}");
    }

    private static void writeNames(Writer w, Map<String, Integer> names) throws IOException {
      w.write('[');
      boolean first = true;
      for (String n : names.keySet()) {
        if (!first) {
          w.write(',');
        }
        first = false;
        w.write(safe(MircatCommand.quote(n)));
      }
      w.write(']');
    }

    /**
     * JSON embedded in a script element must not contain "</" or "<!--"; a '<' occurs only inside
     * JSON strings, where the JSON escape for it (backslash, u003c) means the same.
     */
    private static String safe(String json) {
      return json.replace("<", "\\u003c");
    }
  }
}
