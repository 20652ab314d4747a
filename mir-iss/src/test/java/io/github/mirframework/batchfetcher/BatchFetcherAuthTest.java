package io.github.mirframework.batchfetcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.github.mirframework.availability.AvailabilityEvents;
import io.github.mirframework.availability.pb.Cert;
import io.github.mirframework.availability.pb.RequestTransactions;
import io.github.mirframework.batchfetcher.pb.NewOrderedBatch;
import io.github.mirframework.client.ClientRegistry;
import io.github.mirframework.client.ClientSigner;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.crypto.EncodedKeyPair;
import io.github.mirframework.crypto.InsecureKeys;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.pb.Origin;
import io.github.mirframework.iss.IssEvents;
import io.github.mirframework.types.ClientId;
import io.github.mirframework.types.NodeId;
import io.github.mirframework.types.SeqNr;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * With a client registry, the batch fetcher delivers only authentic requests of registered clients:
 * a Byzantine leader that orders a forged request cannot occupy the victim's request number, and
 * unknown client IDs never enter the client progress.
 */
class BatchFetcherAuthTest {
  static final ClientId ALICE = ClientId.of("alice");

  static EncodedKeyPair keys(String who) {
    return InsecureKeys.keyPair(NodeId.of("client-" + who), 3);
  }

  private long nextSn;

  private List<Request> deliver(BatchFetcher bf, Request... txs) throws Exception {
    Cert cert =
        AvailabilityEvents.mscCert(
            ByteString.copyFromUtf8("b" + nextSn),
            List.of(NodeId.of("0"), NodeId.of("1")),
            List.of(ByteString.copyFromUtf8("s0"), ByteString.copyFromUtf8("s1")));
    EventList out =
        bf.applyEvents(
            EventList.of(IssEvents.deliverCert(BatchFetcher.DEFAULT_ID, SeqNr.of(nextSn++), cert)));
    Origin origin = out.get(0).payload(RequestTransactions.class).getOrigin();
    EventList batches =
        bf.applyEvents(EventList.of(AvailabilityEvents.provideTransactions(origin, List.of(txs))));
    for (Event e : batches) {
      if (e.payload() instanceof NewOrderedBatch b) {
        return b.getTxsList();
      }
    }
    throw new AssertionError("no batch delivered");
  }

  @Test
  void forgedUnsignedAndUnknownClientsRequestsAreLeftOutWithoutTakingTheirNumbers()
      throws Exception {
    ClientRegistry registry = ClientRegistry.of(Map.of(ALICE, keys("alice").publicKey()));
    BatchFetcher bf = new BatchFetcher(BatchFetcher.Config.defaults(), NodeId.of("0"), registry);
    ClientSigner alice = ClientSigner.of(ALICE, keys("alice"));
    ClientSigner forger = ClientSigner.of(ALICE, keys("mallory"));
    Request forged = forger.sign(0, ByteString.copyFromUtf8("steal"));
    Request unsigned = Request.newBuilder().setClientId("alice").setReqNo(1).build();
    Request stranger = ClientSigner.of(ClientId.of("x"), keys("x")).sign(0, ByteString.EMPTY);

    assertThat(deliver(bf, forged, unsigned, stranger)).isEmpty();
    assertThat(bf.droppedUnauthentic()).isEqualTo(3);
    // Alice's real requests 0 and 1 are still hers.
    Request real0 = alice.sign(0, ByteString.copyFromUtf8("mine"));
    Request real1 = alice.sign(1, ByteString.copyFromUtf8("mine too"));
    assertThat(deliver(bf, real0, real1)).containsExactly(real0, real1);
    assertThat(deliver(bf, real0)).isEmpty(); // a duplicate
    assertThat(bf.droppedDuplicates()).isEqualTo(1);
  }

  @Test
  void withoutARegistryEveryWellFormedRequestIsDelivered() throws Exception {
    BatchFetcher bf = new BatchFetcher(BatchFetcher.Config.defaults(), NodeId.of("0"));
    Request unsigned = Request.newBuilder().setClientId("alice").setReqNo(0).build();
    Request negative = Request.newBuilder().setClientId("alice").setReqNo(-5).build();
    assertThat(deliver(bf, unsigned, negative)).containsExactly(unsigned);
    assertThat(bf.droppedInvalid()).isEqualTo(1);
  }
}
