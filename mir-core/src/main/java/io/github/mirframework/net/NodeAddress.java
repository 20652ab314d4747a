package io.github.mirframework.net;

import java.util.Locale;
import java.util.Objects;

/**
 * The network address of a node: a host (name or IP literal) and a TCP port.
 *
 * <p>Textual forms accepted by {@link #parse}: {@code host:port}, {@code [ipv6]:port}, and Mir's
 * multiaddresses {@code /ip4/<ip>/tcp/<port>}, {@code /ip6/<ip>/tcp/<port>}, {@code
 * /dns|dns4|dns6/<name>/tcp/<port>} (a trailing {@code /p2p/...} part is ignored). {@link
 * #toString()} gives the {@code host:port} form, with brackets around IPv6 literals.
 *
 * @param host the host name or IP literal (IPv6 without brackets); non-empty, no whitespace, no
 *     {@code '/'}
 * @param port the TCP port, 0..65535; 0 means "any free port" and makes sense only for listening
 */
public record NodeAddress(String host, int port) {

  /** Validates host and port. */
  public NodeAddress {
    Objects.requireNonNull(host, "host");
    if (host.isEmpty()) {
      throw new IllegalArgumentException("host must not be empty");
    }
    for (int i = 0; i < host.length(); i++) {
      char c = host.charAt(i);
      if (Character.isWhitespace(c) || c == '/' || c == '[' || c == ']') {
        throw new IllegalArgumentException("invalid character '" + c + "' in host '" + host + "'");
      }
    }
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException("port must be in 0..65535, got " + port);
    }
  }

  /** Returns the address {@code host:port}. */
  public static NodeAddress of(String host, int port) {
    return new NodeAddress(host, port);
  }

  /** Returns {@code 127.0.0.1:port}. */
  public static NodeAddress loopback(int port) {
    return new NodeAddress("127.0.0.1", port);
  }

  /**
   * Parses an address in one of the forms described in the class comment.
   *
   * @throws IllegalArgumentException naming the text if it is not a valid address
   */
  public static NodeAddress parse(String text) {
    Objects.requireNonNull(text, "address");
    String s = text.strip();
    try {
      return s.startsWith("/") ? parseMultiaddr(s) : parseHostPort(s);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "invalid node address '" + text + "': " + e.getMessage(), e);
    }
  }

  private static NodeAddress parseHostPort(String s) {
    String host;
    String port;
    if (s.startsWith("[")) {
      int close = s.indexOf(']');
      if (close < 0 || close + 1 >= s.length() || s.charAt(close + 1) != ':') {
        throw new IllegalArgumentException("expected [ipv6]:port");
      }
      host = s.substring(1, close);
      port = s.substring(close + 2);
    } else {
      int colon = s.lastIndexOf(':');
      if (colon < 0) {
        throw new IllegalArgumentException("expected host:port");
      }
      host = s.substring(0, colon);
      port = s.substring(colon + 1);
      if (host.indexOf(':') >= 0) {
        throw new IllegalArgumentException("an IPv6 host must be written in brackets");
      }
    }
    return new NodeAddress(host, parsePort(port));
  }

  private static NodeAddress parseMultiaddr(String s) {
    String[] parts = s.substring(1).split("/", -1);
    if (parts.length < 4) {
      throw new IllegalArgumentException("expected /<ip4|ip6|dns|dns4|dns6>/<host>/tcp/<port>");
    }
    String proto = parts[0].toLowerCase(Locale.ROOT);
    if (!proto.equals("ip4")
        && !proto.equals("ip6")
        && !proto.equals("dns")
        && !proto.equals("dns4")
        && !proto.equals("dns6")) {
      throw new IllegalArgumentException("unsupported address protocol '" + parts[0] + "'");
    }
    if (!parts[2].equalsIgnoreCase("tcp")) {
      throw new IllegalArgumentException("expected 'tcp' after the host, got '" + parts[2] + "'");
    }
    if (parts.length > 4 && !(parts.length == 6 && parts[4].equalsIgnoreCase("p2p"))) {
      throw new IllegalArgumentException("unexpected parts after the port");
    }
    return new NodeAddress(parts[1], parsePort(parts[3]));
  }

  private static int parsePort(String port) {
    if (port.isEmpty() || port.length() > 5 || !port.chars().allMatch(Character::isDigit)) {
      throw new IllegalArgumentException("port '" + port + "' is not a number in 0..65535");
    }
    return Integer.parseInt(port);
  }

  /** The same host with another port. */
  public NodeAddress withPort(int newPort) {
    return new NodeAddress(host, newPort);
  }

  @Override
  public String toString() {
    return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
  }
}
