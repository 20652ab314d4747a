package io.github.mirframework.crypto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.github.mirframework.types.NodeId;
import java.math.BigInteger;
import java.security.AlgorithmParameters;
import java.security.KeyFactory;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPrivateKeySpec;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.DERSequence;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class EcdsaCryptoTest {
  private static final NodeId N0 = NodeId.of("0");
  private static final NodeId N1 = NodeId.of("1");
  private static final List<ByteString> DATA = chunks("hello", " ", "world");

  private static EncodedKeyPair keys0;
  private static EncodedKeyPair keys1;

  @BeforeAll
  static void generateKeys() {
    SecureRandom random = new SecureRandom();
    keys0 = EcdsaCrypto.generateKeyPair(random);
    keys1 = EcdsaCrypto.generateKeyPair(random);
  }

  static List<ByteString> chunks(String... parts) {
    return java.util.Arrays.stream(parts).map(ByteString::copyFromUtf8).toList();
  }

  /** Node 0's crypto, knowing the public keys of nodes 0 and 1. */
  static EcdsaCrypto node0() throws Exception {
    EcdsaCrypto c = EcdsaCrypto.fromPrivateKey(keys0.privateKey());
    c.registerNodeKey(N0, keys0.publicKey());
    c.registerNodeKey(N1, keys1.publicKey());
    return c;
  }

  @Test
  void signatureOfANodeVerifiesForThatNode() throws Exception {
    EcdsaCrypto signer = EcdsaCrypto.fromPrivateKey(keys1.privateKey());
    ByteString sig = signer.sign(DATA);
    assertEquals(VerificationResult.ok(), node0().verify(DATA, sig, N1));
    assertEquals(keys1.publicKey(), signer.publicKey());
  }

  @Test
  void signingIsDeterministic() throws Exception {
    EcdsaCrypto a = EcdsaCrypto.fromPrivateKey(keys0.privateKey());
    EcdsaCrypto b = EcdsaCrypto.fromPrivateKey(keys0.privateKey());
    assertEquals(a.sign(DATA), a.sign(DATA));
    assertEquals(a.sign(DATA), b.sign(DATA));
    assertNotEquals(a.sign(DATA), a.sign(chunks("other")));
  }

  @Test
  void signsTheRfc6979TestVectorForP256WithSha256() throws Exception {
    // RFC 6979, A.2.5: P-256, SHA-256, message "sample".
    BigInteger x =
        new BigInteger("C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721", 16);
    BigInteger ux =
        new BigInteger("60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6", 16);
    BigInteger uy =
        new BigInteger("7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299", 16);
    BigInteger r =
        new BigInteger("EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716", 16);
    BigInteger s =
        new BigInteger("F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8", 16);
    ECParameterSpec p256 = p256Spec();
    KeyFactory kf = KeyFactory.getInstance("EC");
    ByteString pkcs8 =
        ByteString.copyFrom(kf.generatePrivate(new ECPrivateKeySpec(x, p256)).getEncoded());
    ByteString spki =
        ByteString.copyFrom(
            kf.generatePublic(new ECPublicKeySpec(new ECPoint(ux, uy), p256)).getEncoded());

    EcdsaCrypto crypto = EcdsaCrypto.fromPrivateKey(pkcs8);
    assertEquals(spki, crypto.publicKey());
    // The chunks are concatenated before hashing, so this is the message "sample".
    assertEquals(der(r, s), crypto.sign(chunks("sam", "ple")));
  }

  @Test
  void signatureInteroperatesWithTheJdkSha256WithEcdsa() throws Exception {
    KeyFactory kf = KeyFactory.getInstance("EC");
    byte[] message = "hello world".getBytes(java.nio.charset.StandardCharsets.UTF_8);

    Signature jdkVerify = Signature.getInstance("SHA256withECDSA");
    jdkVerify.initVerify(
        kf.generatePublic(new X509EncodedKeySpec(keys0.publicKey().toByteArray())));
    jdkVerify.update(message);
    assertTrue(
        jdkVerify.verify(EcdsaCrypto.fromPrivateKey(keys0.privateKey()).sign(DATA).toByteArray()));

    Signature jdkSign = Signature.getInstance("SHA256withECDSA");
    jdkSign.initSign(kf.generatePrivate(new PKCS8EncodedKeySpec(keys1.privateKey().toByteArray())));
    jdkSign.update(message);
    ByteString jdkSig = ByteString.copyFrom(jdkSign.sign());
    assertEquals(VerificationResult.ok(), node0().verify(DATA, jdkSig, N1));
  }

  @Test
  void verificationFailsForAnotherNode() throws Exception {
    ByteString sig = EcdsaCrypto.fromPrivateKey(keys1.privateKey()).sign(DATA);
    VerificationResult r = node0().verify(DATA, sig, N0);
    assertFalse(r.valid());
    assertTrue(r.error().contains("verification failed"), r.error());
  }

  @Test
  void verificationFailsForOtherData() throws Exception {
    ByteString sig = EcdsaCrypto.fromPrivateKey(keys1.privateKey()).sign(DATA);
    assertFalse(node0().verify(chunks("hello", " ", "World"), sig, N1).valid());
    assertFalse(node0().verify(List.of(), sig, N1).valid());
  }

  @Test
  void chunkBoundariesDoNotMatter() throws Exception {
    ByteString sig = EcdsaCrypto.fromPrivateKey(keys1.privateKey()).sign(DATA);
    assertTrue(node0().verify(chunks("hel", "lo wor", "", "ld"), sig, N1).valid());
  }

  @Test
  void verificationFailsForUnknownOrDeletedNode() throws Exception {
    EcdsaCrypto c = node0();
    ByteString sig = EcdsaCrypto.fromPrivateKey(keys1.privateKey()).sign(DATA);
    VerificationResult unknown = c.verify(DATA, sig, NodeId.of("7"));
    assertFalse(unknown.valid());
    assertEquals("no public key registered for node 7", unknown.error());

    assertTrue(c.hasNodeKey(N1));
    c.deleteNodeKey(N1);
    assertFalse(c.hasNodeKey(N1));
    assertFalse(c.verify(DATA, sig, N1).valid());
    c.registerNodeKey(N1, keys1.publicKey());
    assertTrue(c.verify(DATA, sig, N1).valid());
  }

  @Test
  void garbageSignaturesAreRejectedWithAReason() throws Exception {
    EcdsaCrypto c = node0();
    ByteString good = EcdsaCrypto.fromPrivateKey(keys1.privateKey()).sign(DATA);
    BigInteger n = P256Keys.order();
    List<ByteString> garbage =
        List.of(
            ByteString.EMPTY,
            ByteString.copyFromUtf8("not a signature"),
            good.substring(0, good.size() - 1),
            good.concat(ByteString.copyFrom(new byte[] {0})),
            ByteString.copyFrom(new byte[100_000]),
            der(BigInteger.ZERO, BigInteger.ONE),
            der(BigInteger.ONE, BigInteger.ZERO),
            der(n, BigInteger.ONE),
            der(BigInteger.ONE.negate(), BigInteger.ONE),
            flipBit(good, good.size() - 1));
    for (ByteString sig : garbage) {
      VerificationResult r = c.verify(DATA, sig, N1);
      assertFalse(r.valid(), "accepted " + sig);
      assertFalse(r.error().isEmpty());
    }
    Random random = new Random(42);
    for (int i = 0; i < 200; i++) {
      byte[] b = new byte[random.nextInt(80)];
      random.nextBytes(b);
      assertFalse(c.verify(DATA, ByteString.copyFrom(b), N1).valid());
    }
  }

  @Test
  void signatureWithNegatedSIsAcceptedAsInGo() throws Exception {
    ByteString sig = EcdsaCrypto.fromPrivateKey(keys1.privateKey()).sign(DATA);
    BigInteger[] rs =
        org.bouncycastle.crypto.signers.StandardDSAEncoding.INSTANCE.decode(
            P256Keys.order(), sig.toByteArray());
    ByteString other = der(rs[0], P256Keys.order().subtract(rs[1]));
    assertTrue(node0().verify(DATA, other, N1).valid());
  }

  @Test
  void rejectsKeysThatAreNotP256() throws Exception {
    KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
    ec.initialize(new ECGenParameterSpec("secp384r1"));
    var p384 = ec.generateKeyPair();
    KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
    rsa.initialize(2048);
    var rsaKeys = rsa.generateKeyPair();

    var e1 =
        assertThrows(
            java.security.InvalidKeyException.class,
            () -> EcdsaCrypto.fromPrivateKey(ByteString.copyFrom(p384.getPrivate().getEncoded())));
    assertTrue(e1.getMessage().contains("only P-256"), e1.getMessage());
    var e2 =
        assertThrows(
            java.security.InvalidKeyException.class,
            () ->
                EcdsaCrypto.fromPrivateKey(ByteString.copyFrom(rsaKeys.getPrivate().getEncoded())));
    assertTrue(e2.getMessage().contains("RSA"), e2.getMessage());
    var e3 =
        assertThrows(
            java.security.InvalidKeyException.class,
            () -> node0().registerNodeKey(N1, ByteString.copyFrom(p384.getPublic().getEncoded())));
    assertTrue(e3.getMessage().contains("node 1"), e3.getMessage());
    assertThrows(
        java.security.InvalidKeyException.class,
        () -> node0().registerNodeKey(N1, ByteString.copyFromUtf8("garbage")));
    assertThrows(
        java.security.InvalidKeyException.class,
        () -> EcdsaCrypto.fromPrivateKey(ByteString.copyFromUtf8("garbage")));
  }

  @Test
  void registeringABadKeyKeepsTheOldOne() throws Exception {
    EcdsaCrypto c = node0();
    assertThrows(
        java.security.InvalidKeyException.class,
        () -> c.registerNodeKey(N1, keys1.publicKey().substring(1)));
    ByteString sig = EcdsaCrypto.fromPrivateKey(keys1.privateKey()).sign(DATA);
    assertTrue(c.verify(DATA, sig, N1).valid());
  }

  @Test
  void acceptsJdkEncodedKeysAndTheirPointIsChecked() throws Exception {
    KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
    ec.initialize(new ECGenParameterSpec("secp256r1"));
    var jdk = ec.generateKeyPair();
    EcdsaCrypto c = EcdsaCrypto.fromPrivateKey(ByteString.copyFrom(jdk.getPrivate().getEncoded()));
    c.registerNodeKey(N0, ByteString.copyFrom(jdk.getPublic().getEncoded()));
    assertTrue(c.verify(DATA, c.sign(DATA), N0).valid());

    // A point that is not on the curve: move y by one.
    ECPublicKey pub = (ECPublicKey) jdk.getPublic();
    byte[] spki = pub.getEncoded();
    spki[spki.length - 1] ^= 1;
    var e =
        assertThrows(
            java.security.InvalidKeyException.class,
            () -> EcdsaCrypto.checkPublicKey(ByteString.copyFrom(spki)));
    assertFalse(e.getMessage().isEmpty());
  }

  @Test
  void keyPairToStringHidesThePrivateKey() {
    String s = keys0.toString();
    assertFalse(s.contains(HexFormat.of().formatHex(keys0.privateKey().toByteArray())));
    assertTrue(s.contains("hidden"), s);
  }

  static ByteString der(BigInteger r, BigInteger s) {
    ASN1EncodableVector v = new ASN1EncodableVector();
    v.add(new ASN1Integer(r));
    v.add(new ASN1Integer(s));
    try {
      return ByteString.copyFrom(new DERSequence(v).getEncoded("DER"));
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }

  static ByteString flipBit(ByteString b, int index) {
    byte[] copy = b.toByteArray();
    copy[index] ^= 1;
    return ByteString.copyFrom(copy);
  }

  static ECParameterSpec p256Spec() throws Exception {
    AlgorithmParameters params = AlgorithmParameters.getInstance("EC");
    params.init(new ECGenParameterSpec("secp256r1"));
    return params.getParameterSpec(ECParameterSpec.class);
  }
}
