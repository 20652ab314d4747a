package io.github.mirframework.crypto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.github.mirframework.types.NodeId;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PseudoCryptoTest {
  private static final List<NodeId> NODES = NodeId.range(4);
  private static final List<ByteString> DATA = List.of(ByteString.copyFromUtf8("checkpoint"));

  @Test
  void everyNodeDerivesTheSameKeysFromTheSameSeed() {
    // Two "nodes" computing independently.
    Map<NodeId, EncodedKeyPair> atNode0 = InsecureKeys.keyPairs(NODES, PseudoCrypto.DEFAULT_SEED);
    Map<NodeId, EncodedKeyPair> atNode3 = InsecureKeys.keyPairs(NODES, PseudoCrypto.DEFAULT_SEED);
    assertEquals(atNode0, atNode3);
    assertEquals(NODES, List.copyOf(atNode0.keySet()));
  }

  @Test
  void anotherSeedGivesOtherKeys() {
    Map<NodeId, EncodedKeyPair> a = InsecureKeys.keyPairs(NODES, 12345);
    Map<NodeId, EncodedKeyPair> b = InsecureKeys.keyPairs(NODES, 12346);
    for (NodeId n : NODES) {
      assertNotEquals(a.get(n), b.get(n));
    }
  }

  @Test
  void nodesGetDistinctKeysThatDoNotDependOnTheMembership() {
    Map<NodeId, EncodedKeyPair> keys = InsecureKeys.keyPairs(NODES, 7);
    assertEquals(NODES.size(), new HashSet<>(keys.values()).size());
    assertEquals(keys.get(NodeId.of("2")), InsecureKeys.keyPair(NodeId.of("2"), 7));
    assertEquals(
        keys.get(NodeId.of("2")),
        InsecureKeys.keyPairs(List.of(NodeId.of("9"), NodeId.of("2")), 7).get(NodeId.of("2")));
  }

  @Test
  void everyNodeVerifiesEveryNodesSignature() {
    for (NodeId signer : NODES) {
      ByteString sig = PseudoCrypto.create(NODES, signer).sign(DATA);
      for (NodeId verifier : NODES) {
        EcdsaCrypto c = PseudoCrypto.create(NODES, verifier);
        assertTrue(c.verify(DATA, sig, signer).valid(), verifier + " checks " + signer);
        NodeId other = NodeId.of((Integer.parseInt(signer.value()) + 1) % NODES.size());
        assertFalse(c.verify(DATA, sig, other).valid());
      }
    }
  }

  @Test
  void signaturesFromAnotherSeedDoNotVerify() {
    ByteString sig = PseudoCrypto.create(NODES, NodeId.of("0"), 1).sign(DATA);
    assertFalse(
        PseudoCrypto.create(NODES, NodeId.of("1"), 2).verify(DATA, sig, NodeId.of("0")).valid());
  }

  @Test
  void ownIdMustBeAMember() {
    var e =
        assertThrows(
            IllegalArgumentException.class, () -> PseudoCrypto.create(NODES, NodeId.of("9")));
    assertTrue(e.getMessage().contains("9"), e.getMessage());
  }

  @Test
  void dummyCryptoAcceptsOnlyItsConstantSignature() {
    DummyCrypto dummy = new DummyCrypto(ByteString.copyFromUtf8("sig"));
    assertEquals(ByteString.copyFromUtf8("sig"), dummy.sign(DATA));
    assertTrue(dummy.verify(List.of(), ByteString.copyFromUtf8("sig"), NodeId.of("x")).valid());
    VerificationResult bad = dummy.verify(DATA, ByteString.copyFromUtf8("other"), NodeId.of("0"));
    assertEquals(VerificationResult.invalid("dummy signature mismatch"), bad);
  }

  @Test
  void verificationResultsAreConsistent() {
    assertThrows(IllegalArgumentException.class, () -> VerificationResult.invalid(""));
    assertThrows(IllegalArgumentException.class, () -> new VerificationResult(true, "error"));
    assertEquals("valid", VerificationResult.ok().toString());
  }
}
