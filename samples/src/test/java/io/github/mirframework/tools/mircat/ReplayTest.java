package io.github.mirframework.tools.mircat;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.github.mirframework.bcb.BcbEvents;
import io.github.mirframework.bcb.BcbModule;
import io.github.mirframework.crypto.CryptoModule;
import io.github.mirframework.crypto.PseudoCrypto;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.PayloadRegistry;
import io.github.mirframework.event.pb.SendMessage;
import io.github.mirframework.eventlog.LogReader;
import io.github.mirframework.eventlog.RecordedEntry;
import io.github.mirframework.eventlog.RecordedEvent;
import io.github.mirframework.eventlog.Recorder;
import io.github.mirframework.module.Module;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.samples.pingpong.PingPong;
import io.github.mirframework.samples.pingpong.pb.Ping;
import io.github.mirframework.sim.NetworkModel;
import io.github.mirframework.sim.SimNodeFactory;
import io.github.mirframework.sim.Simulation;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code mircat --debug}: runs recorded in the deterministic simulation are replayed into fresh
 * modules; an unchanged module reproduces its log exactly, a module made nondeterministic on
 * purpose is caught at the event where its output first differs.
 */
@Timeout(120)
class ReplayTest {
  static final PingPong.Config PP = PingPong.Config.defaults();

  @TempDir Path dir;

  /** Runs a simulation whose nodes are recorded into {@code dir/node-N}, then closes the logs. */
  static void recordSimulation(
      Path dir, long seed, List<NodeId> nodes, SimNodeFactory factory, Consumer<Simulation> run)
      throws Exception {
    List<Recorder> recorders = new ArrayList<>();
    Simulation sim =
        Simulation.builder(seed)
            .nodes(nodes)
            .network(
                NetworkModel.defaults().withLatency(Duration.ofMillis(5), Duration.ofMillis(50)))
            .factory(factory)
            .interceptors(
                id -> {
                  try {
                    Recorder r = Recorder.builder(id, dir.resolve("node-" + id)).build();
                    recorders.add(r);
                    return r;
                  } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                  }
                })
            .build();
    try {
      run.accept(sim);
    } finally {
      for (Recorder r : recorders) {
        r.close();
      }
    }
  }

  static void recordPingPong(Path dir) throws Exception {
    recordSimulation(
        dir,
        7,
        NodeId.range(2),
        (id, env) -> {
          Map<ModuleId, Module> m = new LinkedHashMap<>();
          m.put(PP.net(), env.transport());
          m.put(PP.timer(), env.timer());
          m.put(PP.self(), new PingPong(PP, id, Duration.ofSeconds(1), o -> {}));
          return m;
        },
        sim -> sim.runFor(Duration.ofMillis(6_500)));
  }

  record Result(int rc, String out, String err) {}

  static Result mircat(String input, String... args) throws Exception {
    MircatCommand cmd = new MircatCommand();
    new CommandLine(cmd).setCaseInsensitiveEnumValuesAllowed(true).parseArgs(args);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int rc =
        cmd.run(
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            new BufferedReader(new StringReader(input)));
    return new Result(
        rc, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  /** Replays a whole log with {@code modules}; returns the replayer (closed) for inspection. */
  static Replayer replay(Path log, ReplayModules modules, List<NodeId> members) {
    Replayer r =
        new Replayer(
            modules,
            new ReplayModules.ReplaySetup(
                NodeId.of(log.getFileName().toString().substring(5)), members, Map.of()),
            java.util.Set.of());
    try (LogReader reader = LogReader.open(LogReader.seriesFiles(log, "eventlog"), r.registry())) {
      for (RecordedEntry e : reader) {
        r.apply(e);
        if (r.failed()) {
          break;
        }
      }
    } finally {
      r.close();
    }
    return r;
  }

  // ----------------------------------------------------------------------------------------------
  // pingpong

  @Test
  void replayOfARecordedPingPongRunReproducesItExactly() throws Exception {
    recordPingPong(dir);
    for (String node : List.of("0", "1")) {
      Replayer r =
          replay(
              dir.resolve("node-" + node),
              new BuiltinReplayModules.PingPongModules(),
              NodeId.range(2));
      assertThat(r.divergence()).as("node " + node).isEmpty();
      // Pings (timer), pongs and received messages: the replay predicted every send.
      assertThat(r.matchedEvents()).isGreaterThanOrEqualTo(12);
      assertThat(r.externalEvents()).isGreaterThan(0);
      assertThat(r.undecodableTypes()).isEmpty();
    }
  }

  @Test
  void theCommandLineReplayReportsNoDivergenceAndExitsZero() throws Exception {
    recordPingPong(dir);
    Result res =
        mircat(
            "",
            "--src",
            dir.resolve("node-0").toString(),
            "--debug",
            "--modules",
            "pingpong",
            "--run");
    assertThat(res.rc()).as(res.out() + res.err()).isZero();
    assertThat(res.out())
        .contains("Replaying node 0 (members [0, 1]) into module set 'pingpong'")
        .contains("replayed [pingpong], checked only [net, timer]")
        .contains("the replay reproduced the recording: no divergence");
  }

  @Test
  void aThreadedPingPongRunRecordedByTheSampleIsReproducedOnBothNodes() throws Exception {
    // Real threads: batches of different modules overlap, so the log's order is not the order in
    // which their outputs were routed; the replay must not mistake that for a divergence.
    io.github.mirframework.samples.pingpong.PingPongCommand pp =
        new CommandLine(new io.github.mirframework.samples.pingpong.PingPongCommand())
            .parseArgs(
                "--transport",
                "INPROCESS",
                "--rounds",
                "5",
                "--period-ms",
                "10",
                "--record",
                dir.toString())
            .commandSpec()
            .commandLine()
            .getCommand();
    assertThat(pp.run(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)))
        .isZero();
    for (String node : List.of("0", "1")) {
      Result res =
          mircat(
              "",
              "--src",
              dir.resolve("node-" + node).toString(),
              "--debug",
              "--modules",
              "pingpong",
              "-P",
              "period-ms=10",
              "--run");
      assertThat(res.rc()).as("node " + node + ":\n" + res.out() + res.err()).isZero();
    }
  }

  @Test
  void aWrongParameterShowsAsADivergenceAtTheFirstTimerRequest() throws Exception {
    recordPingPong(dir);
    Result res =
        mircat(
            "",
            "--src",
            dir.resolve("node-0").toString(),
            "--debug",
            "--modules",
            "pingpong",
            "-P",
            "period-ms=500",
            "--run");
    assertThat(res.rc()).as(res.out()).isEqualTo(DebugSession.EXIT_DIVERGED);
    assertThat(res.out())
        .contains("DIVERGENCE at event #")
        .contains("produced by module pingpong")
        .contains("period_ns: 1000000000")
        .contains("period_ns: 500000000");
  }

  /** Pingpong whose {@code n}-th ping (counting from 0) carries another number when asked to. */
  static final class FlakyPingPong implements PassiveModule {
    private final PingPong inner;
    private final boolean misbehave;
    private final boolean duplicate;
    private final long n;

    FlakyPingPong(NodeId self, long n, boolean misbehave, boolean duplicate) {
      this.inner = new PingPong(PP, self, Duration.ofSeconds(1), o -> {});
      this.n = n;
      this.misbehave = misbehave;
      this.duplicate = duplicate;
    }

    @Override
    public boolean receivesMessages() {
      return true;
    }

    @Override
    public EventList applyEvents(EventList events) throws Exception {
      EventList out = EventList.empty();
      for (Event e : inner.applyEvents(events)) {
        Long sn = pingSeqNr(e);
        if (sn != null && sn == n && misbehave) {
          SendMessage s = e.payload(SendMessage.class);
          Ping other = Ping.newBuilder().setSeqNr(1000 + n).build();
          e =
              e.withPayload(
                  s.toBuilder()
                      .setMsg(
                          s.getMsg().toBuilder().setPayload(com.google.protobuf.Any.pack(other)))
                      .build());
        }
        out.add(e);
        if (sn != null && sn == n && duplicate) {
          out.add(e);
        }
      }
      return out;
    }
  }

  /** The ping number of a SendMessage event carrying a Ping, else null. */
  static Long pingSeqNr(Event e) {
    if (!(e.payload() instanceof SendMessage s)) {
      return null;
    }
    try {
      return s.getMsg().getPayload().is(Ping.class)
          ? s.getMsg().getPayload().unpack(Ping.class).getSeqNr()
          : null;
    } catch (com.google.protobuf.InvalidProtocolBufferException ex) {
      return null;
    }
  }

  /** The module set of the flaky pingpong, for the replay. */
  record FlakyModules(long n, boolean misbehave, boolean duplicate) implements ReplayModules {
    @Override
    public String name() {
      return "flaky-pingpong";
    }

    @Override
    public String description() {
      return "test";
    }

    @Override
    public Map<ModuleId, PassiveModule> create(ReplaySetup setup) {
      return Map.of(PP.self(), new FlakyPingPong(setup.self(), n, misbehave, duplicate));
    }

    @Override
    public List<Message> payloadTypes() {
      return new BuiltinReplayModules.PingPongModules().payloadTypes();
    }
  }

  /**
   * Indices (as mircat numbers them) of the recorded SendMessage events carrying ping {@code n}.
   */
  static List<Long> indicesOfPing(Path log, long n) {
    PayloadRegistry reg =
        PayloadRegistry.withCoreTypes()
            .registerAll(new BuiltinReplayModules.PingPongModules().payloadTypes());
    List<Long> found = new ArrayList<>();
    long index = 0;
    try (LogReader reader = LogReader.open(LogReader.seriesFiles(log, "eventlog"), reg)) {
      for (RecordedEntry entry : reader) {
        for (RecordedEvent e : entry.events()) {
          Long sn = pingSeqNr(e.toEvent());
          if (sn != null && sn == n) {
            found.add(index);
          }
          index++;
        }
      }
    }
    return found;
  }

  /** Index of the first recorded event for {@code module} after index {@code after}. */
  static long nextEventFor(Path log, String module, long after) {
    long index = 0;
    try (LogReader reader = LogReader.open(LogReader.seriesFiles(log, "eventlog"))) {
      for (RecordedEntry entry : reader) {
        for (RecordedEvent e : entry.events()) {
          if (index > after && e.destination().value().equals(module)) {
            return index;
          }
          index++;
        }
      }
    }
    return -1;
  }

  @Test
  void aModuleThatSendsAnotherValueIsCaughtAtTheRecordedSendOfThatValue() throws Exception {
    recordSimulation(
        dir,
        11,
        NodeId.range(2),
        (id, env) -> {
          Map<ModuleId, Module> m = new LinkedHashMap<>();
          m.put(PP.net(), env.transport());
          m.put(PP.timer(), env.timer());
          m.put(PP.self(), new FlakyPingPong(id, 3, false, false));
          return m;
        },
        sim -> sim.runFor(Duration.ofMillis(6_500)));
    Path log = dir.resolve("node-1");
    List<Long> sends = indicesOfPing(log, 3);
    assertThat(sends).hasSize(1);

    // The same module replays cleanly...
    assertThat(replay(log, new FlakyModules(3, false, false), NodeId.range(2)).divergence())
        .isEmpty();
    // ... and misbehaving at ping 3 is caught at the recorded send of ping 3.
    Replayer.Divergence d =
        replay(log, new FlakyModules(3, true, false), NodeId.range(2)).divergence().orElseThrow();
    assertThat(d.kind()).isEqualTo(Replayer.Divergence.Kind.UNEXPECTED);
    assertThat(d.index()).isEqualTo(sends.get(0));
    assertThat(d.destination()).isEqualTo(PP.net());
    assertThat(d.producer()).contains(PP.self());
    assertThat(d.expected()).contains("seq_nr: 3");
    assertThat(d.actual()).contains("seq_nr: 1003");
  }

  @Test
  void aModuleThatProducesAnExtraEventIsCaughtAtTheNextRecordedEventFromIt() throws Exception {
    recordSimulation(
        dir,
        12,
        NodeId.range(2),
        (id, env) -> {
          Map<ModuleId, Module> m = new LinkedHashMap<>();
          m.put(PP.net(), env.transport());
          m.put(PP.timer(), env.timer());
          m.put(PP.self(), new FlakyPingPong(id, 2, false, false));
          return m;
        },
        sim -> sim.runFor(Duration.ofMillis(6_500)));
    Path log = dir.resolve("node-0");
    long sendOfPing2 = indicesOfPing(log, 2).get(0);
    // Pingpong only sends to net: the next event for net after ping 2 is pingpong's next send.
    long nextSend = nextEventFor(log, "net", sendOfPing2);
    assertThat(nextSend).isPositive();

    Replayer.Divergence d =
        replay(log, new FlakyModules(2, false, true), NodeId.range(2)).divergence().orElseThrow();
    assertThat(d.kind()).isEqualTo(Replayer.Divergence.Kind.MISSING);
    assertThat(d.index()).isEqualTo(nextSend);
    assertThat(d.producer()).contains(PP.self());
    assertThat(d.actual()).contains("seq_nr: 2");
  }

  @Test
  void interactiveSteppingShowsTheNextBatchAndWhatItProduced() throws Exception {
    recordPingPong(dir);
    // Pause before the first SendMessage, step it, show pending, quit.
    Result res =
        mircat(
            "s\np\ni\nq\n",
            "--src",
            dir.resolve("node-0").toString(),
            "--debug",
            "--modules",
            "pingpong",
            "-e",
            "PingTime");
    assertThat(res.rc()).as(res.out() + res.err()).isZero();
    assertThat(res.out())
        .contains("---- next: #")
        .contains("for module pingpong (replayed)")
        .contains("pingpong <- mir.samples.pingpong.PingTime{}")
        .contains("external: timer: mir.samples.pingpong.PingTime")
        .contains("=> produced ")
        .contains("net <- mir.core.SendMessage{")
        .contains("for net: ")
        .contains("events checked: ")
        .contains("stopped; no divergence so far");
  }

  @Test
  void unknownModuleSetIsABadArgumentAndListNamesTheBuiltIns() throws Exception {
    recordPingPong(dir);
    Result bad =
        mircat("", "--src", dir.resolve("node-0").toString(), "--debug", "--modules", "nope");
    assertThat(bad.rc()).isEqualTo(2);
    assertThat(bad.err()).contains("unknown module set 'nope'");
    Result list =
        mircat("", "--src", dir.resolve("node-0").toString(), "--debug", "--modules", "list");
    assertThat(list.rc()).isZero();
    assertThat(list.out()).contains("pingpong:").contains("bcb:");
  }

  // ----------------------------------------------------------------------------------------------
  // BCB

  @Test
  void replayOfARecordedBcbRunReproducesItExactlyOnEveryNode() throws Exception {
    List<NodeId> nodes = NodeId.range(4);
    BcbModule.Config config = BcbModule.Config.defaults(ModuleId.of("app"));
    BcbModule.Params params =
        new BcbModule.Params(ByteString.copyFromUtf8("bcb-demo"), nodes, nodes.get(0));
    recordSimulation(
        dir,
        5,
        nodes,
        (id, env) -> {
          Map<ModuleId, Module> m = new LinkedHashMap<>();
          m.put(ModuleId.of("net"), env.transport());
          m.put(CryptoModule.DEFAULT_ID, new CryptoModule(PseudoCrypto.create(nodes, id)));
          m.put(config.self(), new BcbModule(config, params, id));
          m.put(ModuleId.of("app"), (PassiveModule) events -> EventList.empty());
          return m;
        },
        sim -> {
          sim.inject(
              nodes.get(0),
              EventList.of(
                  BcbEvents.broadcastRequest(config.self(), ByteString.copyFromUtf8("hello"))));
          sim.runFor(Duration.ofSeconds(5));
        });
    for (NodeId n : nodes) {
      Result res =
          mircat(
              "",
              "--src",
              dir.resolve("node-" + n).toString(),
              "--debug",
              "--modules",
              "bcb",
              "--run");
      assertThat(res.rc()).as("node " + n + ":\n" + res.out() + res.err()).isZero();
      assertThat(res.out()).contains("replayed [bcb, crypto], checked only [app, net]");
    }
  }
}
