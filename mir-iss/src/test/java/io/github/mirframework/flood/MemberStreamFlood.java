package io.github.mirframework.flood;

import com.google.protobuf.ByteString;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.net.grpc.NodeIdentity;
import io.grpc.Status;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the floods of a Byzantine member over one authenticated connection ({@link
 * StreamChurnFlood}, {@link MaxSizeMessageFlood}) share: the connection, the junk frames they send
 * (see {@link PeerChannel#junkFrames}), how their streams ended, and their socket count (one until
 * closed).
 */
abstract class MemberStreamFlood implements Flood {
  final String name;
  final int count;
  final List<byte[]> frames;
  final PeerChannel peer;
  final Map<Status.Code, AtomicLong> endings = new ConcurrentHashMap<>();
  volatile boolean stopped;
  volatile boolean closed;

  /**
   * Opens the connection to {@code to} as member {@code as}.
   *
   * @param frameBytes the size of a junk frame
   * @param seed the seed of the junk
   */
  MemberStreamFlood(
      String name,
      NodeAddress to,
      NodeIdentity as,
      ByteString serverKey,
      int count,
      int frameBytes,
      long seed) {
    this.name = name;
    this.count = count;
    this.frames = PeerChannel.junkFrames(frameBytes, 4, seed);
    this.peer = new PeerChannel(to, as, serverKey);
  }

  @Override
  public String name() {
    return name;
  }

  /** Counts one stream that ended with {@code status}. */
  void countEnding(Status status) {
    endings.computeIfAbsent(status.getCode(), c -> new AtomicLong()).incrementAndGet();
  }

  @Override
  public int openSockets() {
    return closed ? 0 : 1;
  }

  /** Puts the frame size and the streams' endings ({@code ended_<code>}) into {@code m}. */
  void putStreamCounters(Map<String, Long> m) {
    m.put("frame_bytes", (long) frames.get(0).length);
    endings.forEach(
        (code, n) -> m.put("ended_" + code.name().toLowerCase(java.util.Locale.ROOT), n.get()));
  }
}
