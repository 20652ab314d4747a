package io.github.mirframework.samples.keygen;

import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.trantor.MembershipFile;
import io.github.mirframework.types.NodeId;
import java.io.IOException;
import java.io.PrintStream;
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
 * port {@code base-port + 1000 + i}.
 */
@Command(
    name = "keygen",
    mixinStandardHelpOptions = true,
    description = {
      "Generates an ECDSA P-256 key pair and a node certificate per node, and a membership file.",
      "Writes DIR/node-<id>.key (private, PKCS#8 PEM), DIR/node-<id>.crt and DIR/membership"
          + " (format: docs/trantor-system.md)."
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
    MembershipFile mf = MembershipFile.generate(out, specs, new SecureRandom());
    stdout.println("Wrote keys and certificates of " + total + " nodes and " + mf.file() + ".");
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
