package io.github.mirframework.flood;

import java.util.Map;

/**
 * An attack on the deployment, bounded in count: {@link #start()} begins it on threads the flood
 * owns; it ends by itself when its count is reached ({@link #finished()}), or when {@link #close()}
 * is called, which also closes every socket it opened and joins its threads.
 */
interface Flood extends AutoCloseable {
  /** A short name, e.g. {@code idle-connections}. */
  String name();

  /** Starts the attack in the background. */
  void start() throws Exception;

  /** Whether the attack has used up its count. */
  boolean finished();

  /** Descriptors (sockets) the attacker holds open now. */
  int openSockets();

  /** The attack's counters (for the figures), e.g. {@code opened=10000}. */
  Map<String, Long> counters();

  /** Stops the attack, closes its sockets and joins its threads. Idempotent. */
  @Override
  void close();
}
