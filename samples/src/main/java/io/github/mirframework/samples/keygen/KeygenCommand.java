package io.github.mirframework.samples.keygen;

import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.trantor.ClientsFile;
import io.github.mirframework.trantor.MembershipFile;
import io.github.mirframework.types.ClientId;
import io.github.mirframework.types.NodeId;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Generates the keys, certificates and membership file of a Trantor system (e.g. the chat-demo run
 * one replica per terminal): node {@code i} gets transport port {@code base-port + i} and client
 * port {@code base-port + 1000 + i}. It also generates one client per node ({@link #clientOf}, the
 * client of that node's terminal), with its key pair and a clients file that registers them all.
 */
@Command(
    name = "keygen",
    mixinStandardHelpOptions = true,
    description = {
      "Generates an ECDSA P-256 key pair and a node certificate per node, and a membership file.",
      "Writes DIR/node-<id>.key (private, PKCS#8 PEM), DIR/node-<id>.crt and DIR/membership"
          + " (format: docs/trantor-system.md).",
      "Also one client per node, client-<id>: DIR/client-<id>.key (private), DIR/client-<id>.pub"
          + " and DIR/clients, the clients every replica accepts."
    })
public final class KeygenCommand implements Callable<Integer> {

  @Option(
      names = "--nodes",
      defaultValue = "4",
      description = "Nodes in the initial membership (default: ${DEFAULT-VALUE}).")
  int nodes;

  @Option(
      names = "--spare",
      defaultValue = "0",
      description =
          "Extra nodes whose keys are known but which are not members yet; add them later with"
              + " 'Config: add-node' (default: ${DEFAULT-VALUE}).")
  int spare;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory.")
  Path out;

  @Option(
      names = "--host",
      defaultValue = "127.0.0.1",
      description = "Host of every node (default: ${DEFAULT-VALUE}).")
  String host;

  @Option(
      names = "--base-port",
      defaultValue = "10000",
      description =
          "Transport port of node 0; node i uses base+i, its client port base+1000+i"
              + " (default: ${DEFAULT-VALUE}).")
  int basePort;

  /** The client keygen generates for node {@code node}: {@code client-<node ID>}. */
  public static ClientId clientOf(NodeId node) {
    return ClientId.of("client-" + node.value());
  }

  /**
   * The file where a chat client keeps the next request number to use, next to its private key
   * {@code keyFile}: {@code <key file name without .key>.reqno}.
   */
  public static Path requestNumberFile(Path keyFile) {
    String name = keyFile.getFileName().toString();
    String base = name.endsWith(".key") ? name.substring(0, name.length() - 4) : name;
    return keyFile.resolveSibling(base + ".reqno");
  }

  @Override
  public Integer call() throws IOException {
    return run(System.out);
  }

  int run(PrintStream stdout) throws IOException {
    int total = nodes + spare;
    if (nodes < 1 || spare < 0 || total > 1000) {
      stdout.println("keygen: need --nodes >= 1, --spare >= 0 and at most 1000 nodes in all");
      return 2;
    }
    if (basePort < 1 || basePort + 1000 + total - 1 > 65_535) {
      stdout.println("keygen: --base-port " + basePort + " leaves no room for " + total + " nodes");
      return 2;
    }
    List<MembershipFile.NodeSpec> specs = new ArrayList<>();
    try {
      for (int i = 0; i < total; i++) {
        specs.add(
            new MembershipFile.NodeSpec(
                NodeId.of(i),
                NodeAddress.of(host, basePort + i),
                NodeAddress.of(host, basePort + 1000 + i),
                i >= nodes));
      }
    } catch (IllegalArgumentException e) {
      stdout.println("keygen: " + e.getMessage());
      return 2;
    }
    SecureRandom random = new SecureRandom();
    MembershipFile mf = MembershipFile.generate(out, specs, random);
    List<ClientId> clients = specs.stream().map(s -> clientOf(s.id())).toList();
    ClientsFile cf = ClientsFile.generate(out, clients, random);
    for (ClientId c : clients) {
      // New keys make new clients: their request numbers start again from 0.
      Files.deleteIfExists(requestNumberFile(cf.defaultPrivateKeyFile(c)));
    }
    stdout.println("Wrote keys and certificates of " + total + " nodes and " + mf.file() + ".");
    stdout.println(
        "Wrote keys of "
            + clients.size()
            + " clients (client-<node ID>, one per node's terminal) and "
            + cf.file()
            + ".");
    stdout.println("Run one replica per terminal:");
    for (MembershipFile.Entry e : mf.entries()) {
      if (!e.spare()) {
        stdout.println("  ./run-sample.sh chat --membership " + mf.file() + " --id " + e.id());
      }
    }
    for (MembershipFile.Entry e : mf.entries()) {
      if (e.spare()) {
        stdout.println(
            "Spare node "
                + e.id()
                + ": type 'Config: add-node "
                + e.id()
                + " "
                + e.transport()
                + "', then run ./run-sample.sh chat --membership "
                + mf.file()
                + " --id "
                + e.id());
      }
    }
    return 0;
  }
}
