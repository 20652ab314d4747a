package io.github.mirframework.net.grpc;

import io.github.mirframework.log.RateLimitedLog;
import io.github.mirframework.types.NodeId;
import io.netty.channel.Channel;
import io.netty.channel.ServerChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.LoggerFactory;

/**
 * Caps the incoming connections of a server, in total and per remote IP address. A connection over
 * a cap is closed as soon as it is accepted, before any byte is read from it (and before a TLS
 * handshake costs anything), and counted. The counts go down when connections close.
 *
 * <p>Thread-safe: accepts happen on the server's boss event loop, closes on any event loop.
 */
final class ConnectionLimiter {
  private static final RateLimitedLog REFUSALS =
      RateLimitedLog.shared(LoggerFactory.getLogger(ConnectionLimiter.class));

  private final NodeId self;
  private final int maxTotal;
  private final int maxPerAddress;
  private final Runnable onRefused;
  private final AtomicInteger total = new AtomicInteger();
  private final ConcurrentHashMap<InetAddress, AtomicInteger> byAddress = new ConcurrentHashMap<>();

  ConnectionLimiter(NodeId self, int maxTotal, int maxPerAddress, Runnable onRefused) {
    this.self = self;
    this.maxTotal = maxTotal;
    this.maxPerAddress = maxPerAddress;
    this.onRefused = onRefused;
  }

  /** The server channel that applies the caps (for {@code NettyServerBuilder.channelFactory}). */
  ServerChannel newServerChannel() {
    return new Capped();
  }

  /** Connections open now. */
  int open() {
    return total.get();
  }

  /** Whether a new connection from {@code address} is admitted; if so, it is counted. */
  boolean admit(InetAddress address) {
    if (total.incrementAndGet() > maxTotal) {
      total.decrementAndGet();
      refuse("too many connections", address, maxTotal, "in total");
      return false;
    }
    AtomicInteger n = byAddress.computeIfAbsent(address, a -> new AtomicInteger());
    if (n.incrementAndGet() > maxPerAddress) {
      release(address);
      refuse("too many connections from one address", address, maxPerAddress, "from it");
      return false;
    }
    return true;
  }

  /** Forgets an admitted connection from {@code address}. */
  void release(InetAddress address) {
    total.decrementAndGet();
    byAddress.computeIfPresent(address, (a, n) -> n.decrementAndGet() <= 0 ? null : n);
  }

  private void refuse(String reason, InetAddress address, int limit, String scope) {
    onRefused.run();
    REFUSALS.warn(
        reason,
        "{}: refusing a connection from {}: {} connections open {}",
        self,
        address.getHostAddress(),
        limit,
        scope);
  }

  /** Applies the caps to every connection it accepts. */
  private final class Capped extends NioServerSocketChannel {
    @Override
    protected int doReadMessages(List<Object> buf) throws Exception {
      int before = buf.size();
      int n = super.doReadMessages(buf);
      for (int i = buf.size() - 1; i >= before; i--) {
        if (!(buf.get(i) instanceof Channel ch)) {
          continue;
        }
        InetAddress address =
            ch.remoteAddress() instanceof InetSocketAddress isa ? isa.getAddress() : null;
        if (address == null) {
          continue;
        }
        if (admit(address)) {
          ch.closeFuture().addListener(f -> release(address));
        } else {
          buf.remove(i);
          n--;
          ch.unsafe().closeForcibly();
        }
      }
      return n;
    }
  }
}
