package io.github.mirframework.client;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.github.mirframework.client.pb.NewRequests;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.client.pb.RequestAck;
import io.github.mirframework.client.pb.RequestReceiverGrpc;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.pb.Init;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.node.Node;
import io.github.mirframework.types.ClientId;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The client port under floods: idle connections, and stream churn while the node is busy. */
class ReceiverHardeningTest {
  static final ModuleId MEMPOOL = ModuleId.of("mempool");

  /** Counts requests; blocks on the first event until released (a busy node). */
  static final class SlowCollector implements PassiveModule {
    final CountDownLatch release = new CountDownLatch(1);
    final AtomicLong requests = new AtomicLong();

    @Override
    public EventList applyEvents(EventList events) throws InterruptedException {
      release.await();
      for (Event e : events) {
        switch (e.payload()) {
          case NewRequests r -> requests.addAndGet(r.getRequestsCount());
          case Init i -> {}
          default -> throw new IllegalArgumentException(e.typeName());
        }
      }
      return EventList.empty();
    }
  }

  final List<AutoCloseable> toClose = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  <T extends AutoCloseable> T closeLater(T c) {
    toClose.add(c);
    return c;
  }

  static void await(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for: " + what);
      }
      java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
    }
  }

  @Test
  void idleConnectionsAreCappedAndDroppedAfterTheHandshakeAndIdleTimeouts() throws Exception {
    SlowCollector collector = new SlowCollector();
    collector.release.countDown();
    Node node = closeLater(Node.builder(NodeId.of(0)).module(MEMPOOL, collector).build());
    node.start();
    RequestReceiver rr =
        closeLater(
            RequestReceiver.builder(node, MEMPOOL, NodeAddress.loopback(0))
                .plaintext()
                .insecureUnauthenticatedClientsForTesting()
                .params(
                    RequestReceiver.Params.defaults()
                        .withConnectionLimits(
                            16, 8, Duration.ofMillis(500), Duration.ofMillis(500)))
                .build());
    rr.start();
    int port = rr.listenAddress().port();

    // 20 TCP connections that never speak: at most 8 (per address) are kept, and only until the
    // handshake timeout.
    List<Socket> sockets = new ArrayList<>();
    try {
      for (int i = 0; i < 20; i++) {
        sockets.add(new Socket("127.0.0.1", port));
      }
      // Each connection is either refused at once (over the cap) or closed when its handshake
      // times out; never more than 8 are open.
      await(
          () -> {
            assertThat(rr.openConnections()).isLessThanOrEqualTo(8);
            return rr.refusedConnectionsCount() + rr.handshakeTimeoutsCount() == 20;
          },
          "every silent connection is refused or timed out");
      assertThat(rr.refusedConnectionsCount()).isGreaterThanOrEqualTo(8);
      await(() -> rr.openConnections() == 0, "all silent connections are closed");
      for (Socket s : sockets) {
        s.setSoTimeout(10_000);
        // The server may have sent its HTTP/2 preface; then the connection ends (no timeout).
        assertThat(s.getInputStream().readAllBytes().length).isLessThan(1024);
      }
    } finally {
      for (Socket s : sockets) {
        s.close();
      }
    }

    // A connection that completes HTTP/2 but opens no stream is closed after the idle timeout.
    ManagedChannel idle = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    try {
      idle.getState(true);
      await(() -> rr.openConnections() == 1, "the idle client connects");
      await(() -> rr.openConnections() == 0, "the idle connection is closed");
      assertThat(rr.handshakeTimeoutsCount()).isLessThan(20);
    } finally {
      idle.shutdownNow();
      idle.awaitTermination(5, TimeUnit.SECONDS);
    }

    // The port still serves real clients.
    MirClient client =
        closeLater(
            MirClient.builder(ClientId.of("after"))
                .nodes(Map.of(NodeId.of(0), rr.listenAddress()))
                .plaintext()
                .insecureUnsignedRequestsForTesting()
                .build());
    client.start();
    long reqNo = client.submit(ByteString.copyFromUtf8("still here"));
    assertThat(client.awaitAcknowledged(reqNo, 1, Duration.ofSeconds(20))).isTrue();
    assertThat(idle.getState(false)).isNotEqualTo(ConnectivityState.READY);
  }

  @Test
  void streamChurnCannotPushPastTheNodesBufferLimit() throws Exception {
    SlowCollector collector = new SlowCollector();
    Node node = closeLater(Node.builder(NodeId.of(0)).module(MEMPOOL, collector).build());
    node.start();
    int maxBuffered = 4;
    long budget = 4096;
    RequestReceiver rr =
        closeLater(
            RequestReceiver.builder(node, MEMPOOL, NodeAddress.loopback(0))
                .plaintext()
                .insecureUnauthenticatedClientsForTesting()
                .params(
                    RequestReceiver.Params.defaults()
                        .withMaxBufferedEvents(maxBuffered)
                        .withFrameBudget(4 << 20, budget)
                        .withConnectionLimits(
                            32, 32, Duration.ofSeconds(30), Duration.ofMinutes(5)))
                .build());
    rr.start();
    // 20 connections with 8 streams each (the most a connection may have at once).
    List<ManagedChannel> channels = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      channels.add(
          NettyChannelBuilder.forAddress("127.0.0.1", rr.listenAddress().port())
              .usePlaintext()
              .build());
    }
    int streams = 160;
    ByteString data = ByteString.copyFrom(new byte[200]);
    try {
      // One stream per request, all while the node is stuck: with a fresh request(1) per stream,
      // every frame would go into the node.
      for (int i = 0; i < streams; i++) {
        StreamObserver<Request> s =
            RequestReceiverGrpc.newStub(channels.get(i % channels.size()))
                .submit(
                    new StreamObserver<RequestAck>() {
                      @Override
                      public void onNext(RequestAck value) {}

                      @Override
                      public void onError(Throwable t) {}

                      @Override
                      public void onCompleted() {}
                    });
        s.onNext(Request.newBuilder().setClientId("churn").setReqNo(i).setData(data).build());
      }
      await(() -> rr.framesReadCount() == streams, "every stream's frame was read");
      // +1: the batch the stuck module has taken out of its buffer.
      assertThat(node.bufferedEvents()).isLessThanOrEqualTo(maxBuffered + 1);
      assertThat(rr.acceptedCount()).isLessThanOrEqualTo(maxBuffered + 1);
      assertThat(rr.parkedBytesPeak()).isLessThanOrEqualTo(budget + 512);
      assertThat(rr.refusedFramesCount()).isGreaterThan(streams / 2);

      collector.release.countDown();
      long expected = streams - rr.refusedFramesCount();
      await(() -> collector.requests.get() == expected, "every parked request reaches the node");
      await(() -> rr.acceptedCount() == expected, "the receiver counts what it injected");
    } finally {
      collector.release.countDown();
      for (ManagedChannel ch : channels) {
        ch.shutdownNow();
        ch.awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }
}
