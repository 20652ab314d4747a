package io.github.mirframework.samples.pingpong;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.mirframework.module.Module;
import io.github.mirframework.samples.TransportChoice;
import io.github.mirframework.sim.NetworkModel;
import io.github.mirframework.sim.Simulation;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class PingPongTest {
  private static final PingPong.Config CFG = PingPong.Config.defaults();

  private static Simulation simulate(long seed, List<PingPong.Observation> seen) {
    return Simulation.builder(seed)
        .nodes(2)
        .network(NetworkModel.defaults().withLatency(Duration.ofMillis(5), Duration.ofMillis(50)))
        .factory(
            (id, env) -> {
              Map<ModuleId, Module> m = new LinkedHashMap<>();
              m.put(CFG.net(), env.transport());
              m.put(CFG.timer(), env.timer());
              m.put(CFG.self(), new PingPong(CFG, id, Duration.ofSeconds(1), seen::add));
              return m;
            })
        .build();
  }

  @Test
  void nodesExchangeNumberedPingsAndPongsInVirtualTime() {
    List<PingPong.Observation> seen = new ArrayList<>();
    Simulation sim = simulate(Simulation.seedOr(1), seen);
    // Pings at 0 s, 1 s, ..., 9 s; the last pong arrives within 100 ms of the last ping.
    sim.runFor(Duration.ofMillis(9_100));
    for (NodeId from : List.of(NodeId.of("0"), NodeId.of("1"))) {
      List<Long> pings =
          seen.stream()
              .filter(o -> o.kind().equals("ping") && o.from().equals(from))
              .map(PingPong.Observation::seqNr)
              .sorted()
              .toList();
      List<Long> pongs =
          seen.stream()
              .filter(o -> o.kind().equals("pong") && o.from().equals(from))
              .map(PingPong.Observation::seqNr)
              .sorted()
              .toList();
      sim.check(pings.equals(List.of(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L)), "pings " + pings);
      sim.check(pongs.equals(pings), "pongs " + pongs + " answer pings " + pings);
    }
  }

  @Test
  void lostMessagesAreNotAnsweredButLaterPingsAre() {
    List<PingPong.Observation> seen = new ArrayList<>();
    Simulation sim = simulate(3, seen);
    sim.network(NetworkModel.defaults().withDropRate(0.5));
    sim.runFor(Duration.ofSeconds(20));
    long pongs = seen.stream().filter(o -> o.kind().equals("pong")).count();
    long pings = seen.stream().filter(o -> o.kind().equals("ping")).count();
    sim.check(pongs > 0 && pongs < pings && pings < 40, "pings " + pings + ", pongs " + pongs);
  }

  @ParameterizedTest
  @EnumSource(TransportChoice.class)
  void mainRunsTwoNodesOverEachTransport(TransportChoice transport) throws Exception {
    PingPongCommand cmd = new PingPongCommand();
    cmd.transport = transport;
    cmd.rounds = 3;
    cmd.periodMs = 20;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    int rc = cmd.run(new PrintStream(buf, true, StandardCharsets.UTF_8));
    String out = buf.toString(StandardCharsets.UTF_8);
    assertThat(rc).as(out).isZero();
    assertThat(out)
        .contains("node 0: Received pong from 1: 0")
        .contains("node 1: Received pong from 0: 0")
        .contains("node 0: Received ping from 1: 0")
        .contains("node 1: Received ping from 0: 0");
  }
}
