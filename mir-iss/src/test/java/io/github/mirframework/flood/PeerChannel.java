package io.github.mirframework.flood;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import io.github.mirframework.checkpoint.pb.StableCheckpoint;
import io.github.mirframework.checkpoint.pb.StateSnapshot;
import io.github.mirframework.event.pb.NetMessage;
import io.github.mirframework.iss.Iss;
import io.github.mirframework.iss.pb.SbMessage;
import io.github.mirframework.iss.pb.StableCheckpointMessage;
import io.github.mirframework.iss.pbft.pb.PbftMessage;
import io.github.mirframework.iss.pbft.pb.Preprepare;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.net.grpc.NodeIdentity;
import io.github.mirframework.net.grpc.internal.PinnedKeyTrustManager;
import io.github.mirframework.net.grpc.internal.RawBytes;
import io.github.mirframework.net.grpc.internal.Threads;
import io.github.mirframework.net.grpc.internal.Tls;
import io.github.mirframework.net.grpc.pb.Frame;
import io.github.mirframework.net.grpc.pb.GrpcTransportGrpc;
import io.github.mirframework.trantor.Trantor;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.netty.NegotiationType;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A gRPC connection over TLS to a node's port: to its transport port authenticated with a member's
 * key (what a Byzantine member uses to attack), or to its client port without a certificate (what a
 * client uses). Owns its event loop thread ({@code flood-peer-*}); {@link #close()} ends the
 * connection and the thread.
 */
final class PeerChannel implements AutoCloseable {
  /** The transport's stream method, with frames as raw bytes in both directions. */
  static final MethodDescriptor<byte[], byte[]> LISTEN =
      MethodDescriptor.<byte[], byte[]>newBuilder()
          .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
          .setFullMethodName(GrpcTransportGrpc.getListenMethod().getFullMethodName())
          .setRequestMarshaller(RawBytes.INSTANCE)
          .setResponseMarshaller(RawBytes.INSTANCE)
          .build();

  private final Threads threads = new Threads("flood");
  private final EventLoopGroup loop = threads.eventLoops(1, "flood-peer");
  final ManagedChannel channel;

  /**
   * A connection to {@code to} (whose key is {@code serverKey}) presenting {@code as}, or no
   * certificate if {@code as} is null.
   */
  PeerChannel(NodeAddress to, NodeIdentity as, ByteString serverKey) {
    channel =
        NettyChannelBuilder.forAddress(to.host(), to.port())
            .sslContext(
                Tls.client(
                    as == null ? null : as.privateKey(),
                    as == null ? null : as.certificate(),
                    PinnedKeyTrustManager.of(Set.of(serverKey), "the attacked node")))
            .negotiationType(NegotiationType.TLS)
            .eventLoopGroup(loop)
            .channelType(NioSocketChannel.class)
            .directExecutor()
            .maxInboundMessageSize(1 << 20)
            .build();
  }

  /**
   * Frames of about {@code bytes} bytes each that a member may send but that no correct node can
   * use, of four kinds in turn: an ordering message of a far future epoch (buffered per sender), a
   * pushed checkpoint with a malformed snapshot (rejected), a payload of an unknown type (dropped
   * by the node), and a message for a module that takes no network input (dropped by the node).
   */
  static List<byte[]> junkFrames(int bytes, int kinds, long seed) {
    Random random = new Random(seed);
    List<byte[]> frames = new ArrayList<>();
    for (int i = 0; i < kinds; i++) {
      byte[] junk = new byte[Math.max(0, bytes - 256)];
      random.nextBytes(junk);
      ByteString data = ByteString.copyFrom(junk);
      NetMessage msg =
          switch (i % 4) {
            case 0 ->
                NetMessage.newBuilder()
                    .setDestModule(Iss.DEFAULT_ID.value())
                    .setPayload(
                        Any.pack(
                            SbMessage.newBuilder()
                                .setEpoch(1_000_000 + i)
                                .setMsg(
                                    PbftMessage.newBuilder()
                                        .setPreprepare(
                                            Preprepare.newBuilder().setSn(i).setCertData(data)))
                                .build()))
                    .build();
            case 1 ->
                NetMessage.newBuilder()
                    .setDestModule(Iss.DEFAULT_ID.value())
                    .setPayload(
                        Any.pack(
                            StableCheckpointMessage.newBuilder()
                                .setCheckpoint(
                                    StableCheckpoint.newBuilder()
                                        .setSn(1_000_000 + i)
                                        .setSnapshot(StateSnapshot.newBuilder().setAppData(data)))
                                .build()))
                    .build();
            case 2 ->
                NetMessage.newBuilder()
                    .setDestModule(Iss.DEFAULT_ID.value())
                    .setPayload(
                        Any.newBuilder()
                            .setTypeUrl("type.googleapis.com/flood.Junk")
                            .setValue(data))
                    .build();
            default ->
                NetMessage.newBuilder()
                    .setDestModule(Trantor.APP.value())
                    .setPayload(
                        Any.pack(
                            SbMessage.newBuilder()
                                .setEpoch(1)
                                .setMsg(
                                    PbftMessage.newBuilder()
                                        .setPreprepare(Preprepare.newBuilder().setCertData(data)))
                                .build()))
                    .build();
          };
      frames.add(Frame.newBuilder().setMsg(msg).build().toByteArray());
    }
    return frames;
  }

  /** The connection's event loop, e.g. to schedule the attacker's next step. */
  EventLoopGroup loop() {
    return loop;
  }

  @Override
  public void close() {
    channel.shutdownNow();
    try {
      channel.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    Threads.shutdown(loop, Duration.ofSeconds(10));
    if (!threads.joinAll(Duration.ofSeconds(10))) {
      throw new IllegalStateException("the attacker's event loop did not end");
    }
  }
}
