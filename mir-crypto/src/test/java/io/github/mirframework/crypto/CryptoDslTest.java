package io.github.mirframework.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.github.mirframework.crypto.pb.NodeSigsVerified;
import io.github.mirframework.crypto.pb.SignRequest;
import io.github.mirframework.dsl.DslModule;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.pb.TestingString;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CryptoDslTest {
  private static final ModuleId SELF = ModuleId.of("proto");
  private static final ModuleId CRYPTO = CryptoModule.DEFAULT_ID;
  private static final List<NodeId> NODES = NodeId.range(4);
  private static final List<ByteString> DATA =
      List.of(ByteString.copyFromUtf8("a"), ByteString.copyFromUtf8("b"));

  private record Labelled(String label) {}

  private record Other(int n) {}

  private final EcdsaCrypto node1 = PseudoCrypto.create(NODES, NodeId.of("1"));
  private final CryptoModule crypto = new CryptoModule(node1);
  private final DslModule m = new DslModule(SELF);
  private final List<String> seen = new ArrayList<>();

  /**
   * Applies {@code trigger}, runs the requests through the crypto module and applies the results.
   */
  private EventList roundTrip(Event trigger) throws Exception {
    EventList requests = m.applyEvents(EventList.of(trigger));
    EventList results = crypto.applyEvents(requests);
    return m.applyEvents(results);
  }

  private static Event trigger() {
    return Event.of(SELF, TestingString.getDefaultInstance());
  }

  @Test
  void signResultReachesTheHandlerOfTheContextClassWithTheContext() throws Exception {
    m.upon(
        TestingString.class,
        s -> {
          CryptoDsl.signRequest(m, CRYPTO, DATA, new Labelled("x"));
          CryptoDsl.signRequest(m, CRYPTO, DATA, new Other(7));
        });
    CryptoDsl.uponSignResult(
        m,
        Labelled.class,
        (sig, ctx) -> seen.add(ctx.label() + ":" + sig.equals(node1.sign(DATA))));
    CryptoDsl.uponSignResult(m, Other.class, (sig, ctx) -> seen.add("other:" + ctx.n()));

    EventList requests = m.applyEvents(EventList.of(trigger()));
    assertThat(requests.size()).isEqualTo(2);
    SignRequest r = requests.get(0).payload(SignRequest.class);
    assertThat(requests.get(0).destination()).isEqualTo(CRYPTO);
    assertThat(r.getDataList()).isEqualTo(DATA);
    assertThat(r.getOrigin().getModule()).isEqualTo(SELF.value());
    assertThat(m.storedContexts()).isEqualTo(2);

    m.applyEvents(crypto.applyEvents(requests));
    assertThat(seen).containsExactly("x:true", "other:7");
    assertThat(m.storedContexts()).isZero();
  }

  @Test
  void oneSignatureCheckReportsValidAndInvalid() throws Exception {
    ByteString good = node1.sign(DATA);
    m.upon(
        TestingString.class,
        s -> {
          CryptoDsl.verifyOneNodeSig(m, CRYPTO, DATA, good, NodeId.of("1"), new Labelled("good"));
          CryptoDsl.verifyOneNodeSig(m, CRYPTO, DATA, good, NodeId.of("2"), new Labelled("bad"));
        });
    CryptoDsl.uponOneNodeSigVerified(
        m, Labelled.class, (result, ctx) -> seen.add(ctx.label() + ":" + result.valid()));
    roundTrip(trigger());
    assertThat(seen).containsExactly("good:true", "bad:false");
  }

  @Test
  void batchCheckReportsEachItemAndAllOk() throws Exception {
    ByteString good = node1.sign(DATA);
    m.upon(
        TestingString.class,
        s ->
            CryptoDsl.verifyNodeSigs(
                m,
                CRYPTO,
                List.of(
                    CryptoEvents.sigVerItem(DATA, good, NodeId.of("1")),
                    CryptoEvents.sigVerItem(DATA, good, NodeId.of("3"))),
                new Other(1)));
    CryptoDsl.uponNodeSigsVerified(
        m,
        Other.class,
        (results, allOk, ctx) ->
            seen.add(results.get(0).valid() + "," + results.get(1).valid() + "," + allOk));
    // A handler for another context class sees nothing.
    CryptoDsl.uponNodeSigsVerified(m, Labelled.class, (results, allOk, ctx) -> seen.add("wrong"));
    roundTrip(trigger());
    assertThat(seen).containsExactly("true,false,false");
  }

  @Test
  void oneSignatureHandlerRejectsAResultWithSeveralEntries() {
    CryptoDsl.uponOneNodeSigVerified(m, Labelled.class, (result, ctx) -> seen.add("called"));
    long id = m.storeContext(new Labelled("x"));
    Event twoResults =
        CryptoEvents.nodeSigsVerified(
            m.originOf(id),
            List.of("1", "2"),
            List.of(VerificationResult.ok(), VerificationResult.ok()));
    assertThatThrownBy(() -> m.applyEvents(EventList.of(twoResults)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("one signature check");
    assertThat(seen).isEmpty();
  }

  @Test
  void resultsForOtherModulesAreIgnored() throws Exception {
    CryptoDsl.uponNodeSigsVerified(m, Labelled.class, (results, allOk, ctx) -> seen.add("x"));
    Event foreign =
        Event.of(
            SELF,
            NodeSigsVerified.newBuilder()
                .setOrigin(CryptoEvents.dslOrigin(ModuleId.of("elsewhere"), 0))
                .setAllOk(true)
                .build());
    assertThat(m.applyEvents(EventList.of(foreign)).isEmpty()).isTrue();
    assertThat(seen).isEmpty();
  }
}
