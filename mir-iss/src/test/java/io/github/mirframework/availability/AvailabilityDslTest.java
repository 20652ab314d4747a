package io.github.mirframework.availability;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.github.mirframework.availability.batchdb.FakeBatchDb;
import io.github.mirframework.availability.msc.MscMessages;
import io.github.mirframework.availability.msc.MultisigCollector;
import io.github.mirframework.availability.pb.Cert;
import io.github.mirframework.client.ClientEvents;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.crypto.CryptoModule;
import io.github.mirframework.crypto.EcdsaCrypto;
import io.github.mirframework.crypto.HasherModule;
import io.github.mirframework.crypto.PseudoCrypto;
import io.github.mirframework.dsl.DslModule;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.pb.SendMessage;
import io.github.mirframework.mempool.MempoolDsl;
import io.github.mirframework.mempool.SimpleMempool;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.types.ClientId;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The typed DSL helpers of the availability layer and the mempool, as a consumer module (ISS, the
 * batch fetcher) uses them: a one-node system (n = 1, f = 0) with the real modules, driven on one
 * thread; a message the node sends to itself is delivered back to it.
 */
class AvailabilityDslTest {
  static final ModuleId CONSUMER = ModuleId.of("consumer");
  static final ModuleId AVAIL = MultisigCollector.DEFAULT_ID;
  static final ModuleId MEMPOOL = SimpleMempool.DEFAULT_ID;
  static final NodeId SELF = NodeId.of("0");
  static final EcdsaCrypto KEY = PseudoCrypto.create(List.of(SELF), SELF);

  record CertContext(String name) {}

  record VerifyContext(String name) {}

  record FetchContext(String name) {}

  record BatchContext(String name) {}

  record TxIdsContext(String name) {}

  record BatchIdContext(String name) {}

  /** All modules of the node, the consumer included; events are applied one at a time. */
  static final class Node {
    final DslModule consumer = new DslModule(CONSUMER);
    final Map<ModuleId, PassiveModule> modules;
    final List<String> log = new ArrayList<>();

    Node() {
      modules =
          Map.of(
              CONSUMER,
              consumer,
              AVAIL,
              new MultisigCollector(
                  MultisigCollector.Config.defaults(),
                  new MultisigCollector.Params(ByteString.copyFromUtf8("uid"), List.of(SELF), 0),
                  SELF),
              MEMPOOL,
              new SimpleMempool(SimpleMempool.Config.defaults(), SimpleMempool.Params.defaults()),
              HasherModule.DEFAULT_ID,
              new HasherModule(),
              FakeBatchDb.DEFAULT_ID,
              new FakeBatchDb(),
              CryptoModule.DEFAULT_ID,
              new CryptoModule(KEY));
    }

    void run(Event... in) throws Exception {
      Deque<Event> queue = new ArrayDeque<>(List.of(in));
      queue.addAll(consumer.applyEvents(EventList.empty()).toList()); // the consumer's requests
      while (!queue.isEmpty()) {
        Event e = queue.removeFirst();
        if (e.payload() instanceof SendMessage s) {
          assertThat(s.getDestinationsList()).containsExactly(SELF.value());
          e = Events.messageReceived(SELF, s.getMsg());
        }
        if (e.destination().equals(MultisigCollector.DEFAULT_TIMER)) {
          continue; // retransmission ticks: nothing is lost here
        }
        PassiveModule m = modules.get(e.destination().top());
        assertThat(m).as("module for " + e).isNotNull();
        m.applyEvents(EventList.of(e)).forEach(queue::addLast);
      }
    }
  }

  static List<Request> txs() {
    return List.of(
        ClientEvents.request(ClientId.of("c"), 0, ByteString.copyFromUtf8("x")),
        ClientEvents.request(ClientId.of("c"), 1, ByteString.copyFromUtf8("y")));
  }

  @Test
  void aConsumerRequestsVerifiesAndRetrievesACertificateWithTypedContexts() throws Exception {
    Node node = new Node();
    List<Cert> certs = new ArrayList<>();
    AvailabilityDsl.uponNewCert(
        node.consumer,
        CertContext.class,
        (cert, ctx) -> {
          node.log.add("cert " + ctx.name() + " " + cert.getMsc().getSignersList());
          certs.add(cert);
        });
    AvailabilityDsl.uponCertVerified(
        node.consumer,
        VerifyContext.class,
        (valid, err, ctx) -> node.log.add("verified " + ctx.name() + " " + valid + " " + err));
    AvailabilityDsl.uponProvideTransactions(
        node.consumer,
        FetchContext.class,
        (txs, ctx) -> node.log.add("txs " + ctx.name() + " " + txs.size()));

    node.run(ClientEvents.newRequests(MEMPOOL, txs()));
    AvailabilityDsl.requestCert(node.consumer, AVAIL, new CertContext("a"));
    node.run();
    assertThat(node.log).containsExactly("cert a [0]");

    Cert cert = certs.get(0);
    Cert tampered =
        Cert.newBuilder()
            .setMsc(cert.getMsc().toBuilder().setBatchId(ByteString.copyFromUtf8("another batch")))
            .build();
    AvailabilityDsl.verifyCert(node.consumer, AVAIL, cert, new VerifyContext("good"));
    AvailabilityDsl.verifyCert(node.consumer, AVAIL, tampered, new VerifyContext("bad"));
    AvailabilityDsl.requestTransactions(node.consumer, AVAIL, cert, new FetchContext("f"));
    node.run();
    assertThat(node.log)
        .containsExactly(
            "cert a [0]",
            "verified good true ",
            "verified bad false invalid signatures: 0: signature verification failed for node 0",
            "txs f 2");
    assertThat(node.consumer.storedContexts()).isZero();
    assertThat(MscMessages.sigData(ByteString.copyFromUtf8("uid"), cert.getMsc().getBatchId()))
        .hasSize(3);
  }

  @Test
  void mempoolHelpersDeliverEachResponseToTheHandlerOfItsContextType() throws Exception {
    Node node = new Node();
    MempoolDsl.uponNewBatch(
        node.consumer,
        BatchContext.class,
        (ids, txs, ctx) -> node.log.add("batch " + ctx.name() + " " + txs.size()));
    MempoolDsl.uponTransactionIdsResponse(
        node.consumer,
        TxIdsContext.class,
        (ids, ctx) -> node.log.add("ids " + ctx.name() + " " + ids.size()));
    MempoolDsl.uponBatchIdResponse(
        node.consumer,
        BatchIdContext.class,
        (id, ctx) -> node.log.add("batch id " + ctx.name() + " " + id.size()));
    MempoolDsl.uponTransactionsResponse(
        node.consumer,
        TxIdsContext.class,
        (present, txs, ctx) -> node.log.add("lookup " + ctx.name() + " " + present));

    node.run(ClientEvents.newRequests(MEMPOOL, txs()));
    MempoolDsl.requestTransactionIds(node.consumer, MEMPOOL, txs(), new TxIdsContext("i"));
    MempoolDsl.requestBatchId(node.consumer, MEMPOOL, List.of(), new BatchIdContext("e"));
    MempoolDsl.requestBatch(node.consumer, MEMPOOL, new BatchContext("b"));
    MempoolDsl.requestTransactions(
        node.consumer, MEMPOOL, List.of(ByteString.copyFromUtf8("unknown")), new TxIdsContext("l"));
    node.run();
    assertThat(node.log)
        .containsExactlyInAnyOrder("ids i 2", "batch id e 32", "batch b 2", "lookup l [false]");
    assertThat(node.consumer.storedContexts()).isZero();
  }
}
