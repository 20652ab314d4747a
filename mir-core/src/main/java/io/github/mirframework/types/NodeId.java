package io.github.mirframework.types;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * Identifies a node (replica). Node IDs are non-empty strings without whitespace, ordered as
 * strings.
 *
 * @param value the textual ID
 */
public record NodeId(String value) implements Comparable<NodeId> {

  /** Validates the ID. */
  public NodeId {
    Objects.requireNonNull(value, "node ID");
    if (value.isEmpty()) {
      throw new IllegalArgumentException("node ID must not be empty");
    }
    for (int i = 0; i < value.length(); i++) {
      if (Character.isWhitespace(value.charAt(i))) {
        throw new IllegalArgumentException("node ID must not contain whitespace: '" + value + "'");
      }
    }
  }

  /** Returns the node ID with the given text. */
  public static NodeId of(String value) {
    return new NodeId(value);
  }

  /**
   * Returns the node ID whose text is the decimal form of {@code n} (Mir's {@code
   * NewNodeIDFromInt}).
   */
  public static NodeId of(int n) {
    return new NodeId(Integer.toString(n));
  }

  /** Returns the IDs {@code "0"} .. {@code "n-1"}. */
  public static List<NodeId> range(int n) {
    if (n < 0) {
      throw new IllegalArgumentException("number of nodes must not be negative: " + n);
    }
    List<NodeId> ids = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      ids.add(of(i));
    }
    return List.copyOf(ids);
  }

  /** Returns the textual IDs of the given nodes, in iteration order. */
  public static List<String> strings(Collection<NodeId> ids) {
    List<String> out = new ArrayList<>(ids.size());
    for (NodeId id : ids) {
      out.add(id.value);
    }
    return out;
  }

  @Override
  public int compareTo(NodeId o) {
    return value.compareTo(o.value);
  }

  @Override
  public String toString() {
    return value;
  }
}
