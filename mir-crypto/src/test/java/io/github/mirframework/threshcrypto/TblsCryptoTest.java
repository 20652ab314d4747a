package io.github.mirframework.threshcrypto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.github.mirframework.crypto.VerificationResult;
import io.github.mirframework.types.NodeId;
import java.security.InvalidKeyException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Ports Mir's TBLS tests ({@code tbls_test.go}) and adds checks for bad input. */
class TblsCryptoTest {
  private static final List<ByteString> DATA =
      List.of(
          ByteString.copyFrom(new byte[] {1, 2, 3, 4, 5}), ByteString.copyFrom(new byte[] {4, 2}));

  private static List<TblsCrypto> keygen(int t, int n) {
    return TblsCrypto.keygen(t, NodeId.range(n), TblsCrypto.DEFAULT_PSEUDO_SEED);
  }

  private static List<ByteString> shares(List<TblsCrypto> keys, int count) {
    List<ByteString> shares = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      shares.add(keys.get(i).signShare(DATA));
    }
    return shares;
  }

  @Test
  void tblsHappySmoke() {
    List<TblsCrypto> keys = keygen(3, 5);
    List<ByteString> shares = shares(keys, 3);

    // Everyone can verify everyone's share.
    for (TblsCrypto k : keys) {
      for (int i = 0; i < shares.size(); i++) {
        assertEquals(VerificationResult.ok(), k.verifyShare(DATA, shares.get(i), NodeId.of(i)));
      }
    }
    for (TblsCrypto recoverer : keys) {
      // Everyone can recover the full signature ...
      RecoveryResult full = recoverer.recover(DATA, shares);
      assertTrue(full.ok(), full.error());
      assertEquals(TblsCrypto.SIGNATURE_LENGTH, full.signature().size());
      // ... and everyone can verify it.
      for (TblsCrypto verifier : keys) {
        assertEquals(VerificationResult.ok(), verifier.verifyFull(DATA, full.signature()));
      }
    }
  }

  @Test
  void tblsSadSmoke() {
    List<TblsCrypto> keys = keygen(3, 5);
    List<ByteString> shares = shares(keys, 4);

    // The same share three times is not enough.
    RecoveryResult same =
        keys.get(0).recover(DATA, List.of(shares.get(0), shares.get(0), shares.get(0)));
    assertFalse(same.ok());
    assertTrue(
        same.error().contains("need signature shares of 3 distinct members, got 1"), same.error());
    assertTrue(same.error().contains("2 duplicates"), same.error());

    // T-1 shares are not enough.
    RecoveryResult tooFew = keys.get(0).recover(DATA, shares.subList(0, 2));
    assertFalse(tooFew.ok());
    assertTrue(tooFew.error().contains("got 2"), tooFew.error());

    // A share with a flipped bit fails verification everywhere.
    byte[] mangled = shares.get(1).toByteArray();
    mangled[0] ^= 1;
    for (TblsCrypto k : keys) {
      assertFalse(k.verifyShare(DATA, ByteString.copyFrom(mangled), NodeId.of("1")).valid());
    }
    // So does a flipped bit in the signature point.
    byte[] mangledPoint = shares.get(1).toByteArray();
    mangledPoint[40] ^= 1;
    for (TblsCrypto k : keys) {
      VerificationResult r = k.verifyShare(DATA, ByteString.copyFrom(mangledPoint), NodeId.of("1"));
      assertFalse(r.valid());
      assertFalse(r.error().isEmpty());
    }
  }

  @Test
  void tblsMarshalling() throws Exception {
    List<TblsCrypto> keys = keygen(3, 3);
    List<TblsCrypto> keys2 = new ArrayList<>();
    for (TblsCrypto k : keys) {
      keys2.add(TblsCrypto.fromBytes(k.toBytes()));
    }
    List<ByteString> shares = shares(keys, 3);
    List<ByteString> shares2 = shares(keys2, 3);
    // BLS signing is deterministic, so the round-tripped keys sign identically.
    assertEquals(shares, shares2);
    for (int i = 0; i < keys.size(); i++) {
      assertTrue(keys.get(i).recover(DATA, shares2).ok());
      assertTrue(keys2.get(i).recover(DATA, shares).ok());
      assertEquals(keys.get(i).toBytes(), keys2.get(i).toBytes());
      assertEquals(keys.get(i).members(), keys2.get(i).members());
      assertEquals(keys.get(i).ownId(), keys2.get(i).ownId());
    }
  }

  @Test
  void anySubsetOfThresholdSizeRecoversTheSameSignature() {
    List<TblsCrypto> keys = keygen(3, 5);
    List<ByteString> all = shares(keys, 5);
    ByteString expected = keys.get(0).recover(DATA, all.subList(0, 3)).signature();
    int[][] subsets = {{4, 2, 0}, {1, 3, 4}, {2, 3, 1}};
    for (int[] subset : subsets) {
      List<ByteString> chosen = new ArrayList<>();
      for (int i : subset) {
        chosen.add(all.get(i));
      }
      assertEquals(expected, keys.get(4).recover(DATA, chosen).signature());
    }
    // Extra shares beyond the threshold are fine.
    assertEquals(expected, keys.get(1).recover(DATA, all).signature());
  }

  @Test
  void shareIsRejectedForAnotherNodeAndForNonMembers() {
    List<TblsCrypto> keys = keygen(2, 3);
    ByteString share0 = keys.get(0).signShare(DATA);
    VerificationResult other = keys.get(1).verifyShare(DATA, share0, NodeId.of("1"));
    assertFalse(other.valid());
    assertTrue(other.error().contains("belongs to member #0"), other.error());
    VerificationResult stranger = keys.get(1).verifyShare(DATA, share0, NodeId.of("7"));
    assertTrue(stranger.error().contains("not a member"), stranger.error());
    VerificationResult wrongData = keys.get(1).verifyShare(List.of(), share0, NodeId.of("0"));
    assertTrue(wrongData.error().contains("does not verify"), wrongData.error());
  }

  @Test
  void malformedSharesAndSignaturesGiveResultsNotExceptions() {
    List<TblsCrypto> keys = keygen(2, 3);
    TblsCrypto k = keys.get(0);
    List<ByteString> garbage =
        List.of(
            ByteString.EMPTY,
            ByteString.copyFromUtf8("garbage"),
            ByteString.copyFrom(new byte[TblsCrypto.SHARE_LENGTH]),
            ByteString.copyFrom(new byte[TblsCrypto.SHARE_LENGTH + 1]),
            infinityShare(0));
    for (ByteString g : garbage) {
      assertFalse(k.verifyShare(DATA, g, NodeId.of("0")).valid());
      assertFalse(k.verifyFull(DATA, g).valid());
      assertFalse(k.recover(DATA, List.of(g, g)).ok());
    }
    assertFalse(k.verifyFull(DATA, infinityShare(0).substring(2)).valid());
    // A share with an out-of-range member index.
    byte[] badIndex = keys.get(1).signShare(DATA).toByteArray();
    badIndex[0] = (byte) 0xff;
    RecoveryResult r =
        k.recover(DATA, List.of(ByteString.copyFrom(badIndex), keys.get(0).signShare(DATA)));
    assertFalse(r.ok());
    assertTrue(r.error().contains("member index"), r.error());
  }

  @Test
  void recoveryWithAWrongShareFailsInsteadOfReturningABadSignature() {
    List<TblsCrypto> keys = keygen(2, 3);
    ByteString good = keys.get(0).signShare(DATA);
    ByteString otherData = keys.get(1).signShare(List.of(ByteString.copyFromUtf8("other")));
    RecoveryResult r = keys.get(2).recover(DATA, List.of(good, otherData));
    assertFalse(r.ok());
    assertTrue(r.error().contains("does not verify"), r.error());
    assertTrue(r.signature().isEmpty());
  }

  @Test
  void fullSignatureIsCheckedAgainstTheData() {
    List<TblsCrypto> keys = keygen(2, 3);
    ByteString full = keys.get(0).recover(DATA, shares(keys, 2)).signature();
    assertTrue(keys.get(2).verifyFull(DATA, full).valid());
    assertFalse(keys.get(2).verifyFull(List.of(ByteString.copyFromUtf8("x")), full).valid());
    // Another group's keys do not accept it.
    List<TblsCrypto> otherGroup = TblsCrypto.keygen(2, NodeId.range(3), 99);
    assertFalse(otherGroup.get(0).verifyFull(DATA, full).valid());
  }

  @Test
  void seededKeygenIsDeterministicAndSeedDependent() {
    List<NodeId> members = NodeId.range(4);
    TblsCrypto a = TblsCrypto.pseudo(members, 3, NodeId.of("2"), 12345);
    TblsCrypto b = TblsCrypto.keygen(3, members, 12345).get(2);
    assertEquals(a.toBytes(), b.toBytes());
    assertEquals(NodeId.of("2"), a.ownId());
    assertNotEquals(
        a.groupPublicKey(), TblsCrypto.pseudo(members, 3, NodeId.of("2"), 12346).groupPublicKey());
    assertThrows(
        IllegalArgumentException.class, () -> TblsCrypto.pseudo(members, 3, NodeId.of("9"), 1));
  }

  @Test
  void keygenWithSecureRandomWorksAndValidatesTheGroup() {
    List<TblsCrypto> keys = TblsCrypto.keygen(2, NodeId.range(3), new SecureRandom());
    assertTrue(keys.get(1).recover(DATA, shares(keys, 2)).ok());
    assertThrows(IllegalArgumentException.class, () -> keygen(0, 3));
    assertThrows(IllegalArgumentException.class, () -> keygen(4, 3));
    assertThrows(
        IllegalArgumentException.class,
        () -> TblsCrypto.keygen(1, List.of(NodeId.of("a"), NodeId.of("a")), 1));
  }

  @Test
  void corruptKeyDataIsRejectedWithAClearError() {
    ByteString good = keygen(2, 3).get(1).toBytes();
    assertKeyError(good.substring(0, good.size() - 1), "truncated");
    assertKeyError(good.concat(ByteString.copyFrom(new byte[1])), "trailing");
    assertKeyError(ByteString.copyFromUtf8("nonsense"), "format tag");
    byte[] share = good.toByteArray();
    share[share.length - 1] ^= 1;
    assertKeyError(ByteString.copyFrom(share), "does not match the public commitments");
    byte[] threshold = good.toByteArray();
    threshold[8] = (byte) 0x80; // negative int64
    assertKeyError(ByteString.copyFrom(threshold), "threshold");
    byte[] commitment = good.toByteArray();
    int firstCommitment = good.size() - 32 - 8 - 2 * 48;
    commitment[firstCommitment + 5] ^= 1;
    assertKeyError(ByteString.copyFrom(commitment), "commitment 0");
  }

  private static void assertKeyError(ByteString bytes, String expected) {
    InvalidKeyException e =
        assertThrows(InvalidKeyException.class, () -> TblsCrypto.fromBytes(bytes));
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }

  private static ByteString infinityShare(int index) {
    byte[] b = new byte[TblsCrypto.SHARE_LENGTH];
    b[1] = (byte) index;
    b[2] = (byte) 0xc0; // compressed point at infinity
    return ByteString.copyFrom(b);
  }
}
