package io.github.mirframework.types;

import java.util.Objects;

/**
 * Identifies a module of a node. A module ID is a path of non-empty segments separated by {@code
 * '/'}: the first segment (the <em>top-level</em> ID) names a module registered with the node, the
 * rest (the <em>sub-ID</em>) addresses a submodule inside it, e.g. {@code "availability/3"}. The
 * node routes events on the top-level ID only.
 *
 * <p>Instances are immutable and cache their top-level part, so routing does not allocate. Create
 * constants for the IDs a module uses rather than parsing them per event.
 */
public final class ModuleId implements Comparable<ModuleId> {
  /** The separator between the segments of a module ID. */
  public static final char SEPARATOR = '/';

  private final String value;
  private final String top;

  private ModuleId(String value, String top) {
    this.value = value;
    this.top = top;
  }

  /**
   * Parses a module ID.
   *
   * @throws IllegalArgumentException if the ID is empty or has an empty segment
   */
  public static ModuleId of(String value) {
    Objects.requireNonNull(value, "module ID");
    if (value.isEmpty()) {
      throw new IllegalArgumentException("module ID must not be empty");
    }
    int sep = value.indexOf(SEPARATOR);
    if (value.charAt(0) == SEPARATOR
        || value.charAt(value.length() - 1) == SEPARATOR
        || value.contains("//")) {
      throw new IllegalArgumentException("module ID has an empty segment: '" + value + "'");
    }
    return new ModuleId(value, sep < 0 ? value : value.substring(0, sep));
  }

  /** The full textual ID. */
  public String value() {
    return value;
  }

  /**
   * The textual top-level ID (the first segment); the same string as {@link #value()} when there is
   * no sub-ID.
   */
  public String topString() {
    return top;
  }

  /** The top-level ID. */
  public ModuleId top() {
    return isTopLevel() ? this : new ModuleId(top, top);
  }

  /** Whether this ID has no sub-ID. */
  public boolean isTopLevel() {
    return top.length() == value.length();
  }

  /**
   * The ID without its top-level segment, e.g. {@code "3/x"} for {@code "availability/3/x"}.
   *
   * @throws IllegalStateException if this ID is top-level
   */
  public ModuleId sub() {
    if (isTopLevel()) {
      throw new IllegalStateException("module ID '" + value + "' has no sub-ID");
    }
    return of(value.substring(top.length() + 1));
  }

  /**
   * Returns this ID followed by {@code sub}, e.g. {@code "availability".then("3")} = {@code
   * "availability/3"}.
   */
  public ModuleId then(ModuleId sub) {
    return new ModuleId(value + SEPARATOR + sub.value, top);
  }

  /** Returns this ID followed by the parsed {@code sub}. */
  public ModuleId then(String sub) {
    return then(of(sub));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ModuleId m && m.value.equals(value);
  }

  @Override
  public int hashCode() {
    return value.hashCode();
  }

  @Override
  public int compareTo(ModuleId o) {
    return value.compareTo(o.value);
  }

  @Override
  public String toString() {
    return value;
  }
}
