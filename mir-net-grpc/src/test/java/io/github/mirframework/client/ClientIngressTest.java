package io.github.mirframework.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import io.github.mirframework.net.grpc.NodeIdentity;
import io.github.mirframework.node.Node;
import io.github.mirframework.types.ClientId;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Request receivers in front of real nodes, and the client. */
class ClientIngressTest {
  static final ModuleId MEMPOOL = ModuleId.of("mempool");
  static final long SEED = 11;

  /** Stands in for the mempool: records the requests it is given. */
  static final class Collector implements PassiveModule {
    final List<Request> requests = new CopyOnWriteArrayList<>();

    @Override
    public EventList applyEvents(EventList events) {
      for (Event e : events) {
        switch (e.payload()) {
          case NewRequests r -> requests.addAll(r.getRequestsList());
          case Init i -> {}
          default -> throw new IllegalArgumentException(e.typeName());
        }
      }
      return EventList.empty();
    }

    List<Long> reqNos(String client) {
      List<Long> out = new ArrayList<>();
      for (Request r : requests) {
        if (r.getClientId().equals(client)) {
          out.add(r.getReqNo());
        }
      }
      return out;
    }
  }

  final List<AutoCloseable> toClose = new ArrayList<>();
  final Map<NodeId, Node> nodes = new LinkedHashMap<>();
  final Map<NodeId, Collector> collectors = new LinkedHashMap<>();
  final Map<NodeId, RequestReceiver> receivers = new LinkedHashMap<>();

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

  RequestReceiver receiver(NodeId id, NodeAddress address, boolean tls) throws Exception {
    RequestReceiver.Builder b =
        RequestReceiver.builder(nodes.get(id), MEMPOOL, address)
            .insecureUnauthenticatedClientsForTesting();
    if (tls) {
      b.tls(NodeIdentity.insecureForTesting(id, SEED));
    } else {
      b.plaintext();
    }
    RequestReceiver r = closeLater(b.build());
    r.start();
    return r;
  }

  void startNodes(int n, boolean tls) throws Exception {
    for (NodeId id : NodeId.range(n)) {
      Collector c = new Collector();
      Node node = closeLater(Node.builder(id).module(MEMPOOL, c).build());
      node.start();
      nodes.put(id, node);
      collectors.put(id, c);
      receivers.put(id, receiver(id, NodeAddress.loopback(0), tls));
    }
  }

  MirClient client(String id, boolean tls) {
    Map<NodeId, NodeAddress> addrs = new LinkedHashMap<>();
    Map<NodeId, ByteString> keys = new LinkedHashMap<>();
    receivers.forEach(
        (n, r) -> {
          addrs.put(n, r.listenAddress());
          keys.put(n, NodeIdentity.insecureForTesting(n, SEED).publicKey());
        });
    MirClient.Builder b =
        MirClient.builder(ClientId.of(id))
            .nodes(addrs)
            .insecureUnsignedRequestsForTesting()
            .params(
                MirClient.Params.defaults()
                    .withReconnectDelays(Duration.ofMillis(10), Duration.ofMillis(200)));
    if (tls) {
      b.tls(keys);
    } else {
      b.plaintext();
    }
    MirClient c = closeLater(b.build());
    c.start();
    return c;
  }

  static void await(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for: " + what);
      }
      java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void requestsReachEveryNodeInOrder(boolean tls) throws Exception {
    startNodes(4, tls);
    MirClient client = client("alice", tls);
    long last = -1;
    for (int i = 0; i < 20; i++) {
      last = client.submit(ByteString.copyFromUtf8("tx " + i));
    }
    assertThat(last).isEqualTo(19);
    assertThat(client.awaitAcknowledged(last, 4, Duration.ofSeconds(30))).isTrue();
    for (Collector c : collectors.values()) {
      await(() -> c.requests.size() == 20, "20 requests");
      assertThat(c.reqNos("alice")).isEqualTo(range(0, 20));
      assertThat(c.requests.get(3).getData().toStringUtf8()).isEqualTo("tx 3");
    }
    for (long i = 0; i <= last; i++) {
      assertThat(client.awaitAcknowledged(i, 4, Duration.ofSeconds(30))).isTrue();
    }
    for (RequestReceiver r : receivers.values()) {
      assertThat(r.acceptedCount()).isEqualTo(20);
    }
  }

  static List<Long> range(long from, long to) {
    List<Long> out = new ArrayList<>();
    for (long i = from; i < to; i++) {
      out.add(i);
    }
    return out;
  }

  @Test
  void unacknowledgedRequestsAreResubmittedAfterAReconnect() throws Exception {
    startNodes(2, false);
    NodeId down = NodeId.of(1);
    MirClient client = client("bob", false);
    long first = client.submit(ByteString.copyFromUtf8("first"));
    assertThat(client.awaitAcknowledged(first, 2, Duration.ofSeconds(30))).isTrue();

    NodeAddress addr = receivers.get(down).listenAddress();
    receivers.get(down).stop();
    await(() -> !client.isConnected(down), "the client notices the receiver is gone");
    List<Long> sent = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      sent.add(client.submit(ByteString.copyFromUtf8("while down " + i)));
    }
    assertThat(client.awaitAcknowledged(sent.get(4), 1, Duration.ofSeconds(30))).isTrue();
    assertThat(client.acknowledgements(sent.get(4))).isEqualTo(1);
    for (long reqNo : sent) {
      assertThat(client.acknowledgements(reqNo)).isEqualTo(1);
    }

    receivers.put(down, receiver(down, addr, false));
    assertThat(client.awaitAcknowledged(sent.get(4), 2, Duration.ofSeconds(30))).isTrue();
    Collector c = collectors.get(down);
    await(() -> c.requests.size() >= 6, "the node gets the resubmitted requests");
    assertThat(c.reqNos("bob")).containsSubsequence(0L, 1L, 2L, 3L, 4L, 5L);
    for (long reqNo : sent) {
      assertThat(client.awaitAcknowledged(reqNo, 2, Duration.ofSeconds(30))).isTrue();
    }
  }

  @Test
  void invalidRequestsAreRejectedAndNeverReachTheNode() throws Exception {
    startNodes(1, false);
    RequestReceiver r =
        closeLater(
            RequestReceiver.builder(nodes.get(NodeId.of(0)), MEMPOOL, NodeAddress.loopback(0))
                .plaintext()
                .insecureUnauthenticatedClientsForTesting()
                .params(RequestReceiver.Params.defaults().withMaxRequestData(16))
                .build());
    r.start();
    ManagedChannel ch =
        NettyChannelBuilder.forAddress("127.0.0.1", r.listenAddress().port())
            .usePlaintext()
            .build();
    try {
      List<RequestAck> acks = new CopyOnWriteArrayList<>();
      StreamObserver<Request> requests =
          RequestReceiverGrpc.newStub(ch)
              .submit(
                  new StreamObserver<>() {
                    @Override
                    public void onNext(RequestAck value) {
                      acks.add(value);
                    }

                    @Override
                    public void onError(Throwable t) {}

                    @Override
                    public void onCompleted() {}
                  });
      requests.onNext(Request.newBuilder().setClientId("").setReqNo(0).build());
      requests.onNext(Request.newBuilder().setClientId("x".repeat(300)).setReqNo(1).build());
      requests.onNext(
          Request.newBuilder()
              .setClientId("carol")
              .setReqNo(2)
              .setData(ByteString.copyFrom(new byte[17]))
              .build());
      requests.onNext(
          Request.newBuilder()
              .setClientId("carol")
              .setReqNo(3)
              .setData(ByteString.copyFromUtf8("ok"))
              .build());
      await(() -> acks.size() == 4, "four acknowledgements");
      assertThat(acks.stream().map(RequestAck::getStatus).toList())
          .containsExactly(
              RequestAck.Status.REJECTED,
              RequestAck.Status.REJECTED,
              RequestAck.Status.REJECTED,
              RequestAck.Status.ACCEPTED);
      assertThat(acks.get(2).getReason()).contains("exceeds");
      Collector c = collectors.get(NodeId.of(0));
      await(() -> c.requests.size() == 1, "the valid request arrives");
      assertThat(c.reqNos("carol")).containsExactly(3L);
      assertThat(r.rejectedCount()).isEqualTo(3);

      // Mir's fire-and-forget Listen works too.
      StreamObserver<Request> fireAndForget =
          RequestReceiverGrpc.newStub(ch)
              .listen(
                  new StreamObserver<>() {
                    @Override
                    public void onNext(io.github.mirframework.client.pb.ByeBye value) {}

                    @Override
                    public void onError(Throwable t) {}

                    @Override
                    public void onCompleted() {}
                  });
      fireAndForget.onNext(Request.newBuilder().setClientId("dave").setReqNo(0).build());
      fireAndForget.onCompleted();
      await(() -> c.reqNos("dave").size() == 1, "the Listen request arrives");
    } finally {
      ch.shutdownNow();
      ch.awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void aStoppedNodeRefusesRequestsWithoutHarm() throws Exception {
    startNodes(1, false);
    MirClient client = client("erin", false);
    nodes.get(NodeId.of(0)).stop();
    long reqNo = client.submit(ByteString.copyFromUtf8("too late"));
    assertThat(client.awaitAcknowledged(reqNo, 1, Duration.ofMillis(300))).isFalse();
    assertThat(client.pendingCount()).isEqualTo(1);
  }

  @Test
  void clientRequiresExplicitSecurityAndNodes() {
    assertThatThrownBy(() -> MirClient.builder(ClientId.of("x")).plaintext().build())
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(
            () ->
                MirClient.builder(ClientId.of("x"))
                    .nodes(Map.of(NodeId.of(0), NodeAddress.loopback(1)))
                    .plaintext()
                    .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("signingKey");
    assertThatThrownBy(
            () ->
                MirClient.builder(ClientId.of("x"))
                    .nodes(Map.of(NodeId.of(0), NodeAddress.loopback(1)))
                    .build())
        .isInstanceOf(IllegalStateException.class);
  }
}
