package io.github.mirframework.tools.bench;

import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.types.NodeId;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The replicas of a bench spread over several machines, one line each: {@code ID HOST
 * TRANSPORT_PORT REQUEST_PORT REPORT_PORT} ({@code #} starts a comment). The first line's replica
 * is the one whose applied requests are observed. Immutable.
 */
final class MembershipFile {
  /**
   * One replica.
   *
   * @param host the address it listens on and others reach it at
   * @param transportPort its gRPC transport (replica to replica, mutual TLS)
   * @param requestPort its request receiver (clients)
   * @param reportPort its bench report channel
   */
  record Entry(String host, int transportPort, int requestPort, int reportPort) {
    NodeAddress transport() {
      return NodeAddress.of(host, transportPort);
    }

    NodeAddress requests() {
      return NodeAddress.of(host, requestPort);
    }

    NodeAddress report() {
      return NodeAddress.of(host, reportPort);
    }
  }

  private MembershipFile() {}

  /**
   * Reads and validates {@code file}.
   *
   * @throws IllegalArgumentException naming the file and line of the first problem
   */
  static Map<NodeId, Entry> read(Path file) throws IOException {
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    return parse(lines, file.toString());
  }

  static Map<NodeId, Entry> parse(List<String> lines, String name) {
    Map<NodeId, Entry> out = new LinkedHashMap<>();
    Set<String> endpoints = new HashSet<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      int hash = line.indexOf('#');
      if (hash >= 0) {
        line = line.substring(0, hash);
      }
      line = line.strip();
      if (line.isEmpty()) {
        continue;
      }
      String where = name + ":" + (i + 1) + ": ";
      String[] f = line.split("\\s+");
      if (f.length != 5) {
        throw new IllegalArgumentException(
            where
                + "expected 'ID HOST TRANSPORT_PORT REQUEST_PORT REPORT_PORT', got '"
                + line
                + "'");
      }
      NodeId id;
      try {
        id = NodeId.of(f[0]);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(where + "bad node ID '" + f[0] + "': " + e.getMessage());
      }
      if (out.containsKey(id)) {
        throw new IllegalArgumentException(where + "node " + id + " is listed twice");
      }
      int[] ports = new int[3];
      for (int k = 0; k < 3; k++) {
        try {
          ports[k] = Integer.parseInt(f[2 + k]);
        } catch (NumberFormatException e) {
          ports[k] = -1;
        }
        if (ports[k] < 1 || ports[k] > 65_535) {
          throw new IllegalArgumentException(where + "port '" + f[2 + k] + "' is not in 1..65535");
        }
        if (!endpoints.add(f[1] + ":" + ports[k])) {
          throw new IllegalArgumentException(
              where + "address " + f[1] + ":" + ports[k] + " is used twice");
        }
      }
      Entry e;
      try {
        e = new Entry(f[1], ports[0], ports[1], ports[2]);
        e.transport();
      } catch (IllegalArgumentException ex) {
        throw new IllegalArgumentException(where + ex.getMessage());
      }
      out.put(id, e);
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException(name + ": no replica listed");
    }
    return out;
  }
}
