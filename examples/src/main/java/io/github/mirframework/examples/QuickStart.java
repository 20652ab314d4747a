package io.github.mirframework.examples;

import com.google.protobuf.StringValue;
import io.github.mirframework.dsl.DslModule;
import io.github.mirframework.net.inprocess.InProcessNetwork;
import io.github.mirframework.node.Node;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

public class QuickStart {
  public static void main(String[] args) throws InterruptedException {
    List<NodeId> ids = NodeId.range(3); // nodes "0", "1", "2"
    ModuleId net = ModuleId.of("net");
    ModuleId hello = ModuleId.of("hello");
    InProcessNetwork network = new InProcessNetwork(ids);
    CountDownLatch greetings = new CountDownLatch(ids.size() * ids.size());

    List<Node> nodes = new ArrayList<>();
    for (NodeId id : ids) {
      DslModule greeter = new DslModule(hello, net); // a protocol module, sending through "net"
      greeter.uponInit(() -> greeter.sendMessage(StringValue.of("hello from " + id), ids));
      greeter.uponMessage(
          StringValue.class,
          (from, msg) -> {
            System.out.println(id + " got '" + msg.getValue() + "' from " + from);
            greetings.countDown();
          });
      nodes.add(
          Node.builder(id)
              .module(net, network.transport(id)) // an ActiveModule: it emits events on its own
              .module(hello, greeter)
              .build());
    }
    try {
      nodes.forEach(Node::start); // every module gets Init
      System.out.println(greetings.await(10, TimeUnit.SECONDS) ? "done" : "timed out");
    } finally {
      nodes.forEach(Node::close); // stops and joins every thread the nodes started
    }
  }
}
