package io.github.mirframework.client;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Caps the TCP connections of the client port, globally and per remote IP address, and closes a
 * connection that has not completed its TLS and HTTP/2 handshake (the client's first HTTP/2
 * SETTINGS frame) within the handshake timeout. Connections over a cap are closed as soon as they
 * are accepted, before any byte is read. Thread-safe.
 */
final class ConnectionLimiter {
  private final int maxConnections;
  private final int maxPerAddress;
  private final Duration handshakeTimeout;
  private final Map<InetAddress, Integer> perAddress = new HashMap<>();
  private final Set<SocketAddress> ready = ConcurrentHashMap.newKeySet();
  private final AtomicLong refused = new AtomicLong();
  private final AtomicLong handshakeTimeouts = new AtomicLong();
  private int total;
  private volatile EventLoopGroup timers;

  ConnectionLimiter(int maxConnections, int maxPerAddress, Duration handshakeTimeout) {
    this.maxConnections = maxConnections;
    this.maxPerAddress = maxPerAddress;
    this.handshakeTimeout = handshakeTimeout;
  }

  void timers(EventLoopGroup group) {
    this.timers = group;
  }

  synchronized int open() {
    return total;
  }

  long refusedCount() {
    return refused.get();
  }

  long handshakeTimeoutCount() {
    return handshakeTimeouts.get();
  }

  private synchronized boolean tryAcquire(InetAddress a) {
    int n = perAddress.getOrDefault(a, 0);
    if (total >= maxConnections || n >= maxPerAddress) {
      return false;
    }
    total++;
    perAddress.put(a, n + 1);
    return true;
  }

  private synchronized void release(InetAddress a) {
    total--;
    int n = perAddress.getOrDefault(a, 1) - 1;
    if (n <= 0) {
      perAddress.remove(a);
    } else {
      perAddress.put(a, n);
    }
  }

  /** A gRPC transport on this connection received the client's HTTP/2 settings. */
  void transportReady(SocketAddress remote) {
    if (remote != null) {
      ready.add(remote);
    }
  }

  void transportTerminated(SocketAddress remote) {
    if (remote != null) {
      ready.remove(remote);
    }
  }

  private void watch(Channel ch, SocketAddress remote) {
    EventLoopGroup t = timers;
    if (t == null) {
      return;
    }
    try {
      t.schedule(
          () -> {
            if (ch.isOpen() && !ready.contains(remote)) {
              handshakeTimeouts.incrementAndGet();
              ch.close();
            }
          },
          handshakeTimeout.toNanos(),
          TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      ch.close();
    }
  }

  /** The server channel: applies the caps to every accepted connection. */
  final class CappedServerChannel extends NioServerSocketChannel {
    @Override
    protected int doReadMessages(List<Object> buf) throws Exception {
      int start = buf.size();
      int n = super.doReadMessages(buf);
      for (int i = start; i < buf.size(); ) {
        Channel ch = (Channel) buf.get(i);
        SocketAddress remote = ch.remoteAddress();
        InetAddress addr =
            remote instanceof InetSocketAddress isa
                ? isa.getAddress()
                : InetAddress.getLoopbackAddress();
        if (!tryAcquire(addr)) {
          refused.incrementAndGet();
          buf.remove(i);
          ch.unsafe().closeForcibly();
          continue;
        }
        ch.closeFuture()
            .addListener(
                f -> {
                  release(addr);
                  ready.remove(remote);
                });
        watch(ch, remote);
        i++;
      }
      return n;
    }
  }
}
