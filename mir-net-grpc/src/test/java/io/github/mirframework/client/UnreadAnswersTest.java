package io.github.mirframework.client;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.client.pb.RequestAck;
import io.github.mirframework.client.pb.RequestBatch;
import io.github.mirframework.client.pb.RequestReceiverGrpc;
import io.github.mirframework.client.pb.SessionFrame;
import io.github.mirframework.crypto.EncodedKeyPair;
import io.github.mirframework.crypto.InsecureKeys;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.node.Node;
import io.github.mirframework.types.ClientId;
import io.github.mirframework.types.NodeId;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.netty.NettyChannelBuilder;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A client that sends requests the receiver refuses but never reads the answers: the receiver must
 * stop reading its frames while its answers wait (each refused request costs an answer, so reading
 * on would keep answers in memory without bound, one flood test drove a replica's heap to its limit
 * this way), and must go on once the client reads.
 */
class UnreadAnswersTest {
  static final int FRAMES = 200;
  static final int PER_FRAME = 1000;

  Node node;
  RequestReceiver rr;
  ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    ReceiverHardeningTest.SlowCollector collector = new ReceiverHardeningTest.SlowCollector();
    collector.release.countDown();
    node = Node.builder(NodeId.of(0)).module(ReceiverHardeningTest.MEMPOOL, collector).build();
    node.start();
    EncodedKeyPair key = InsecureKeys.keyPair(NodeId.of("registered"), 1);
    rr =
        RequestReceiver.builder(node, ReceiverHardeningTest.MEMPOOL, NodeAddress.loopback(0))
            .plaintext()
            .clients(ClientRegistry.of(Map.of(ClientId.of("registered"), key.publicKey())))
            .build();
    rr.start();
    channel =
        NettyChannelBuilder.forAddress("127.0.0.1", rr.listenAddress().port())
            .usePlaintext()
            .build();
  }

  @AfterEach
  void stop() throws Exception {
    if (channel != null) {
      channel.shutdownNow();
      channel.awaitTermination(10, TimeUnit.SECONDS);
    }
    if (rr != null) {
      rr.stop();
    }
    if (node != null) {
      node.stop();
    }
  }

  /** A request of a client that is not registered: refused with an answer. */
  static Request unknown(long i) {
    return Request.newBuilder()
        .setClientId("stranger-" + i)
        .setData(ByteString.copyFromUtf8("x"))
        .build();
  }

  @Test
  void aSessionWhoseAnswersAreNotReadIsNotReadEither() throws Exception {
    long refusedWhenPaused =
        floodWithoutReading(
            RequestReceiverGrpc.getSessionMethod(),
            frame -> {
              RequestBatch.Builder b = RequestBatch.newBuilder();
              for (int k = 0; k < PER_FRAME; k++) {
                b.addRequests(unknown((long) frame * PER_FRAME + k));
              }
              return b.build();
            },
            FRAMES);
    // The answers of at most the frames read before the pause wait; not those of all 200,000.
    assertThat(refusedWhenPaused).isLessThan(FRAMES * PER_FRAME / 2);
  }

  @Test
  void aSubmitStreamWhoseAnswersAreNotReadIsNotReadEither() throws Exception {
    int requests = 100_000;
    long refusedWhenPaused =
        floodWithoutReading(RequestReceiverGrpc.getSubmitMethod(), i -> unknown(i), requests);
    assertThat(refusedWhenPaused).isLessThan(requests / 2);
  }

  /**
   * Writes {@code frames} frames on one stream of {@code method} without reading, until the
   * receiver stops reading it; then reads, and checks that the receiver handles every frame.
   * Returns how many requests the receiver had refused when it stopped reading.
   */
  private <Q, A> long floodWithoutReading(
      MethodDescriptor<Q, A> method, Function<Integer, Q> frame, int frames) throws Exception {
    AtomicLong answers = new AtomicLong();
    ClientCall<Q, A> call = channel.newCall(method, CallOptions.DEFAULT);
    call.start(
        new ClientCall.Listener<>() {
          @Override
          public void onMessage(A message) {
            if (message instanceof SessionFrame f) {
              answers.addAndGet(f.getNotAcceptedCount());
            } else if (message instanceof RequestAck) {
              answers.incrementAndGet();
            }
          }
        },
        new Metadata());
    // All frames are queued at once (in this client); the receiver reads them as it likes.
    for (int i = 0; i < frames; i++) {
      call.sendMessage(frame.apply(i));
    }
    ReceiverHardeningTest.await(
        () -> rr.streamsPausedForUnreadAnswersCount() >= 1,
        "the receiver stops reading the stream");
    long refusedWhenPaused = rr.rejectedCount();
    long total =
        method == RequestReceiverGrpc.getSubmitMethod() ? frames : (long) frames * PER_FRAME;
    // The client reads its answers now: the receiver goes on until it has handled everything.
    call.request(Integer.MAX_VALUE);
    ReceiverHardeningTest.await(
        () -> rr.rejectedCount() == total, "every request is refused once the client reads");
    ReceiverHardeningTest.await(() -> answers.get() == total, "every refusal is answered");
    call.cancel("done", null);
    return refusedWhenPaused;
  }
}
