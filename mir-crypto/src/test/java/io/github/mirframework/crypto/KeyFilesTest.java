package io.github.mirframework.crypto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.github.mirframework.types.NodeId;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x509.TBSCertificate;
import org.bouncycastle.asn1.x509.Time;
import org.bouncycastle.asn1.x509.V3TBSCertificateGenerator;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeyFilesTest {
  private static final EncodedKeyPair KEYS = EcdsaCrypto.generateKeyPair(new SecureRandom());

  @TempDir Path dir;

  @Test
  void privateAndPublicKeysSurviveAWriteReadRoundTrip() throws Exception {
    Path priv = dir.resolve("node0.key");
    Path pub = dir.resolve("node0.pub");
    KeyFiles.writePrivateKey(priv, KEYS.privateKey());
    KeyFiles.writePublicKey(pub, KEYS.publicKey());

    assertTrue(Files.readString(priv).startsWith("-----BEGIN PRIVATE KEY-----\n"));
    assertTrue(Files.readString(pub).startsWith("-----BEGIN PUBLIC KEY-----\n"));
    assertEquals(KEYS.privateKey(), KeyFiles.readPrivateKey(priv));
    assertEquals(KEYS.publicKey(), KeyFiles.readPublicKey(pub));

    EcdsaCrypto c = EcdsaCrypto.fromPrivateKey(KeyFiles.readPrivateKey(priv));
    c.registerNodeKey(NodeId.of("0"), KeyFiles.readPublicKey(pub));
    List<ByteString> data = List.of(ByteString.copyFromUtf8("x"));
    assertTrue(c.verify(data, c.sign(data), NodeId.of("0")).valid());
  }

  @Test
  void writingReplacesAnExistingFileAndLeavesNoTemporaryFiles() throws Exception {
    Path pub = dir.resolve("node0.pub");
    Files.writeString(pub, "old contents");
    KeyFiles.writePublicKey(pub, KEYS.publicKey());
    assertEquals(KEYS.publicKey(), KeyFiles.readPublicKey(pub));
    try (var files = Files.list(dir)) {
      assertEquals(List.of(pub), files.toList());
    }
  }

  @Test
  void privateKeyFilesAreReadableByTheOwnerOnly() throws Exception {
    Path priv = dir.resolve("node0.key");
    Path pub = dir.resolve("node0.pub");
    KeyFiles.writePrivateKey(priv, KEYS.privateKey());
    KeyFiles.writePublicKey(pub, KEYS.publicKey());
    if (dir.getFileSystem().supportedFileAttributeViews().contains("posix")) {
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(priv)));
      assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(pub)));
    }
  }

  @Test
  void readsKeysWrittenByOtherToolsWithTextAroundTheBlocks() throws Exception {
    KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
    ec.initialize(new ECGenParameterSpec("secp256r1"));
    var jdk = ec.generateKeyPair();
    Path priv = dir.resolve("jdk.key");
    Files.writeString(
        priv,
        "Bag Attributes\r\n    friendlyName: node0\r\n"
            + KeyFiles.toPem("PRIVATE KEY", ByteString.copyFrom(jdk.getPrivate().getEncoded()))
                .replace("\n", "\r\n"));
    EcdsaCrypto c = EcdsaCrypto.fromPrivateKey(KeyFiles.readPrivateKey(priv));
    assertEquals(ByteString.copyFrom(jdk.getPublic().getEncoded()), c.publicKey());
  }

  @Test
  void takesTheFirstUsablePrivateKeyBlock() throws Exception {
    Path file = dir.resolve("bundle.pem");
    Files.writeString(
        file,
        KeyFiles.toPem("CERTIFICATE", ByteString.copyFromUtf8("ignored"))
            + KeyFiles.toPem("EC PRIVATE KEY", ByteString.copyFromUtf8("not PKCS#8"))
            + KeyFiles.toPem("PRIVATE KEY", KEYS.privateKey()));
    assertEquals(KEYS.privateKey(), KeyFiles.readPrivateKey(file));
  }

  @Test
  void readsThePublicKeyOfACertificate() throws Exception {
    ByteString der = selfSignedCertificate(KEYS);
    // The JDK agrees that this is a certificate for our key.
    X509Certificate jdkCert =
        (X509Certificate)
            CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(der.toByteArray()));
    assertEquals(KEYS.publicKey(), ByteString.copyFrom(jdkCert.getPublicKey().getEncoded()));

    Path file = dir.resolve("node0.crt");
    Files.writeString(file, KeyFiles.toPem("CERTIFICATE", der));
    assertEquals(KEYS.publicKey(), KeyFiles.readPublicKey(file));
  }

  @Test
  void badPrivateKeyFilesGiveErrorsNamingTheFileAndTheProblem() throws Exception {
    assertPrivateKeyError("missing.key", null, "missing.key");
    assertPrivateKeyError("empty.key", "", "no PRIVATE KEY block found");
    assertPrivateKeyError("text.key", "hello\nworld\n", "the file has no PEM blocks");
    assertPrivateKeyError(
        "public.key", KeyFiles.toPem("PUBLIC KEY", KEYS.publicKey()), "found PUBLIC KEY");
    assertPrivateKeyError(
        "truncated.key",
        "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n",
        "has no '-----END PRIVATE KEY-----' line");
    assertPrivateKeyError(
        "mismatched.key",
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        "does not close the PRIVATE KEY block");
    assertPrivateKeyError(
        "base64.key",
        "-----BEGIN PRIVATE KEY-----\nnot*base64!\n-----END PRIVATE KEY-----\n",
        "not valid base64");
    assertPrivateKeyError(
        "garbage.key",
        KeyFiles.toPem("PRIVATE KEY", ByteString.copyFromUtf8("garbage")),
        "not a PKCS#8 private key");
    assertPrivateKeyError(
        "encrypted.key",
        "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n"
            + "-----END RSA PRIVATE KEY-----\n",
        "encrypted keys are not supported");

    KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
    rsa.initialize(1024);
    assertPrivateKeyError(
        "rsa.key",
        KeyFiles.toPem(
            "PRIVATE KEY", ByteString.copyFrom(rsa.generateKeyPair().getPrivate().getEncoded())),
        "unsupported private key type RSA");

    Path binary = dir.resolve("binary.key");
    byte[] noise = new byte[4096];
    new java.util.Random(1).nextBytes(noise);
    Files.write(binary, noise);
    IOException e = assertThrows(IOException.class, () -> KeyFiles.readPrivateKey(binary));
    assertTrue(e.getMessage().contains(binary.toString()), e.getMessage());

    Path huge = dir.resolve("huge.key");
    Files.write(huge, new byte[(int) KeyFiles.MAX_FILE_SIZE + 1]);
    IOException tooLarge = assertThrows(IOException.class, () -> KeyFiles.readPrivateKey(huge));
    assertTrue(tooLarge.getMessage().contains("too large"), tooLarge.getMessage());
  }

  @Test
  void badPublicKeyFilesGiveErrorsNamingTheFileAndTheProblem() throws Exception {
    assertPublicKeyError("missing.pub", null, "missing.pub");
    assertPublicKeyError("empty.pub", "", "no PEM block found");
    assertPublicKeyError(
        "private.pub",
        KeyFiles.toPem("PRIVATE KEY", KEYS.privateKey()),
        "expected PUBLIC KEY or CERTIFICATE");
    assertPublicKeyError(
        "garbage.pub",
        KeyFiles.toPem("PUBLIC KEY", ByteString.copyFromUtf8("garbage")),
        "not a SubjectPublicKeyInfo");
    assertPublicKeyError(
        "garbage.crt",
        KeyFiles.toPem("CERTIFICATE", ByteString.copyFromUtf8("garbage")),
        "is not an X.509 certificate");

    KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
    ec.initialize(new ECGenParameterSpec("secp384r1"));
    assertPublicKeyError(
        "p384.pub",
        KeyFiles.toPem(
            "PUBLIC KEY", ByteString.copyFrom(ec.generateKeyPair().getPublic().getEncoded())),
        "only P-256");
  }

  @Test
  void refusesToWriteInvalidKeys() {
    assertThrows(
        IllegalArgumentException.class,
        () -> KeyFiles.writePrivateKey(dir.resolve("x.key"), KEYS.publicKey()));
    assertThrows(
        IllegalArgumentException.class,
        () -> KeyFiles.writePublicKey(dir.resolve("x.pub"), KEYS.privateKey()));
  }

  @Test
  void pemLinesHaveSixtyFourCharacters() {
    String pem = KeyFiles.toPem("DATA", ByteString.copyFrom(new byte[200]));
    for (String line : pem.split("\n")) {
      assertTrue(line.length() <= 64 || line.startsWith("-----"), line);
    }
    assertEquals(List.of("DATA"), Pem.decode(pem).stream().map(Pem.Block::type).toList());
  }

  private void assertPrivateKeyError(String name, String contents, String expected)
      throws IOException {
    Path file = write(name, contents);
    IOException e = assertThrows(IOException.class, () -> KeyFiles.readPrivateKey(file));
    assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }

  private void assertPublicKeyError(String name, String contents, String expected)
      throws IOException {
    Path file = write(name, contents);
    IOException e = assertThrows(IOException.class, () -> KeyFiles.readPublicKey(file));
    assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }

  private Path write(String name, String contents) throws IOException {
    Path file = dir.resolve(name);
    if (contents != null) {
      Files.writeString(file, contents, StandardCharsets.ISO_8859_1);
    }
    return file;
  }

  /**
   * A minimal self-signed X.509 v3 certificate for {@code keys}, built with BouncyCastle's ASN.1
   * classes.
   */
  static ByteString selfSignedCertificate(EncodedKeyPair keys) throws Exception {
    AlgorithmIdentifier ecdsaWithSha256 =
        new AlgorithmIdentifier(X9ObjectIdentifiers.ecdsa_with_SHA256);
    V3TBSCertificateGenerator gen = new V3TBSCertificateGenerator();
    gen.setSerialNumber(new ASN1Integer(1));
    gen.setIssuer(new X500Name("CN=node0"));
    gen.setSubject(new X500Name("CN=node0"));
    gen.setStartDate(new Time(new Date(0)));
    gen.setEndDate(new Time(new Date(4_000_000_000_000L)));
    gen.setSignature(ecdsaWithSha256);
    gen.setSubjectPublicKeyInfo(SubjectPublicKeyInfo.getInstance(keys.publicKey().toByteArray()));
    TBSCertificate tbs = gen.generateTBSCertificate();
    ByteString sig =
        EcdsaCrypto.fromPrivateKey(keys.privateKey())
            .sign(List.of(ByteString.copyFrom(tbs.getEncoded("DER"))));
    ASN1EncodableVector cert = new ASN1EncodableVector();
    cert.add(tbs);
    cert.add(ecdsaWithSha256);
    cert.add(new DERBitString(sig.toByteArray()));
    return ByteString.copyFrom(new DERSequence(cert).getEncoded("DER"));
  }
}
