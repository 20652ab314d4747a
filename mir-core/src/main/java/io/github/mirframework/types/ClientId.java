package io.github.mirframework.types;

import java.util.Objects;

/**
 * Identifies a client that submits requests.
 *
 * @param value the textual ID, non-empty
 */
public record ClientId(String value) implements Comparable<ClientId> {

  /** Validates the ID. */
  public ClientId {
    Objects.requireNonNull(value, "client ID");
    if (value.isEmpty()) {
      throw new IllegalArgumentException("client ID must not be empty");
    }
  }

  /** Returns the client ID with the given text. */
  public static ClientId of(String value) {
    return new ClientId(value);
  }

  /** Returns the client ID whose text is the decimal form of {@code n}. */
  public static ClientId of(int n) {
    return new ClientId(Integer.toString(n));
  }

  @Override
  public int compareTo(ClientId o) {
    return value.compareTo(o.value);
  }

  @Override
  public String toString() {
    return value;
  }
}
