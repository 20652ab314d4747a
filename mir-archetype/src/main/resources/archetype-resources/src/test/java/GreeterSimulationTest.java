package ${package};

import static org.assertj.core.api.Assertions.assertThat;

import ${package}.pb.AllGreeted;
import io.github.mirframework.dsl.DslModule;
import io.github.mirframework.module.Module;
import io.github.mirframework.sim.NetworkModel;
import io.github.mirframework.sim.Simulation;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GreeterSimulationTest {
  static final ModuleId NET = ModuleId.of("net");
  static final ModuleId GREETER = ModuleId.of("greeter");
  static final ModuleId APP = ModuleId.of("app");

  @Test
  void everyNodeIsGreetedByAllDespiteDuplicatedAndReorderedMessages() {
    List<NodeId> members = NodeId.range(4);
    List<NodeId> reports = new ArrayList<>();
    Simulation sim =
        Simulation.builder(Simulation.seedOr(1)) // -Dmir.sim.seed=N reruns a reported seed
            .nodes(members)
            .network(
                NetworkModel.defaults()
                    .withLatency(Duration.ofMillis(1), Duration.ofMillis(50))
                    .withDuplicateRate(0.3))
            .factory(
                (id, env) -> {
                  DslModule app = new DslModule(APP);
                  app.upon(AllGreeted.class, done -> reports.add(id));
                  Map<ModuleId, Module> modules = new LinkedHashMap<>();
                  modules.put(NET, env.transport());
                  modules.put(GREETER, new Greeter(GREETER, NET, APP, members, id));
                  modules.put(APP, app);
                  return modules;
                })
            .build();

    boolean done = sim.runUntil(() -> reports.size() == members.size(), Duration.ofSeconds(5));

    sim.check(done, "not every node was greeted by all: " + reports);
    assertThat(reports).containsExactlyInAnyOrderElementsOf(members);
    long dropped =
        members.stream()
            .mapToLong(id -> sim.module(id, GREETER, Greeter.class).droppedMessages())
            .sum();
    assertThat(dropped).as("duplicated greetings are dropped").isPositive();
  }
}
