package io.github.mirframework.net.grpc;

import com.google.protobuf.ByteString;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.net.grpc.internal.PinnedKeyTrustManager;
import io.github.mirframework.net.grpc.internal.RawBytes;
import io.github.mirframework.net.grpc.internal.Tls;
import io.github.mirframework.net.grpc.pb.GrpcTransportGrpc;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.netty.NegotiationType;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A hand-driven gRPC client of the transport's Listen method, which sends arbitrary bytes as frames
 * and claims any sender: what a Byzantine or broken peer could do.
 */
final class RawClient implements AutoCloseable {
  static final MethodDescriptor<byte[], byte[]> LISTEN =
      GrpcTransportGrpc.getListenMethod().toBuilder(RawBytes.INSTANCE, RawBytes.INSTANCE).build();

  private final ManagedChannel channel;
  final CompletableFuture<Status> closed = new CompletableFuture<>();
  private final StreamObserver<byte[]> requests;

  private RawClient(ManagedChannel channel, String claimedSender) {
    this.channel = channel;
    Metadata h = new Metadata();
    if (claimedSender != null) {
      h.put(GrpcTransport.SENDER_HEADER, claimedSender);
    }
    ClientCall<byte[], byte[]> call =
        ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(h))
            .newCall(LISTEN, CallOptions.DEFAULT);
    requests =
        ClientCalls.asyncBidiStreamingCall(
            call,
            new StreamObserver<>() {
              @Override
              public void onNext(byte[] value) {}

              @Override
              public void onError(Throwable t) {
                closed.complete(Status.fromThrowable(t));
              }

              @Override
              public void onCompleted() {
                closed.complete(Status.OK);
              }
            });
  }

  /** A plaintext client that claims to be {@code claimedSender} (null: no header). */
  static RawClient plaintext(NodeAddress to, String claimedSender) {
    return new RawClient(
        NettyChannelBuilder.forAddress(to.host(), to.port()).usePlaintext().build(), claimedSender);
  }

  /**
   * A TLS client presenting {@code identity} (null: no client certificate) that trusts the server
   * key {@code serverKey}, and claims to be {@code claimedSender} in the header.
   */
  static RawClient tls(
      NodeAddress to, NodeIdentity identity, ByteString serverKey, String claimedSender) {
    var ctx =
        Tls.client(
            identity == null ? null : identity.privateKey(),
            identity == null ? null : identity.certificate(),
            PinnedKeyTrustManager.of(Set.of(serverKey), "the server"));
    return new RawClient(
        NettyChannelBuilder.forAddress(to.host(), to.port())
            .sslContext(ctx)
            .negotiationType(NegotiationType.TLS)
            .build(),
        claimedSender);
  }

  RawClient send(byte[] frame) {
    requests.onNext(frame);
    return this;
  }

  void halfClose() {
    requests.onCompleted();
  }

  @Override
  public void close() {
    channel.shutdownNow();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
