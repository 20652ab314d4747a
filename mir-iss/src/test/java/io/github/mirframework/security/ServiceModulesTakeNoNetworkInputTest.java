package io.github.mirframework.security;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.mirframework.crypto.CryptoModule;
import io.github.mirframework.crypto.HasherModule;
import io.github.mirframework.crypto.PseudoCrypto;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.pb.TestingString;
import io.github.mirframework.eventmangler.EventMangler;
import io.github.mirframework.module.Module;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.net.grpc.GrpcTransport;
import io.github.mirframework.net.grpc.Security;
import io.github.mirframework.net.inprocess.InProcessNetwork;
import io.github.mirframework.node.Node;
import io.github.mirframework.timer.TimerModule;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A peer chooses the destination module of what it sends. The modules that only serve their own
 * node must say they take no messages, so that the node drops such input instead of handing them an
 * event they would fail on (which would stop the node).
 */
class ServiceModulesTakeNoNetworkInputTest {
  private static final List<NodeId> NODES = NodeId.range(4);

  @Test
  void everyServiceModuleRefusesNetworkInput() throws Exception {
    Map<String, Module> services = new LinkedHashMap<>();
    services.put("crypto", new CryptoModule(PseudoCrypto.create(NODES, NODES.get(0))));
    services.put("hasher", new HasherModule());
    services.put("timer", new TimerModule());
    services.put("in-process transport", new InProcessNetwork(NODES).transport(NODES.get(0)));
    services.put(
        "grpc transport",
        GrpcTransport.builder(NODES.get(0), NodeAddress.loopback(0))
            .security(Security.plaintext())
            .build());
    services.put(
        "event mangler",
        new EventMangler(
            EventMangler.Config.defaults(),
            EventMangler.Params.defaults(),
            new java.util.Random(1)));
    // The write-ahead logs are checked in mir-wal's tests.
    services.forEach(
        (name, m) -> assertThat(m.receivesMessages()).as(name + " takes messages").isFalse());
  }

  @Test
  void aNodeSurvivesMessagesAddressedToItsCryptoAndHasher() throws Exception {
    ModuleId app = ModuleId.of("app");
    List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
    try (Node node =
        Node.builder(NODES.get(0))
            .module("crypto", new CryptoModule(PseudoCrypto.create(NODES, NODES.get(0))))
            .module("hasher", new HasherModule())
            .module(
                app,
                events -> {
                  events.forEach(e -> seen.add(e.typeName()));
                  return EventList.empty();
                })
            .build()) {
      node.start();
      TestingString junk = TestingString.newBuilder().setValue("junk").build();
      node.injectEvents(
          EventList.of(
              Events.messageReceived(NODES.get(1), Events.netMessage(ModuleId.of("crypto"), junk)),
              Events.messageReceived(NODES.get(1), Events.netMessage(ModuleId.of("hasher"), junk)),
              Events.testingString(app, "after")));
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (!seen.contains("TestingString") && System.nanoTime() < deadline) {
        Thread.onSpinWait();
      }
      assertThat(seen).contains("TestingString");
      assertThat(node.droppedMessages()).isEqualTo(2);
      assertThat(node.failure()).isEmpty();
    }
  }
}
