package io.github.mirframework.samples.chatdemo;

import static io.github.mirframework.samples.chatdemo.ChatIo.allShowed;
import static io.github.mirframework.samples.chatdemo.ChatIo.histories;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.github.mirframework.client.ClientEvents;
import io.github.mirframework.client.ClientRegistry;
import io.github.mirframework.client.ClientSigner;
import io.github.mirframework.client.MirClient;
import io.github.mirframework.client.RequestRejectedException;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.crypto.EcdsaCrypto;
import io.github.mirframework.crypto.EncodedKeyPair;
import io.github.mirframework.event.EventList;
import io.github.mirframework.mempool.SimpleMempool;
import io.github.mirframework.net.Membership;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.net.inprocess.InProcessNetwork;
import io.github.mirframework.trantor.MembershipFile;
import io.github.mirframework.trantor.Trantor;
import io.github.mirframework.types.ClientId;
import io.github.mirframework.types.NodeId;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Chat replicas accept requests of registered clients only, signed with the registered key. */
@Timeout(300)
class ChatClientAuthTest {
  static final Duration WAIT = ChatCommandTest.WAIT;
  static final List<String> FOUR = ChatCommandTest.FOUR;
  static final SecureRandom RANDOM = new SecureRandom();

  @TempDir Path dir;

  private static MirClient client(MembershipFile mf, ClientId id, EncodedKeyPair keys) {
    return MirClient.builder(id)
        .nodes(mf.clientAddresses())
        .tls(mf.publicKeys())
        .signingKey(keys)
        .build();
  }

  private static void assertRejected(CompletableFuture<ByteString> f, String reason)
      throws Exception {
    assertThatThrownBy(() -> f.get(WAIT.toSeconds(), TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(RequestRejectedException.class)
        .hasMessageContaining(reason);
  }

  @Test
  void theRequestReceiversRefuseAnUnregisteredClientAndOneWithAnotherClientsIdButItsOwnKey()
      throws Exception {
    MembershipFile mf = ChatCommandTest.keygen(dir, 4, 0);
    try (ChatCommandTest.Run chat = new ChatCommandTest.Run("--membership", mf.file().toString());
        MirClient stranger =
            client(mf, ClientId.of("stranger"), EcdsaCrypto.generateKeyPair(RANDOM));
        // client-1 is registered, but with another key than this one.
        MirClient forger =
            client(mf, ClientId.of("client-1"), EcdsaCrypto.generateKeyPair(RANDOM))) {
      chat.await("the banner", l -> l.stream().anyMatch(s -> s.contains("Quit with")));
      assertThat(chat.out.lines()).anyMatch(l -> l.contains("request of client client-0, signed"));
      stranger.start();
      forger.start();
      assertRejected(stranger.submitAsync(ByteString.copyFromUtf8("from a stranger")), "unknown");
      assertRejected(forger.submitAsync(ByteString.copyFromUtf8("forged")), "signature");
      chat.type("from the chat's own client");
      chat.await("the chat's own line", allShowed(FOUR, ": from the chat's own client"));
      assertThat(chat.finish()).isZero();
      for (List<String> h : histories(chat.out.lines()).values()) {
        assertThat(h).noneMatch(l -> l.contains("stranger") || l.contains("forged"));
      }
    }
  }

  /**
   * What a faulty replica could do: put forged requests straight into its batches, past the request
   * receivers. The replicas order them but do not apply them, and the forged request numbers stay
   * free for the real client.
   */
  private static void inject(ChatReplica r, Request... requests) {
    r.system()
        .node()
        .injectEvents(
            EventList.of(ClientEvents.newRequests(SimpleMempool.DEFAULT_ID, List.of(requests))));
  }

  @Test
  void orderedRequestsOfUnregisteredOrForgedClientsAreNotApplied() throws Exception {
    List<NodeId> ids = NodeId.range(4);
    Map<NodeId, EncodedKeyPair> nodeKeys = new LinkedHashMap<>();
    Map<NodeId, ByteString> publicKeys = new LinkedHashMap<>();
    Map<NodeId, NodeAddress> addresses = new LinkedHashMap<>();
    for (NodeId n : ids) {
      EncodedKeyPair kp = EcdsaCrypto.generateKeyPair(RANDOM);
      nodeKeys.put(n, kp);
      publicKeys.put(n, kp.publicKey());
      addresses.put(n, NodeAddress.loopback(20_000 + ids.indexOf(n)));
    }
    ClientId alice = ClientId.of("alice");
    EncodedKeyPair aliceKeys = EcdsaCrypto.generateKeyPair(RANDOM);
    ClientRegistry registry = ClientRegistry.of(Map.of(alice, aliceKeys.publicKey()));
    ClientSigner aliceSigner = ClientSigner.of(alice, aliceKeys);
    ClientSigner aliceForger = ClientSigner.of(alice, EcdsaCrypto.generateKeyPair(RANDOM));
    ClientSigner stranger =
        ClientSigner.of(ClientId.of("stranger"), EcdsaCrypto.generateKeyPair(RANDOM));

    Trantor.Params params =
        Trantor.Params.defaults(Membership.of(addresses)).adjustSpeed(Duration.ofMillis(100));
    InProcessNetwork network = new InProcessNetwork(ids);
    ChatIo.Lines out = new ChatIo.Lines();
    PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8);
    List<ChatReplica> replicas = new ArrayList<>();
    try {
      for (NodeId n : ids) {
        EcdsaCrypto crypto = EcdsaCrypto.fromPrivateKey(nodeKeys.get(n).privateKey());
        for (Map.Entry<NodeId, ByteString> k : publicKeys.entrySet()) {
          crypto.registerNodeKey(k.getKey(), k.getValue());
        }
        ChatReplica r =
            ChatReplica.create(
                n,
                params,
                registry,
                publicKeys,
                null,
                null,
                line -> {
                  synchronized (ps) {
                    ps.println(line);
                  }
                },
                null,
                b -> b.crypto(crypto).transport(network.transport(n)));
        replicas.add(r);
      }
      for (ChatReplica r : replicas) {
        r.start();
      }
      // Replica 0 plays a faulty proposer: its batches hold Alice's request 0 forged with another
      // key, an unsigned request 1 of Alice and a request of an unregistered client, then Alice's
      // real request 2 (the mempool cuts batches in arrival order, so that one is ordered with or
      // after the false ones). Alice's real requests 0 and 1 reach the other replicas.
      inject(
          replicas.get(0),
          aliceForger.sign(0, ByteString.copyFromUtf8("forged by someone else")),
          Request.newBuilder()
              .setClientId(alice.value())
              .setReqNo(1)
              .setData(ByteString.copyFromUtf8("unsigned"))
              .build(),
          stranger.sign(0, ByteString.copyFromUtf8("from a stranger")),
          aliceSigner.sign(2, ByteString.copyFromUtf8("alice's third")));
      for (ChatReplica r : replicas.subList(1, 4)) {
        inject(
            r,
            aliceSigner.sign(0, ByteString.copyFromUtf8("alice's first")),
            aliceSigner.sign(1, ByteString.copyFromUtf8("alice's second")));
      }
      for (String line : List.of(": alice's first", ": alice's second", ": alice's third")) {
        out.await(line + " everywhere", WAIT, allShowed(FOUR, line));
      }
      for (ChatReplica r : replicas) {
        assertThat(r.system().failure()).isEmpty();
      }
      Map<String, List<String>> h = histories(out.lines());
      assertThat(h.get("0"))
          .containsExactlyInAnyOrder(
              "Client alice: alice's first",
              "Client alice: alice's second",
              "Client alice: alice's third");
      for (String id : FOUR) {
        assertThat(h.get(id)).as("history of replica %s", id).isEqualTo(h.get("0"));
      }
    } finally {
      for (ChatReplica r : replicas) {
        r.close();
      }
    }
  }
}
