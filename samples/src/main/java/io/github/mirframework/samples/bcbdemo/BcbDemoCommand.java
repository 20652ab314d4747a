package io.github.mirframework.samples.bcbdemo;

import com.google.protobuf.ByteString;
import io.github.mirframework.bcb.BcbEvents;
import io.github.mirframework.bcb.BcbModule;
import io.github.mirframework.bcb.pb.Deliver;
import io.github.mirframework.crypto.CryptoModule;
import io.github.mirframework.crypto.PseudoCrypto;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.module.ActiveModule;
import io.github.mirframework.module.Module;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.node.Node;
import io.github.mirframework.samples.TransportChoice;
import io.github.mirframework.testing.TransportProvider;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Mir's bcb-demo: 4 nodes run one instance of Byzantine consistent broadcast with leader "0"; the
 * leader broadcasts a line typed by the user (or given with {@code --value}) and every node prints
 * what it delivered.
 */
@Command(
    name = "bcb",
    mixinStandardHelpOptions = true,
    description =
        "4 nodes; the leader broadcasts one line with Byzantine consistent broadcast (Mir's bcb-demo).")
public final class BcbDemoCommand implements Callable<Integer> {
  static final ModuleId NET = ModuleId.of("net");
  static final ModuleId APP = ModuleId.of("app");
  static final List<NodeId> NODES = NodeId.range(4);
  static final NodeId LEADER = NodeId.of("0");

  @Option(
      names = "--value",
      description = "The value to broadcast; without it, the first line read from standard input.")
  String value;

  @Option(
      names = "--transport",
      defaultValue = "GRPC",
      description =
          "GRPC (mutual TLS on 127.0.0.1), GRPC_PLAINTEXT or INPROCESS (default: ${DEFAULT-VALUE}).")
  TransportChoice transport;

  @Option(
      names = "--timeout-s",
      defaultValue = "30",
      description = "Seconds to wait for every node to deliver (default: ${DEFAULT-VALUE}).")
  long timeoutS;

  /** Prints deliveries and counts them down. */
  static final class Printer implements PassiveModule {
    private final NodeId self;
    private final PrintStream out;
    private final CountDownLatch delivered;

    Printer(NodeId self, PrintStream out, CountDownLatch delivered) {
      this.self = self;
      this.out = out;
      this.delivered = delivered;
    }

    @Override
    public EventList applyEvents(EventList events) {
      for (Event e : events) {
        if (e.payload() instanceof Deliver d) {
          synchronized (out) {
            out.println("node " + self + " delivered: " + d.getData().toStringUtf8());
          }
          delivered.countDown();
        }
      }
      return EventList.empty();
    }
  }

  @Override
  public Integer call() throws Exception {
    try (TransportProvider provider = transport.open(NODES)) {
      return run(System.in, System.out, provider::transport);
    }
  }

  int run(InputStream in, PrintStream out, Function<NodeId, ActiveModule> transports)
      throws Exception {
    String line = value;
    if (line == null) {
      out.println("Type the value for the leader (node " + LEADER + ") to broadcast, then Enter:");
      BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
      line = reader.readLine();
      if (line == null) {
        out.println("no input");
        return 2;
      }
    }
    ByteString data = ByteString.copyFromUtf8(line);
    if (data.size() > BcbModule.Params.DEFAULT_MAX_DATA_BYTES) {
      out.println("the value is larger than " + BcbModule.Params.DEFAULT_MAX_DATA_BYTES + " bytes");
      return 2;
    }
    BcbModule.Params params =
        new BcbModule.Params(ByteString.copyFromUtf8("bcb-demo"), NODES, LEADER);
    BcbModule.Config config = BcbModule.Config.defaults(APP);
    CountDownLatch delivered = new CountDownLatch(NODES.size());
    List<Node> nodes = new ArrayList<>();
    for (NodeId id : NODES) {
      Map<ModuleId, Module> m = new LinkedHashMap<>();
      m.put(NET, transports.apply(id));
      m.put(CryptoModule.DEFAULT_ID, new CryptoModule(PseudoCrypto.create(NODES, id)));
      m.put(config.self(), new BcbModule(config, params, id));
      m.put(APP, new Printer(id, out, delivered));
      nodes.add(Node.builder(id).modules(m).build());
    }
    try {
      nodes.forEach(Node::start);
      nodes.get(0).injectEvents(EventList.of(BcbEvents.broadcastRequest(config.self(), data)));
      if (!delivered.await(timeoutS, TimeUnit.SECONDS)) {
        out.println("not every node delivered within " + timeoutS + " s");
        return 1;
      }
    } finally {
      nodes.forEach(Node::stop);
    }
    for (Node n : nodes) {
      if (n.failure().isPresent()) {
        out.println("node " + n.id() + " failed: " + n.failure().get());
        return 1;
      }
    }
    return 0;
  }
}
