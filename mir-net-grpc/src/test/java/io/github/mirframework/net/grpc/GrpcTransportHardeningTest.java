package io.github.mirframework.net.grpc;

import static io.github.mirframework.net.grpc.GrpcTransportRobustnessTest.A;
import static io.github.mirframework.net.grpc.GrpcTransportRobustnessTest.B;
import static io.github.mirframework.net.grpc.GrpcTransportRobustnessTest.C;
import static io.github.mirframework.net.grpc.GrpcTransportRobustnessTest.keyOf;
import static io.github.mirframework.net.grpc.TestCluster.msg;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.pb.TestingString;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.net.grpc.internal.PinnedKeyTrustManager;
import io.github.mirframework.net.grpc.internal.Tls;
import io.github.mirframework.net.grpc.pb.Frame;
import io.github.mirframework.types.NodeId;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.netty.NegotiationType;
import io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * What a faulty member or a stranger can try against the node-to-node port: stream churn, large
 * frames while the node is paused, connection floods, idle connections, removed members, and the
 * races around membership changes and closing.
 */
class GrpcTransportHardeningTest {
  /**
   * Streams opened by the churning peer: 200 by default, 2000 (the count of the issue's
   * reproduction) with {@code -Dmir.test.churnStreams=2000}.
   */
  private static final int STREAMS = Integer.getInteger("mir.test.churnStreams", 200);

  private static byte[] bigFrame(String tag, int bytes) {
    String text = tag + "x".repeat(bytes);
    return Frame.newBuilder()
        .setMsg(
            Events.netMessage(TestCluster.APP, TestingString.newBuilder().setValue(text).build()))
        .build()
        .toByteArray();
  }

  /** A TLS channel to {@code to} presenting {@code identity}. */
  private static ManagedChannel tlsChannel(NodeAddress to, NodeIdentity identity, ByteString key) {
    var ctx =
        Tls.client(
            identity.privateKey(),
            identity.certificate(),
            PinnedKeyTrustManager.of(Set.of(key), "the server"));
    return NettyChannelBuilder.forAddress(to.host(), to.port())
        .sslContext(ctx)
        .negotiationType(NegotiationType.TLS)
        .build();
  }

  /** Opens one stream on {@code ch}, sends {@code frame}, and returns how the stream ended. */
  private static CompletableFuture<Status> oneFrameStream(ManagedChannel ch, byte[] frame) {
    CompletableFuture<Status> done = new CompletableFuture<>();
    ClientCall<byte[], byte[]> call = ch.newCall(RawClient.LISTEN, CallOptions.DEFAULT);
    call.start(
        new ClientCall.Listener<>() {
          @Override
          public void onClose(Status status, Metadata trailers) {
            done.complete(status);
          }
        },
        new Metadata());
    call.request(1);
    call.sendMessage(frame);
    return done;
  }

  private static void shutdown(ManagedChannel ch) throws InterruptedException {
    ch.shutdownNow();
    ch.awaitTermination(10, TimeUnit.SECONDS);
  }

  @Test
  void streamChurnByAnAuthenticatedPeerCannotFillAPausedInbox() throws Exception {
    int inbox = 16;
    try (TestCluster c =
        new TestCluster(
            TestCluster.Mode.MUTUAL_TLS,
            List.of("a", "b"),
            id -> TestCluster.fastParams().withInboxCapacity(inbox))) {
      c.deliverToSinks().connectAll();
      GrpcTransport b = c.t("b");
      c.sink("b").block();
      NodeIdentity aId = NodeIdentity.insecureForTesting(A, TestCluster.SEED);
      ManagedChannel ch = tlsChannel(b.listenAddress(), aId, keyOf(b));
      List<CompletableFuture<Status>> streams = new ArrayList<>();
      try {
        byte[] frame = bigFrame("churn", 64 << 10);
        for (int i = 0; i < STREAMS; i++) {
          streams.add(oneFrameStream(ch, frame));
        }
        // Every stream is refused (the inbox is full) or, for the first few, replaced by the next.
        Await.until(
            () -> streams.stream().filter(CompletableFuture::isDone).count() >= streams.size() - 1,
            Duration.ofSeconds(STREAMS <= 200 ? 120 : 600),
            () ->
                "streams replaced: " + streams.stream().filter(CompletableFuture::isDone).count());
        // Room is checked when a stream is accepted, so streams admitted at the same moment may
        // each
        // add their frame: the bound is the inbox plus those in flight (at most another inbox's
        // worth here), not the number of streams (before the gate, nearly every frame got in).
        assertThat(b.inboxSize())
            .as("messages waiting in the inbox")
            .isLessThanOrEqualTo(2 * inbox + 1);
        assertThat(b.inboxBytes(null))
            .as("bytes waiting in the inbox")
            .isLessThanOrEqualTo((2 * inbox + 1) * (long) frame.length);
      } finally {
        shutdown(ch);
        c.sink("b").unblock();
      }
      // The node is not harmed: a's own transport reconnects and gets through.
      c.t("a").send(B, msg("after the churn"));
      Await.until(
          () -> c.sink("b").textsFrom("a").contains("after the churn"),
          Duration.ofSeconds(30),
          () -> "a's message after the churn");
    }
  }

  @Test
  void onePeerCannotTakeMoreThanItsByteBudgetOfThePausedInbox() throws Exception {
    long perPeer = 1 << 20;
    try (TestCluster c =
        new TestCluster(
            TestCluster.Mode.MUTUAL_TLS,
            List.of("a", "b", "c"),
            id -> TestCluster.fastParams().withInboxBytes(8 * perPeer, perPeer))) {
      c.deliverToSinks().connectAll();
      assertThat(c.t("a").waitFor(3, Duration.ofSeconds(20))).isTrue();
      assertThat(c.t("c").waitFor(3, Duration.ofSeconds(20))).isTrue();
      GrpcTransport b = c.t("b");
      c.sink("b").block();
      // The first message is taken by the (now blocked) delivery thread.
      c.t("c").send(B, msg("first"));
      Await.until(() -> b.receivedCount() == 1, "the first message");
      int big = 256 << 10;
      String filler = "y".repeat(big);
      for (int i = 0; i < 40; i++) {
        assertThat(c.t("a").send(B, msg("big-" + i + filler))).isTrue();
      }
      Await.until(() -> b.inboxBytes(A) >= perPeer, "a fills its share of b's inbox");
      for (int i = 0; i < 3; i++) {
        c.t("c").send(B, msg("small-" + i));
      }
      Await.until(
          () -> b.receivedCount() >= 1 + 3 + perPeer / big,
          "c's messages get in although a is over its budget");
      assertThat(b.inboxBytes(A)).isLessThanOrEqualTo(perPeer + big + 1024);
      c.sink("b").unblock();
      Await.until(
          () -> c.sink("b").count() == 1 + 40 + 3,
          Duration.ofSeconds(30),
          () -> "everything delivered after the pause: " + c.sink("b").count());
    }
  }

  @Test
  void connectionsAreCappedInTotalAndPerAddress() throws Exception {
    GrpcTransport t =
        GrpcTransport.builder(NodeId.of("x"), NodeAddress.loopback(0))
            .security(Security.plaintext())
            .params(
                TestCluster.fastParams()
                    .withConnectionLimits(6, 3)
                    // Long enough that no connection times out while the test counts them.
                    .withTimeouts(Duration.ofSeconds(120), Duration.ofSeconds(120)))
            .build();
    List<Socket> sockets = new ArrayList<>();
    try {
      t.start();
      NodeAddress addr = t.listenAddress();
      // Five from 127.0.0.1: the last two are over the per-address cap.
      for (int i = 0; i < 5; i++) {
        sockets.add(connectFrom("127.0.0.1", addr));
      }
      Await.until(() -> t.refusedConnectionCount() == 2, "two connections refused");
      assertThat(closedByServer(sockets.get(3))).isTrue();
      assertThat(closedByServer(sockets.get(4))).isTrue();
      // Three more from other addresses: the total cap (6) lets exactly three in.
      for (int i = 2; i < 6; i++) {
        sockets.add(connectFrom("127.0.0." + i, addr));
      }
      Await.until(() -> t.refusedConnectionCount() == 3, "one more refused (total cap)");
      assertThat(t.openConnectionCount()).isEqualTo(6);
      // Closing frees the slots.
      for (Socket s : sockets) {
        s.close();
      }
      Await.until(() -> t.openConnectionCount() == 0, "closed connections are forgotten");
      sockets.clear();
      sockets.add(connectFrom("127.0.0.1", addr));
      Await.until(() -> t.openConnectionCount() == 1, "a new connection is admitted");
    } finally {
      for (Socket s : sockets) {
        s.close();
      }
      t.stop();
    }
  }

  @Test
  void aConnectionThatNeverCompletesItsHandshakeIsClosed() throws Exception {
    try (TestCluster c =
        new TestCluster(
            TestCluster.Mode.MUTUAL_TLS,
            List.of("a"),
            id ->
                TestCluster.fastParams()
                    .withTimeouts(Duration.ofMillis(300), Duration.ofMillis(500)))) {
      c.deliverToSinks().connectAll();
      try (Socket s = connectFrom("127.0.0.1", c.t("a").listenAddress())) {
        s.setSoTimeout(20_000);
        // Sends nothing: the server gives up on the handshake and closes the connection.
        assertThat(s.getInputStream().read()).isEqualTo(-1);
      }
      Await.until(() -> c.t("a").openConnectionCount() == 0, "the connection is forgotten");
    }
  }

  @Test
  void aRemovedNodeCanNoLongerCompleteTlsAndAnAddedOneCan() throws Exception {
    try (TestCluster c = new TestCluster(TestCluster.Mode.MUTUAL_TLS, List.of("a", "b", "c"))) {
      c.deliverToSinks().connectAll();
      GrpcTransport b = c.t("b");
      // The raw client speaks as c: stop the real c first, or its reconnecting stream can replace
      // the raw one before b reads the frame (seen on a loaded machine).
      c.t("c").stop();
      Await.until(() -> !b.hasIncomingStream(C), "c's own stream is gone");
      NodeIdentity cId = NodeIdentity.insecureForTesting(C, TestCluster.SEED);
      try (RawClient raw = RawClient.tls(b.listenAddress(), cId, keyOf(b), "c")) {
        raw.send(GrpcTransportRobustnessTest.frame("while a member"));
        Await.until(() -> c.sink("b").textsFrom("c").contains("while a member"), "c gets in");
      }
      b.closeOldConnections(c.membership("a", "b"));
      try (RawClient raw = RawClient.tls(b.listenAddress(), cId, keyOf(b), "c")) {
        raw.send(GrpcTransportRobustnessTest.frame("after removal"));
        Status s = raw.closed.get(10, TimeUnit.SECONDS);
        // Refused in the TLS handshake (no stream was ever opened), not at the stream.
        assertThat(s.getCode()).as("closed with %s", s).isEqualTo(Status.Code.UNAVAILABLE);
      }
      assertThat(c.sink("b").textsFrom("c")).doesNotContain("after removal");

      // A node whose key was not configured at construction joins with addPeerKeys + connect.
      NodeId e = NodeId.of("newcomer");
      NodeIdentity eId = NodeIdentity.insecureForTesting(e, 77);
      try (RawClient raw = RawClient.tls(b.listenAddress(), eId, keyOf(b), "newcomer")) {
        raw.send(GrpcTransportRobustnessTest.frame("too early"));
        assertThat(raw.closed.get(10, TimeUnit.SECONDS).getCode())
            .isEqualTo(Status.Code.UNAVAILABLE);
      }
      b.addPeerKeys(Map.of(e, eId.publicKey()));
      b.connect(c.membership("a", "b").with(e, NodeAddress.loopback(1)));
      try (RawClient raw = RawClient.tls(b.listenAddress(), eId, keyOf(b), "newcomer")) {
        raw.send(GrpcTransportRobustnessTest.frame("welcome"));
        Await.until(
            () -> c.sink("b").textsFrom("newcomer").contains("welcome"), "the newcomer gets in");
      }
    }
  }

  @Test
  void aStreamAcceptedWhileItsNodeIsRemovedDoesNotStay() throws Exception {
    try (TestCluster c =
        new TestCluster(
            TestCluster.Mode.MUTUAL_TLS,
            List.of("a", "b", "c"),
            id -> TestCluster.fastParams().withIoThreads(4))) {
      c.deliverToSinks().connectAll();
      GrpcTransport b = c.t("b");
      c.t("c").stop();
      Await.until(() -> !b.hasIncomingStream(C), "c's own stream is gone");
      CountDownLatch inHook = new CountDownLatch(1);
      CountDownLatch removed = new CountDownLatch(1);
      AtomicBoolean once = new AtomicBoolean();
      b.acceptHook =
          () -> {
            if (once.compareAndSet(false, true)) {
              inHook.countDown();
              try {
                removed.await(30, TimeUnit.SECONDS);
              } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
              }
            }
          };
      NodeIdentity cId = NodeIdentity.insecureForTesting(C, TestCluster.SEED);
      try (RawClient raw = RawClient.tls(b.listenAddress(), cId, keyOf(b), "c")) {
        raw.send(GrpcTransportRobustnessTest.frame("sneaking in"));
        assertThat(inHook.await(20, TimeUnit.SECONDS)).isTrue();
        // c is authorized and about to be registered: remove it now.
        b.closeOldConnections(c.membership("a", "b"));
        removed.countDown();
        Status s = raw.closed.get(10, TimeUnit.SECONDS);
        assertThat(s.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
      }
      assertThat(b.hasIncomingStream(C)).isFalse();
      assertThat(c.sink("b").textsFrom("c")).doesNotContain("sneaking in");
    }
  }

  @Test
  void aFrameQueuedWhileTheConnectionClosesIsDiscardedNotStranded() throws Exception {
    ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    AtomicLong droppedClosed = new AtomicLong();
    List<ManagedChannel> channels = new ArrayList<>();
    PeerConnection[] holder = new PeerConnection[1];
    PeerConnection p =
        new PeerConnection(
            NodeId.of("x"),
            NodeId.of("y"),
            NodeAddress.loopback(1),
            TestCluster.fastParams(),
            GrpcTransport.clientMethodForTesting(),
            a -> {
              ManagedChannel ch =
                  NettyChannelBuilder.forAddress(a.host(), a.port()).usePlaintext().build();
              channels.add(ch);
              return ch;
            },
            Metadata::new,
            scheduler,
            () -> {},
            droppedClosed,
            new AtomicLong());
    holder[0] = p;
    try {
      p.open();
      AtomicBoolean once = new AtomicBoolean();
      // close() runs after enqueue() has checked that the connection is open.
      p.enqueueHook =
          () -> {
            if (once.compareAndSet(false, true)) {
              holder[0].close();
            }
          };
      assertThat(p.enqueue(new byte[] {1, 2, 3})).isTrue();
      assertThat(p.metrics().queued()).as("frames left in the queue").isZero();
      assertThat(droppedClosed.get()).isEqualTo(1);
      p.awaitClosed(Duration.ofSeconds(10));
    } finally {
      for (ManagedChannel ch : channels) {
        shutdown(ch);
      }
      scheduler.shutdownNow();
      scheduler.awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  private static Socket connectFrom(String source, NodeAddress to) throws IOException {
    Socket s = new Socket();
    s.bind(new InetSocketAddress(source, 0));
    s.connect(new InetSocketAddress(to.host(), to.port()), 10_000);
    return s;
  }

  /** Whether the server closed {@code s} (read returns end of stream) within 10 s. */
  private static boolean closedByServer(Socket s) throws IOException {
    s.setSoTimeout(10_000);
    InputStream in = s.getInputStream();
    try {
      return in.read() == -1;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      // Reset by the server.
      return true;
    }
  }
}
