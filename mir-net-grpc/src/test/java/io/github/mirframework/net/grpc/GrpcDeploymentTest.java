package io.github.mirframework.net.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.NetMessages;
import io.github.mirframework.event.pb.Init;
import io.github.mirframework.event.pb.MessageReceived;
import io.github.mirframework.event.pb.TestingString;
import io.github.mirframework.module.Module;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.testing.Deployment;
import io.github.mirframework.testing.FakeApp;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** mir-core's deployment harness, with real nodes talking over gRPC. */
class GrpcDeploymentTest {
  static final ModuleId NET = ModuleId.of("net");
  static final ModuleId TIMER = ModuleId.of("timer");
  static final ModuleId HELLO = ModuleId.of("hello");
  static final ModuleId APP = ModuleId.of("app");

  /** Says hello to every node at Init and forwards what it hears to the app (as in mir-core). */
  static final class Hello implements PassiveModule {
    @Override
    public boolean receivesMessages() {
      return true;
    }

    final NodeId self;
    final List<NodeId> all;

    Hello(NodeId self, List<NodeId> all) {
      this.self = self;
      this.all = all;
    }

    @Override
    public EventList applyEvents(EventList events) {
      EventList out = EventList.empty();
      for (Event e : events) {
        switch (e.payload()) {
          case Init i -> {
            out.add(
                Events.sendMessage(
                    NET,
                    HELLO,
                    TestingString.newBuilder().setValue("hi from " + self).build(),
                    all));
            out.add(
                Events.timerDelay(
                    TIMER,
                    List.of(Events.testingString(APP, "timer fired")),
                    Duration.ofMillis(50)));
          }
          case MessageReceived m ->
              NetMessages.unpack(m.getMsg(), TestingString.class)
                  .ifPresent(
                      s -> out.add(Events.testingString(APP, m.getFrom() + ": " + s.getValue())));
          default -> throw new IllegalArgumentException(e.typeName());
        }
      }
      return out;
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"plaintext", "mutual TLS"})
  void everyNodeHearsEveryNodeOverGrpc(String security) throws Exception {
    Supplier<GrpcTransportProvider> provider =
        () ->
            security.equals("plaintext")
                ? GrpcTransportProvider.plaintext()
                : GrpcTransportProvider.insecureMutualTls(5);
    GrpcTransportProvider transports = provider.get();
    try (Deployment d =
        Deployment.builder(Deployment.Kind.PROVIDED)
            .seed(17)
            .nodes(4)
            .transports(transports)
            .factory(
                (id, env) -> {
                  Map<ModuleId, Module> m = new LinkedHashMap<>();
                  m.put(NET, env.transport());
                  m.put(TIMER, env.timer());
                  m.put(HELLO, new Hello(id, env.allNodes()));
                  m.put(APP, new FakeApp());
                  return m;
                })
            .build()) {
      boolean done =
          d.runUntil(
              () ->
                  d.nodeIds().stream()
                      .allMatch(id -> d.module(id, APP, FakeApp.class).deliveredCount() == 5),
              Duration.ofSeconds(20));
      assertThat(done).as("all deliveries within the deadline").isTrue();
      for (NodeId id : d.nodeIds()) {
        Set<String> got = new TreeSet<>();
        for (Message m : d.module(id, APP, FakeApp.class).delivered()) {
          got.add(((TestingString) m).getValue());
        }
        assertThat(got)
            .containsExactlyInAnyOrder(
                "0: hi from 0", "1: hi from 1", "2: hi from 2", "3: hi from 3", "timer fired");
        assertThat(transports.get(id).metrics().droppedTotal()).isZero();
      }
      assertThat(d.failures()).isEmpty();
    }
    List<String> leftovers =
        Thread.getAllStackTraces().keySet().stream()
            .filter(Thread::isAlive)
            .map(Thread::getName)
            .filter(n -> n.matches("mir-grpc-[0-3]-.*") || n.matches("mir-[0-3]-.*"))
            .toList();
    assertThat(leftovers).as("threads left after close()").isEmpty();
  }
}
