package io.github.mirframework.trantor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.github.mirframework.checkpoint.pb.StableCheckpoint;
import io.github.mirframework.client.MirClient;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.crypto.PseudoCrypto;
import io.github.mirframework.eventmangler.EventMangler;
import io.github.mirframework.net.Membership;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.net.inprocess.InProcessNetwork;
import io.github.mirframework.types.ClientId;
import io.github.mirframework.types.NodeId;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link TrantorSystem}: 4 replicas in one JVM on fixed addresses from a generated membership file,
 * with real ECDSA and mutual TLS, fed through their client ports; lifecycle and validation.
 */
@Timeout(180)
class TrantorSystemTest {
  @TempDir Path dir;

  /** Records the applied requests. */
  static final class App implements AppLogic.Static {
    private final List<String> applied = new ArrayList<>();

    @Override
    public synchronized void applyTxs(List<Request> txs) {
      for (Request r : txs) {
        applied.add(r.getClientId() + "." + r.getReqNo() + "=" + r.getData().toStringUtf8());
      }
    }

    @Override
    public synchronized ByteString snapshot() {
      return ByteString.copyFromUtf8(String.join("\n", applied));
    }

    @Override
    public void restoreState(StableCheckpoint checkpoint) {}

    synchronized List<String> applied() {
      return List.copyOf(applied);
    }
  }

  /** Ports that were free a moment ago (the membership file needs fixed ports). */
  static List<Integer> freePorts(int n) throws IOException {
    List<ServerSocket> sockets = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        sockets.add(new ServerSocket(0));
      }
      return sockets.stream().map(ServerSocket::getLocalPort).toList();
    } finally {
      for (ServerSocket s : sockets) {
        s.close();
      }
    }
  }

  static void await(String what, Duration timeout, BooleanSupplier condition)
      throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("timed out waiting for: " + what);
      }
      Thread.sleep(20);
    }
  }

  static List<String> mirThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .map(Thread::getName)
        .filter(n -> n.startsWith("mir-"))
        .toList();
  }

  @Test
  void fourReplicasOnFixedAddressesApplyClientRequestsInTheSameOrder() throws Exception {
    List<Integer> ports = freePorts(8);
    List<MembershipFile.NodeSpec> specs = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      specs.add(
          new MembershipFile.NodeSpec(
              NodeId.of(i),
              NodeAddress.loopback(ports.get(i)),
              NodeAddress.loopback(ports.get(4 + i)),
              false));
    }
    MembershipFile mf = MembershipFile.generate(dir, specs, new SecureRandom());
    Trantor.Params params =
        Trantor.Params.defaults(mf.initialMembership()).adjustSpeed(Duration.ofMillis(300));
    List<TrantorSystem> systems = new ArrayList<>();
    List<App> apps = new ArrayList<>();
    try {
      for (MembershipFile.Entry e : mf.entries()) {
        App app = new App();
        apps.add(app);
        systems.add(
            TrantorSystem.builder(e.id(), AppLogic.fromStatic(app, mf.initialMembership()), params)
                .membershipFile(mf, mf.defaultPrivateKeyFile(e.id()))
                .insecureUnauthenticatedClientsForTesting()
                .build());
      }
      for (TrantorSystem s : systems) {
        s.start();
        s.start(); // idempotent
      }
      assertThat(systems.get(2).transportAddress()).contains(specs.get(2).transport());
      assertThat(systems.get(2).clientAddress()).contains(specs.get(2).client());
      int n = 12;
      try (MirClient client =
          MirClient.builder(ClientId.of("tester"))
              .nodes(mf.clientAddresses())
              .tls(mf.publicKeys())
              .insecureUnsignedRequestsForTesting()
              .build()) {
        client.start();
        for (int k = 0; k < n; k++) {
          client.submit(ByteString.copyFromUtf8("m" + k));
        }
        for (App a : apps) {
          await(
              "every replica applies " + n, Duration.ofSeconds(120), () -> a.applied().size() >= n);
        }
      }
      List<String> reference = apps.get(0).applied();
      assertThat(reference).hasSize(n).doesNotHaveDuplicates();
      for (App a : apps) {
        assertThat(a.applied()).isEqualTo(reference);
      }
      for (TrantorSystem s : systems) {
        assertThat(s.failure()).isEmpty();
      }
    } finally {
      systems.forEach(TrantorSystem::close);
    }
    systems.forEach(TrantorSystem::stop); // idempotent
    assertThatThrownBy(systems.get(0)::start).isInstanceOf(IllegalStateException.class);
    await("no thread left", Duration.ofSeconds(30), () -> mirThreads().isEmpty());
  }

  @org.junit.jupiter.params.ParameterizedTest(name = "perturbed={0}")
  @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
  void delayedAndDuplicatedMessagesOnAnInProcessNetworkStillReachAgreement(boolean perturb)
      throws Exception {
    List<NodeId> ids = NodeId.range(4);
    InProcessNetwork net = new InProcessNetwork(ids);
    Map<NodeId, NodeAddress> addrs = new java.util.LinkedHashMap<>();
    ids.forEach(id -> addrs.put(id, NodeAddress.loopback(1)));
    Membership membership = Membership.of(addrs);
    Trantor.Params params = Trantor.Params.defaults(membership).adjustSpeed(Duration.ofMillis(500));
    List<TrantorSystem> systems = new ArrayList<>();
    List<App> apps = new ArrayList<>();
    try {
      for (NodeId id : ids) {
        App app = new App();
        apps.add(app);
        TrantorSystem.Builder b =
            TrantorSystem.builder(id, AppLogic.fromStatic(app, membership), params)
                .crypto(PseudoCrypto.create(ids, id))
                .transport(net.transport(id))
                .recordTo(dir.resolve("rec-" + id.value()));
        if (perturb) {
          b.perturbMessages(
              EventMangler.Params.defaults()
                  .withDropRate(0)
                  .withMinDelay(Duration.ZERO)
                  .withMaxDelay(Duration.ofMillis(20))
                  .withDuplicateRate(0.1),
              id.hashCode());
        }
        systems.add(b.build());
      }
      for (TrantorSystem s : systems) {
        s.start();
      }
      List<Request> reqs = new ArrayList<>();
      for (int k = 0; k < 6; k++) {
        reqs.add(
            Request.newBuilder()
                .setClientId("c")
                .setReqNo(k)
                .setData(ByteString.copyFromUtf8("r" + k))
                .build());
      }
      // Requests in batches aborted by a view change are lost (Mir's mempool hands each out
      // once), which a loaded machine can cause: inject them again until every replica applied
      // them, as a client would resubmit. The batch fetcher de-duplicates by request number.
      long end = System.nanoTime() + Duration.ofSeconds(120).toNanos();
      while (apps.stream().anyMatch(a -> a.applied().size() < reqs.size())) {
        assertThat(System.nanoTime() - end).as("time left to apply every request").isNegative();
        for (TrantorSystem s : systems) {
          assertThat(s.failure()).as("failure of %s", s).isEmpty();
          s.node()
              .injectEvents(
                  io.github.mirframework.event.EventList.of(
                      io.github.mirframework.client.ClientEvents.newRequests(
                          io.github.mirframework.mempool.SimpleMempool.DEFAULT_ID, reqs)));
        }
        long next = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (System.nanoTime() - next < 0
            && apps.stream().anyMatch(a -> a.applied().size() < reqs.size())) {
          Thread.sleep(20);
        }
      }
      for (App a : apps) {
        assertThat(a.applied()).hasSize(reqs.size()).isEqualTo(apps.get(0).applied());
      }
    } finally {
      systems.forEach(TrantorSystem::close);
    }
    assertThat(dir.resolve("rec-0")).isNotEmptyDirectory();
  }

  @Test
  void builderValidates() throws Exception {
    Membership m = Membership.of(Map.of(NodeId.of(0), NodeAddress.loopback(1)));
    AppLogic app = AppLogic.fromStatic(new App(), m);
    Trantor.Params params = Trantor.Params.defaults(m);
    assertThatThrownBy(() -> TrantorSystem.builder(NodeId.of(0), app, params).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("no crypto");
    assertThatThrownBy(
            () ->
                TrantorSystem.builder(NodeId.of(0), app, params)
                    .crypto(PseudoCrypto.create(List.of(NodeId.of(0)), NodeId.of(0)))
                    .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("no transport");
    // A system that was never started stops cleanly.
    TrantorSystem s =
        TrantorSystem.builder(NodeId.of(0), app, params)
            .crypto(PseudoCrypto.create(List.of(NodeId.of(0)), NodeId.of(0)))
            .transport(new InProcessNetwork(List.of(NodeId.of(0))).transport(NodeId.of(0)))
            .build();
    s.close();
    s.close();
  }
}
