package io.github.mirframework.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.github.mirframework.client.pb.ClientReplies;
import io.github.mirframework.client.pb.NewRequests;
import io.github.mirframework.client.pb.Reply;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.crypto.EncodedKeyPair;
import io.github.mirframework.crypto.InsecureKeys;
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
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Replies to clients, authenticated clients and quotas: four nodes whose "application" answers each
 * request through the node's {@link ReplyModule}, request receivers with TLS, and {@link
 * MirClient}s.
 */
class ClientRepliesTest {
  static final ModuleId MEMPOOL = ModuleId.of("mempool");
  static final long SEED = 21;
  static final ClientId ALICE = ClientId.of("alice");
  static final ClientId MALLORY = ClientId.of("mallory");

  /**
   * Stands in for mempool, ordering and application: answers each request it is given with {@code
   * answer(data)} (null: stays silent) through the reply sink.
   */
  static final class EchoApp implements PassiveModule {
    final List<Request> requests = new CopyOnWriteArrayList<>();
    volatile Function<ByteString, ByteString> answer;

    EchoApp(Function<ByteString, ByteString> answer) {
      this.answer = answer;
    }

    @Override
    public EventList applyEvents(EventList events) {
      EventList out = EventList.empty();
      for (Event e : events) {
        switch (e.payload()) {
          case Init i -> {}
          case NewRequests r -> {
            ClientReplies.Builder replies = ClientReplies.newBuilder();
            for (Request req : r.getRequestsList()) {
              requests.add(req);
              ByteString result = answer.apply(req.getData());
              if (result != null) {
                replies.addReplies(
                    Reply.newBuilder()
                        .setClientId(req.getClientId())
                        .setReqNo(req.getReqNo())
                        .setResult(result));
              }
            }
            if (replies.getRepliesCount() > 0) {
              out.add(Event.of(ReplyModule.DEFAULT_ID, replies.build()));
            }
          }
          default -> throw new IllegalArgumentException(e.typeName());
        }
      }
      return out;
    }
  }

  static ByteString correct(ByteString data) {
    return ByteString.copyFromUtf8("result of " + data.toStringUtf8());
  }

  static EncodedKeyPair clientKeys(ClientId c) {
    return InsecureKeys.keyPair(NodeId.of("client-" + c.value()), SEED);
  }

  final List<AutoCloseable> toClose = new ArrayList<>();
  final Map<NodeId, EchoApp> apps = new LinkedHashMap<>();
  final Map<NodeId, RequestReceiver> receivers = new LinkedHashMap<>();
  final Map<NodeId, Node> nodes = new LinkedHashMap<>();
  ClientRegistry registry;

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

  void startNodes(int n, RequestReceiver.Params params) throws Exception {
    startNodes(n, params, RequestReceiver.DEFAULT_STREAMS_PER_CONNECTION);
  }

  void startNodes(int n, RequestReceiver.Params params, int streamsPerConnection) throws Exception {
    registry =
        ClientRegistry.of(
            Map.of(ALICE, clientKeys(ALICE).publicKey(), MALLORY, clientKeys(MALLORY).publicKey()));
    for (NodeId id : NodeId.range(n)) {
      EchoApp app = new EchoApp(ClientRepliesTest::correct);
      ReplyModule replies = new ReplyModule();
      Node node =
          closeLater(
              Node.builder(id)
                  .module(MEMPOOL, app)
                  .module(ReplyModule.DEFAULT_ID, replies)
                  .build());
      node.start();
      RequestReceiver rr =
          closeLater(
              RequestReceiver.builder(node, MEMPOOL, NodeAddress.loopback(0))
                  .tls(NodeIdentity.insecureForTesting(id, SEED))
                  .clients(registry)
                  .replies(replies)
                  .params(params)
                  .streamsPerConnection(streamsPerConnection)
                  .build());
      rr.start();
      apps.put(id, app);
      receivers.put(id, rr);
      nodes.put(id, node);
    }
  }

  /** Connections to every node's receiver that clients can share (closed after the clients). */
  ClientChannels sharedChannels(String name) {
    Map<NodeId, NodeAddress> addrs = new LinkedHashMap<>();
    Map<NodeId, ByteString> tlsKeys = new LinkedHashMap<>();
    receivers.forEach(
        (n, r) -> {
          addrs.put(n, r.listenAddress());
          tlsKeys.put(n, NodeIdentity.insecureForTesting(n, SEED).publicKey());
        });
    return closeLater(ClientChannels.builder().nodes(addrs).tls(tlsKeys).name(name).build());
  }

  MirClient sharingClient(ClientId id, ClientChannels channels) {
    MirClient c =
        closeLater(
            MirClient.builder(id)
                .channels(channels)
                .signingKey(clientKeys(id))
                .params(fast())
                .build());
    c.start();
    return c;
  }

  static long threadsNamed(String prefix) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.isAlive() && t.getName().startsWith(prefix))
        .count();
  }

  MirClient client(ClientId id, EncodedKeyPair keys, MirClient.Params params) {
    Map<NodeId, NodeAddress> addrs = new LinkedHashMap<>();
    Map<NodeId, ByteString> tlsKeys = new LinkedHashMap<>();
    receivers.forEach(
        (n, r) -> {
          addrs.put(n, r.listenAddress());
          tlsKeys.put(n, NodeIdentity.insecureForTesting(n, SEED).publicKey());
        });
    MirClient c =
        closeLater(
            MirClient.builder(id)
                .nodes(addrs)
                .tls(tlsKeys)
                .signingKey(keys)
                .params(params)
                .build());
    c.start();
    return c;
  }

  static MirClient.Params fast() {
    return MirClient.Params.defaults()
        .withReconnectDelays(Duration.ofMillis(10), Duration.ofMillis(200))
        .withResubmission(Duration.ofMillis(200), Duration.ofMillis(800), Duration.ofSeconds(20));
  }

  static void await(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for: " + what);
      }
      java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
    }
  }

  static ByteString get(CompletableFuture<ByteString> f) throws Exception {
    return f.get(20, TimeUnit.SECONDS);
  }

  @Test
  void futuresCompleteWithTheResultOfFPlusOneMatchingReplies() throws Exception {
    startNodes(4, RequestReceiver.Params.defaults());
    MirClient client = client(ALICE, clientKeys(ALICE), fast());
    assertThat(client.replyQuorum()).isEqualTo(2);
    List<CompletableFuture<ByteString>> futures = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      futures.add(client.submitAsync(ByteString.copyFromUtf8("tx " + i)));
    }
    for (int i = 0; i < 50; i++) {
      assertThat(get(futures.get(i)).toStringUtf8()).isEqualTo("result of tx " + i);
    }
    assertThat(client.result(7)).isSameAs(futures.get(7));
    assertThat(client.pendingCount()).isZero();
    assertThat(client.conflictingRepliesCount()).isZero();
  }

  @Test
  void aByzantineReplicaCannotCompleteAFutureWithAWrongResult() throws Exception {
    startNodes(4, RequestReceiver.Params.defaults());
    // Node 0 lies; nodes 1 and 2 stay silent at first, node 3 answers correctly: one correct and
    // one wrong reply are not f+1 = 2 matching ones.
    apps.get(NodeId.of(0)).answer = d -> ByteString.copyFromUtf8("forged");
    apps.get(NodeId.of(1)).answer = d -> null;
    apps.get(NodeId.of(2)).answer = d -> null;
    MirClient client = client(ALICE, clientKeys(ALICE), fast());
    CompletableFuture<ByteString> f = client.submitAsync(ByteString.copyFromUtf8("pay 5"));
    await(() -> apps.get(NodeId.of(3)).requests.size() >= 1, "node 3 has the request");
    await(() -> receivers.get(NodeId.of(0)).repliesSentCount() >= 1, "the forged reply is sent");
    await(() -> receivers.get(NodeId.of(3)).repliesSentCount() >= 1, "the correct reply is sent");
    assertThat(f).isNotDone();
    // A second lying reply from the same node does not count twice.
    CompletableFuture<ByteString> g = client.submitAsync(ByteString.copyFromUtf8("pay 6"));
    // Node 1 got both (and stayed silent) before it recovers, so only a resubmission can complete
    // the futures through it.
    await(() -> apps.get(NodeId.of(1)).requests.size() >= 2, "node 1 has both requests");
    // Node 1 recovers: its (resubmitted) copy completes both with the correct results.
    apps.get(NodeId.of(1)).answer = ClientRepliesTest::correct;
    assertThat(get(f).toStringUtf8()).isEqualTo("result of pay 5");
    assertThat(get(g).toStringUtf8()).isEqualTo("result of pay 6");
    assertThat(client.resubmittedCount()).isPositive();
    await(() -> client.conflictingRepliesCount() >= 2, "the forged replies are counted");
  }

  @Test
  void aRequestWithoutEnoughRepliesFailsAtItsDeadlineAfterResubmissions() throws Exception {
    startNodes(4, RequestReceiver.Params.defaults());
    apps.values().forEach(a -> a.answer = d -> null);
    apps.get(NodeId.of(2)).answer = ClientRepliesTest::correct;
    MirClient client =
        client(
            ALICE,
            clientKeys(ALICE),
            fast()
                .withResubmission(
                    Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofMillis(1500)));
    CompletableFuture<ByteString> f = client.submitAsync(ByteString.copyFromUtf8("lonely"));
    assertThatThrownBy(() -> f.get(20, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(RequestTimeoutException.class)
        .hasMessageContaining("got no 2 matching replies")
        .hasMessageContaining("replies from [2]");
    assertThat(client.resubmittedCount()).isGreaterThanOrEqualTo(3);
    assertThat(client.timedOutCount()).isEqualTo(1);
    // Resubmissions reached every node; each node was given the request only as often as sent.
    assertThat(apps.get(NodeId.of(0)).requests.size()).isGreaterThanOrEqualTo(2);
  }

  @Test
  void submittingToOneNodeFailsOverToAllAndCachedRepliesAnswerResubmissions() throws Exception {
    startNodes(4, RequestReceiver.Params.defaults());
    MirClient client =
        client(ALICE, clientKeys(ALICE), fast().withSubmission(MirClient.Submission.ONE));
    await(() -> nodes.keySet().stream().allMatch(client::isConnected), "all streams up");
    CompletableFuture<ByteString> f = client.submitAsync(ByteString.copyFromUtf8("one"));
    assertThat(get(f).toStringUtf8()).isEqualTo("result of one");
    long copies = apps.values().stream().filter(a -> !a.requests.isEmpty()).count();
    // The hello registered the stream at every node, but only one node had the request at first;
    // completing needed a resubmission to the others.
    assertThat(copies).isGreaterThanOrEqualTo(2);
    assertThat(client.resubmittedCount()).isPositive();

    // The resubmission went to every node that had not replied; on a loaded machine two replies can
    // complete the future before the other copies arrive, so wait until every node has its copy.
    await(
        () -> apps.values().stream().noneMatch(a -> a.requests.isEmpty()),
        "every node has the resubmitted request");
    // A request the nodes already answered is answered from their reply caches, not applied again.
    int before = apps.values().stream().mapToInt(a -> a.requests.size()).sum();
    MirClient again = client(ALICE, clientKeys(ALICE), fast());
    assertThat(
            again
                .submitAsync(ByteString.copyFromUtf8("one"))
                .get(20, TimeUnit.SECONDS)
                .toStringUtf8())
        .isEqualTo("result of one");
    assertThat(apps.values().stream().mapToInt(a -> a.requests.size()).sum()).isEqualTo(before);
  }

  @Test
  void impersonationUnknownClientsAndUnsignedRequestsAreRejected() throws Exception {
    startNodes(4, RequestReceiver.Params.defaults());
    // Mallory signs with her own key but claims to be Alice.
    MirClient impostor = client(ALICE, clientKeys(MALLORY), fast());
    CompletableFuture<ByteString> f = impostor.submitAsync(ByteString.copyFromUtf8("steal"));
    assertThatThrownBy(() -> f.get(20, TimeUnit.SECONDS))
        .cause()
        .isInstanceOf(RequestRejectedException.class)
        .hasMessageContaining("invalid signature");
    // An unregistered client.
    MirClient stranger =
        client(ClientId.of("stranger"), clientKeys(ClientId.of("stranger")), fast());
    assertThatThrownBy(() -> stranger.submitAsync(ByteString.EMPTY).get(20, TimeUnit.SECONDS))
        .cause()
        .isInstanceOf(RequestRejectedException.class)
        .hasMessageContaining("unknown client");
    assertThat(apps.values().stream().mapToInt(a -> a.requests.size()).sum()).isZero();
    // Alice herself, request number 0 is still hers.
    MirClient alice = client(ALICE, clientKeys(ALICE), fast());
    assertThat(get(alice.submitAsync(ByteString.copyFromUtf8("mine"))).toStringUtf8())
        .isEqualTo("result of mine");
    // Two replies complete the future; node 0 may apply its copy a moment later.
    await(() -> !apps.get(NodeId.of(0)).requests.isEmpty(), "node 0 has Alice's request");
    assertThat(apps.get(NodeId.of(0)).requests.getFirst().getReqNo()).isZero();

    // Unsigned and negative request numbers, straight from the registry and through a receiver.
    Request unsigned = ClientEvents.request(ALICE, 5, ByteString.EMPTY);
    assertThat(registry.check(unsigned)).contains("not signed");
    Request negative =
        ClientSigner.of(ALICE, clientKeys(ALICE)).sign(-1, ByteString.copyFromUtf8("x"));
    assertThat(registry.check(negative)).contains("negative");
    MirClient.Builder b = MirClient.builder(ALICE);
    assertThatThrownBy(() -> b.firstRequestNumber(-1)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void negativeRequestNumbersAreRejectedByTheReceiver() throws Exception {
    startNodes(1, RequestReceiver.Params.defaults());
    ClientSigner alice = ClientSigner.of(ALICE, clientKeys(ALICE));
    List<io.github.mirframework.client.pb.SessionFrame> frames = new CopyOnWriteArrayList<>();
    io.grpc.ManagedChannel ch =
        io.grpc.netty.NettyChannelBuilder.forAddress(
                "127.0.0.1", receivers.get(NodeId.of(0)).listenAddress().port())
            .sslContext(
                io.github.mirframework.net.grpc.internal.Tls.client(
                    null,
                    null,
                    new io.github.mirframework.net.grpc.internal.PinnedKeyTrustManager(
                        k -> true, "any")))
            .build();
    try {
      io.grpc.stub.StreamObserver<io.github.mirframework.client.pb.RequestBatch> out =
          io.github.mirframework.client.pb.RequestReceiverGrpc.newStub(ch)
              .session(
                  new io.grpc.stub.StreamObserver<>() {
                    @Override
                    public void onNext(io.github.mirframework.client.pb.SessionFrame v) {
                      frames.add(v);
                    }

                    @Override
                    public void onError(Throwable t) {}

                    @Override
                    public void onCompleted() {}
                  });
      out.onNext(
          io.github.mirframework.client.pb.RequestBatch.newBuilder()
              .addRequests(alice.sign(Long.MIN_VALUE, ByteString.EMPTY))
              .addRequests(alice.sign(0, ByteString.copyFromUtf8("fine")))
              .build());
      await(() -> frames.stream().anyMatch(fr -> fr.getHandled() == 2), "both handled");
      var notAccepted = frames.stream().flatMap(fr -> fr.getNotAcceptedList().stream()).toList();
      assertThat(notAccepted).hasSize(1);
      assertThat(notAccepted.getFirst().getReason()).contains("negative");
      await(() -> apps.get(NodeId.of(0)).requests.size() == 1, "the valid request arrives");
      out.onCompleted();
    } finally {
      ch.shutdownNow();
      ch.awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void eachClientHasAnAdmissionQuota() throws Exception {
    startNodes(1, RequestReceiver.Params.defaults().withClientQuota(0.001, 5));
    MirClient alice =
        client(
            ALICE,
            clientKeys(ALICE),
            fast()
                .withResubmission(
                    Duration.ofSeconds(30), Duration.ofSeconds(30), Duration.ofSeconds(60)));
    MirClient mallory =
        client(
            MALLORY,
            clientKeys(MALLORY),
            fast()
                .withResubmission(
                    Duration.ofSeconds(30), Duration.ofSeconds(30), Duration.ofSeconds(60)));
    for (int i = 0; i < 8; i++) {
      mallory.submitAsync(ByteString.copyFromUtf8("flood " + i));
    }
    RequestReceiver rr = receivers.get(NodeId.of(0));
    await(() -> rr.throttledCount() == 3, "mallory's requests over her quota are throttled");
    // Mallory's flood does not use up Alice's quota.
    for (int i = 0; i < 5; i++) {
      assertThat(get(alice.submitAsync(ByteString.copyFromUtf8("a" + i))).toStringUtf8())
          .isEqualTo("result of a" + i);
    }
    assertThat(rr.throttledCount()).isEqualTo(3);
    assertThat(apps.get(NodeId.of(0)).requests).hasSize(10);
  }

  @Test
  void clientsSharingChannelsUseOneConnectionPerNodeAndCloseIndependently() throws Exception {
    startNodes(4, RequestReceiver.Params.defaults(), 16);
    ClientChannels channels = sharedChannels("shared-test");
    MirClient alice = sharingClient(ALICE, channels);
    MirClient mallory = sharingClient(MALLORY, channels);
    assertThat(alice.replyQuorum()).isEqualTo(2);
    for (int i = 0; i < 20; i++) {
      CompletableFuture<ByteString> a = alice.submitAsync(ByteString.copyFromUtf8("a" + i));
      CompletableFuture<ByteString> m = mallory.submitAsync(ByteString.copyFromUtf8("m" + i));
      assertThat(get(a).toStringUtf8()).isEqualTo("result of a" + i);
      assertThat(get(m).toStringUtf8()).isEqualTo("result of m" + i);
    }
    // Both clients' streams run on one connection per node, and the clients made no threads.
    receivers.values().forEach(r -> assertThat(r.openConnections()).isEqualTo(1));
    assertThat(threadsNamed("mir-client-")).isZero();
    assertThat(threadsNamed("mir-shared-test-io")).isPositive();

    // Closing one client ends its streams only: the other keeps working on the same connections.
    alice.close();
    assertThat(get(mallory.submitAsync(ByteString.copyFromUtf8("after"))).toStringUtf8())
        .isEqualTo("result of after");
    receivers.values().forEach(r -> assertThat(r.openConnections()).isEqualTo(1));
    assertThatThrownBy(alice::start).isInstanceOf(IllegalStateException.class);

    // Closing the channels ends their threads; a client built on them afterwards cannot start.
    mallory.close();
    channels.close();
    assertThat(threadsNamed("mir-shared-test-")).isZero();
    MirClient late =
        MirClient.builder(ClientId.of("late"))
            .channels(channels)
            .insecureUnsignedRequestsForTesting()
            .build();
    assertThatThrownBy(late::start).hasMessageContaining("closed");
  }

  @Test
  void aReceiverAcceptsAtMostItsStreamsPerConnection() throws Exception {
    startNodes(1, RequestReceiver.Params.defaults(), 1);
    ClientChannels channels = sharedChannels("one-stream");
    MirClient alice = sharingClient(ALICE, channels);
    assertThat(get(alice.submitAsync(ByteString.copyFromUtf8("first"))).toStringUtf8())
        .isEqualTo("result of first");
    // Alice holds the connection's only stream: Mallory's stream waits (the receiver announced a
    // limit of one stream) until she leaves.
    MirClient mallory = sharingClient(MALLORY, channels);
    CompletableFuture<ByteString> m = mallory.submitAsync(ByteString.copyFromUtf8("waits"));
    await(() -> mallory.resubmittedCount() >= 1, "mallory resubmits, still without an answer");
    assertThat(m).isNotDone();
    assertThat(receivers.get(NodeId.of(0)).streamsOpenedCount()).isEqualTo(1);
    assertThat(apps.get(NodeId.of(0)).requests).hasSize(1);
    alice.close();
    assertThat(get(m).toStringUtf8()).isEqualTo("result of waits");
  }

  @Test
  void sharedChannelsAndTheirClientsRejectMisuse() throws Exception {
    startNodes(1, RequestReceiver.Params.defaults());
    ClientChannels channels = sharedChannels("misuse");
    assertThatThrownBy(
            () ->
                MirClient.builder(ALICE)
                    .channels(channels)
                    .plaintext()
                    .signingKey(clientKeys(ALICE))
                    .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("channels(...)");
    assertThatThrownBy(() -> MirClient.builder(ALICE).channels(channels).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("signingKey");
    assertThatThrownBy(() -> ClientChannels.builder().plaintext().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("at least one node");
    assertThatThrownBy(
            () ->
                ClientChannels.builder()
                    .nodes(Map.of(NodeId.of(0), NodeAddress.loopback(1)))
                    .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("tls");
    assertThatThrownBy(() -> ClientChannels.builder().ioThreads(0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () ->
                RequestReceiver.builder(nodes.get(NodeId.of(0)), MEMPOOL, NodeAddress.loopback(0))
                    .streamsPerConnection(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("between 1 and 65536");
  }
}
