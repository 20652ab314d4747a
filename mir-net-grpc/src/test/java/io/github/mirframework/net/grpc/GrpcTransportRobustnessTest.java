package io.github.mirframework.net.grpc;

import static io.github.mirframework.net.grpc.TestCluster.msg;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import io.github.mirframework.event.PayloadRegistry;
import io.github.mirframework.event.pb.NetMessage;
import io.github.mirframework.event.pb.TestingString;
import io.github.mirframework.net.grpc.pb.Frame;
import io.github.mirframework.types.NodeId;
import io.grpc.Status;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Faults and hostile input: peers going down, garbage, wrong certificates, impersonation. */
class GrpcTransportRobustnessTest {
  static final NodeId A = NodeId.of("a");
  static final NodeId B = NodeId.of("b");
  static final NodeId C = NodeId.of("c");

  static final NodeId GHOST = NodeId.of("ghost");

  /**
   * Makes {@code t} know a node "ghost" that has no transport, so a raw client can speak as ghost
   * without a real node's reconnection replacing its stream (the newest stream of a sender wins).
   */
  static void addGhost(TestCluster c, GrpcTransport t) {
    t.connect(c.membership().with(GHOST, io.github.mirframework.net.NodeAddress.loopback(1)));
  }

  static byte[] frame(String text) {
    return Frame.newBuilder().setMsg(msg(text)).build().toByteArray();
  }

  @Test
  void aPeerDownThenBackGetsTheQueuedMessagesAndNothingFails() throws Exception {
    try (TestCluster c = new TestCluster(TestCluster.Mode.MUTUAL_TLS, List.of("a", "b"))) {
      c.deliverToSinks().connectAll();
      GrpcTransport a = c.t("a");
      assertThat(a.send(B, msg("before"))).isTrue();
      Await.until(() -> c.sink("b").count() == 1, "first message");

      var bAddress = c.t("b").listenAddress();
      c.t("b").stop();
      Await.until(() -> !a.isConnected(B), "a notices that b is gone");
      for (int i = 0; i < 5; i++) {
        assertThat(a.send(B, msg("queued " + i))).isTrue();
      }
      assertThat(a.metrics().peers().get(B).queued()).isEqualTo(5);

      // b comes back on the same address (same identity, new process state).
      GrpcTransport b2 = c.newTransport(B, bAddress);
      b2.start();
      b2.connect(c.membership("a").with(B, bAddress));
      CollectingSink sink2 = new CollectingSink();
      b2.start(sink2);
      Await.until(() -> sink2.count() == 5, "the queued messages reach the new b");
      assertThat(sink2.textsFrom("a"))
          .containsExactly("queued 0", "queued 1", "queued 2", "queued 3", "queued 4");
      assertThat(a.metrics().droppedTotal()).isZero();
      assertThat(a.metrics().peers().get(B).connectAttempts()).isGreaterThan(1);
    }
  }

  @Test
  void garbageTruncatedAndMalformedFramesAreDroppedAndCounted() throws Exception {
    try (TestCluster c = new TestCluster(TestCluster.Mode.PLAINTEXT, List.of("a", "b"))) {
      c.deliverToSinks().connectAll();
      GrpcTransport b = c.t("b");
      byte[] good = frame("good");
      SplittableRandom random = new SplittableRandom(7);
      byte[] garbage = new byte[300];
      random.nextBytes(garbage);
      garbage[0] = (byte) 0xff; // an invalid tag: never a valid Frame
      byte[] noMessage = Frame.getDefaultInstance().toByteArray();
      byte[] badModule =
          Frame.newBuilder()
              .setMsg(msg("x").toBuilder().setDestModule("a//b"))
              .build()
              .toByteArray();
      byte[] noPayload =
          Frame.newBuilder()
              .setMsg(NetMessage.newBuilder().setDestModule("app"))
              .build()
              .toByteArray();
      addGhost(c, b);
      try (RawClient raw = RawClient.plaintext(b.listenAddress(), "ghost")) {
        raw.send(garbage)
            .send(Arrays.copyOf(good, good.length - 3)) // truncated
            .send(noMessage)
            .send(badModule)
            .send(noPayload)
            .send(new byte[0])
            .send(good);
        Await.until(() -> c.sink("b").count() == 1, "the good frame arrives, the rest is dropped");
        raw.halfClose();
        assertThat(raw.closed.get(5, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.OK);
      }
      assertThat(c.sink("b").received())
          .containsExactly(new CollectingSink.Received("ghost", "good"));
      assertThat(b.droppedCount(DropReason.GARBAGE)).as("garbage, truncated").isEqualTo(2);
      assertThat(b.droppedCount(DropReason.MALFORMED))
          .as("no message, bad module, no payload, empty")
          .isEqualTo(4);
      // The real a still gets through.
      assertThat(c.t("a").send(B, msg("real"))).isTrue();
      Await.until(() -> c.sink("b").textsFrom("a").contains("real"), "real message");
    }
  }

  @Test
  void fuzzedFramesNeverBreakTheTransport() throws Exception {
    try (TestCluster c = new TestCluster(TestCluster.Mode.PLAINTEXT, List.of("a", "b"))) {
      c.deliverToSinks().connectAll();
      GrpcTransport b = c.t("b");
      byte[] good = frame("seed message");
      long seed = 20240601;
      SplittableRandom random = new SplittableRandom(seed);
      addGhost(c, b);
      try (RawClient raw = RawClient.plaintext(b.listenAddress(), "ghost")) {
        for (int i = 0; i < 500; i++) {
          byte[] f = good.clone();
          int flips = 1 + random.nextInt(4);
          for (int j = 0; j < flips; j++) {
            f[random.nextInt(f.length)] ^= (byte) (1 << random.nextInt(8));
          }
          raw.send(random.nextBoolean() ? f : Arrays.copyOf(f, random.nextInt(f.length)));
        }
        raw.send(frame("end"));
        Await.until(
            () -> c.sink("b").textsFrom("ghost").contains("end"),
            Await.DEFAULT,
            () -> "all 501 frames processed (seed " + seed + ")");
      }
      TransportMetrics m = b.metrics();
      assertThat(m.received() + m.dropped(DropReason.GARBAGE) + m.dropped(DropReason.MALFORMED))
          .as("every frame either delivered or dropped (seed %d)", seed)
          .isEqualTo(501);
    }
  }

  @Test
  void oversizedFramesAreRefused() throws Exception {
    try (TestCluster c =
        new TestCluster(
            TestCluster.Mode.PLAINTEXT,
            List.of("a", "b"),
            id -> TestCluster.fastParams().withMaxMessageSize(1024))) {
      c.deliverToSinks().connectAll();
      GrpcTransport b = c.t("b");
      addGhost(c, b);
      try (RawClient raw = RawClient.plaintext(b.listenAddress(), "ghost")) {
        raw.send(frame("x".repeat(4000)));
        Status s = raw.closed.get(5, TimeUnit.SECONDS);
        assertThat(s.isOk()).as("stream closed with %s", s).isFalse();
      }
      Await.until(
          () -> b.droppedCount(DropReason.RECEIVED_TOO_LARGE) == 1, "oversized frame counted");
      assertThat(c.sink("b").count()).isZero();
      assertThat(c.t("a").send(B, msg("fine"))).isTrue();
      Await.until(() -> c.sink("b").count() == 1, "normal traffic continues");
    }
  }

  @Test
  void unknownPayloadTypesAreDroppedWhenTypesAreRestricted() throws Exception {
    PayloadRegistry types = PayloadRegistry.empty().register(TestingString.getDefaultInstance());
    try (TestCluster c = new TestCluster(TestCluster.Mode.PLAINTEXT, List.of("a", "b"))) {
      GrpcTransport b =
          GrpcTransport.builder(NodeId.of("b2"), io.github.mirframework.net.NodeAddress.loopback(0))
              .security(Security.plaintext())
              .acceptedTypes(types)
              .build();
      try {
        b.start();
        b.connect(c.membership("a").with(NodeId.of("b2"), b.listenAddress()));
        CollectingSink sink = new CollectingSink();
        b.start(sink);
        NetMessage alien =
            NetMessage.newBuilder()
                .setDestModule("app")
                .setPayload(Any.newBuilder().setTypeUrl("type.googleapis.com/evil.Thing"))
                .build();
        try (RawClient raw = RawClient.plaintext(b.listenAddress(), "a")) {
          raw.send(Frame.newBuilder().setMsg(alien).build().toByteArray()).send(frame("known"));
          Await.until(() -> sink.count() == 1, "the known type arrives");
        }
        assertThat(sink.received()).containsExactly(new CollectingSink.Received("a", "known"));
        assertThat(b.droppedCount(DropReason.UNKNOWN_TYPE)).isEqualTo(1);
      } finally {
        b.stop();
      }
    }
  }

  @ParameterizedTest
  @EnumSource(TestCluster.Mode.class)
  void rawSocketGarbageIsSurvived(TestCluster.Mode mode) throws Exception {
    try (TestCluster c = new TestCluster(mode, List.of("a", "b"))) {
      c.deliverToSinks().connectAll();
      GrpcTransport b = c.t("b");
      var addr = b.listenAddress();
      SplittableRandom random = new SplittableRandom(3);
      // 1. Not HTTP/2 at all.
      byte[] junk = new byte[4096];
      random.nextBytes(junk);
      writeAndClose(addr, junk);
      // 2. The HTTP/2 preface, then junk.
      ByteArrayOutputStream h2junk = new ByteArrayOutputStream();
      h2junk.write(PREFACE);
      h2junk.write(junk);
      writeAndClose(addr, h2junk.toByteArray());
      // 3. A well-formed request whose gRPC message is cut short (announces 1000 bytes, has 10).
      if (mode == TestCluster.Mode.PLAINTEXT) {
        addGhost(c, b);
        writeAndClose(addr, truncatedGrpcRequest("ghost"));
      }
      assertThat(c.t("a").send(B, msg("still fine"))).isTrue();
      Await.until(() -> c.sink("b").count() == 1, "normal traffic continues");
      assertThat(c.sink("b").received())
          .containsExactly(new CollectingSink.Received("a", "still fine"));
    }
  }

  static final byte[] PREFACE =
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  private static void writeAndClose(io.github.mirframework.net.NodeAddress addr, byte[] bytes)
      throws IOException {
    try (Socket s = new Socket(addr.host(), addr.port())) {
      s.setSoTimeout(2000);
      OutputStream out = s.getOutputStream();
      out.write(bytes);
      out.flush();
      s.shutdownOutput();
      // Read until the server closes (or the timeout): it must not hang on us.
      try {
        while (s.getInputStream().read(new byte[1024]) >= 0) {}
      } catch (IOException e) {
        // reset or timeout: fine
      }
    }
  }

  /** An HTTP/2 connection with one Listen request whose only DATA frame ends mid-message. */
  static byte[] truncatedGrpcRequest(String sender) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(PREFACE);
    writeFrame(out, 0x4, 0, 0, new byte[0]); // SETTINGS
    ByteArrayOutputStream hpack = new ByteArrayOutputStream();
    literal(hpack, ":method", "POST");
    literal(hpack, ":scheme", "http");
    literal(hpack, ":path", "/mir.net.GrpcTransport/Listen");
    literal(hpack, ":authority", "localhost");
    literal(hpack, "content-type", "application/grpc");
    literal(hpack, "te", "trailers");
    literal(hpack, "mir-sender", sender);
    writeFrame(out, 0x1, 0x4, 1, hpack.toByteArray()); // HEADERS, END_HEADERS
    byte[] data = new byte[5 + 10];
    data[0] = 0; // not compressed
    data[1] = 0;
    data[2] = 0;
    data[3] = (byte) (1000 >> 8);
    data[4] = (byte) (1000 & 0xff);
    writeFrame(out, 0x0, 0x1, 1, data); // DATA, END_STREAM
    return out.toByteArray();
  }

  private static void literal(ByteArrayOutputStream out, String name, String value) {
    out.write(0x00); // literal header field without indexing, new name
    byte[] n = name.getBytes(StandardCharsets.US_ASCII);
    byte[] v = value.getBytes(StandardCharsets.US_ASCII);
    out.write(n.length);
    out.write(n, 0, n.length);
    out.write(v.length);
    out.write(v, 0, v.length);
  }

  private static void writeFrame(
      ByteArrayOutputStream out, int type, int flags, int stream, byte[] payload) {
    int len = payload.length;
    out.write(len >> 16);
    out.write(len >> 8);
    out.write(len);
    out.write(type);
    out.write(flags);
    out.write(stream >> 24);
    out.write(stream >> 16);
    out.write(stream >> 8);
    out.write(stream);
    out.write(payload, 0, payload.length);
  }

  @Test
  void aNodeWithAnUntrustedKeyIsRefused() throws Exception {
    try (TestCluster c = new TestCluster(TestCluster.Mode.MUTUAL_TLS, List.of("a", "b"))) {
      c.deliverToSinks().connectAll();
      GrpcTransport a = c.t("a");
      // Mallory calls herself b, trusts a's real key, but has her own key pair.
      NodeIdentity malloryAsB = NodeIdentity.insecureForTesting(B, 666);
      GrpcTransport mallory =
          GrpcTransport.builder(B, io.github.mirframework.net.NodeAddress.loopback(0))
              .security(Security.mutualTls(malloryAsB, java.util.Map.of(A, keyOf(a))))
              .params(TestCluster.fastParams())
              .build();
      try {
        mallory.start();
        mallory.connect(c.membership("a").with(B, mallory.listenAddress()));
        mallory.start(new CollectingSink());
        mallory.send(A, msg("I am b"));
        Await.until(
            () -> mallory.metrics().peers().get(A).connectAttempts() >= 3,
            "mallory keeps trying (and failing) to connect to a");
        assertThat(mallory.isConnected(A)).isFalse();
        assertThat(c.sink("a").count()).isZero();

        // Conversely, a pointed at mallory's address for b refuses mallory's server certificate.
        a.connect(c.membership("a").with(B, mallory.listenAddress()));
        assertThat(a.send(B, msg("for b only"))).isTrue();
        Await.until(
            () -> a.metrics().peers().get(B).connectAttempts() >= 3,
            "a keeps trying (and failing) to connect to 'b' at mallory's address");
        assertThat(a.isConnected(B)).isFalse();
        assertThat(mallory.metrics().received()).isZero();
      } finally {
        mallory.stop();
      }
    }
  }

  static ByteString keyOf(GrpcTransport t) {
    return ((Security.MutualTls) t.security()).identity().publicKey();
  }

  @Test
  void aClientWithoutCertificateIsRefused() throws Exception {
    try (TestCluster c = new TestCluster(TestCluster.Mode.MUTUAL_TLS, List.of("a", "b"))) {
      c.deliverToSinks().connectAll();
      GrpcTransport b = c.t("b");
      ByteString bKey = ((Security.MutualTls) b.security()).identity().publicKey();
      try (RawClient raw = RawClient.tls(b.listenAddress(), null, bKey, "a")) {
        raw.send(frame("anonymous"));
        Status s = raw.closed.get(5, TimeUnit.SECONDS);
        assertThat(s.isOk()).as("closed with %s", s).isFalse();
      }
      assertThat(c.sink("b").count()).isZero();
    }
  }

  @Test
  void theSenderIsTheCertificateNotTheHeader() throws Exception {
    try (TestCluster c = new TestCluster(TestCluster.Mode.MUTUAL_TLS, List.of("a", "b", "c"))) {
      c.deliverToSinks();
      GrpcTransport b = c.t("b");
      // Only b knows the membership: c's own transport must not open a stream to b, which, being
      // newer than the raw one below, would replace it before its frame is read.
      b.connect(c.membership());
      ByteString bKey = ((Security.MutualTls) b.security()).identity().publicKey();
      NodeIdentity cIdentity = NodeIdentity.insecureForTesting(C, TestCluster.SEED);
      // c, a legitimate member, claims to be a.
      try (RawClient raw = RawClient.tls(b.listenAddress(), cIdentity, bKey, "a")) {
        raw.send(frame("trust me, I am a"));
        Await.until(() -> c.sink("b").count() == 1, "the message arrives");
      }
      assertThat(c.sink("b").received())
          .containsExactly(new CollectingSink.Received("c", "trust me, I am a"));
    }
  }

  @Test
  void inPlaintextModeUnknownSendersAreRefused() throws Exception {
    try (TestCluster c = new TestCluster(TestCluster.Mode.PLAINTEXT, List.of("a", "b"))) {
      c.deliverToSinks().connectAll();
      GrpcTransport b = c.t("b");
      for (String claimed : new String[] {null, "zed", "b", " "}) {
        try (RawClient raw = RawClient.plaintext(b.listenAddress(), claimed)) {
          raw.send(frame("who am I?"));
          Status s = raw.closed.get(5, TimeUnit.SECONDS);
          assertThat(s.getCode())
              .as("claimed %s", claimed)
              .isEqualTo(Status.Code.PERMISSION_DENIED);
        }
      }
      assertThat(b.refusedStreamCount()).isGreaterThanOrEqualTo(4);
      assertThat(c.sink("b").count()).isZero();
    }
  }
}
