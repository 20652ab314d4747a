package io.github.mirframework.net.grpc;

import com.google.protobuf.ByteString;
import io.github.mirframework.crypto.EncodedKeyPair;
import io.github.mirframework.crypto.InsecureKeys;
import io.github.mirframework.crypto.KeyFiles;
import io.github.mirframework.types.NodeId;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;

/**
 * What a node presents in TLS handshakes: its ID, its certificate and the certificate's private
 * key. {@link #toString()} never shows the private key.
 *
 * @param id the node
 * @param certificate a certificate for the node's public key (see {@link Certificates})
 * @param privateKey the private key matching the certificate
 */
public record NodeIdentity(NodeId id, X509Certificate certificate, PrivateKey privateKey) {

  /** Checks that the key pair matches. */
  public NodeIdentity {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(certificate, "certificate");
    Objects.requireNonNull(privateKey, "privateKey");
    checkKeysMatch(id, certificate, privateKey);
  }

  /**
   * Returns the identity of node {@code id} with a self-signed certificate made from its key pair
   * (the node's protocol signing keys, or keys of its own).
   *
   * @throws IllegalArgumentException if the keys are not a matching P-256 key pair
   */
  public static NodeIdentity selfSigned(NodeId id, EncodedKeyPair keys) {
    PrivateKey priv = Certificates.privateKey(keys.privateKey());
    X509Certificate cert =
        Certificates.selfSigned(id, priv, Certificates.publicKey(keys.publicKey()));
    return new NodeIdentity(id, cert, priv);
  }

  /**
   * Returns the identity of node {@code id} from {@link InsecureKeys} with {@code seed}.
   * <b>Insecure:</b> anyone who knows the seed can impersonate the node; for tests and demos.
   */
  public static NodeIdentity insecureForTesting(NodeId id, long seed) {
    return selfSigned(id, InsecureKeys.keyPair(id, seed));
  }

  /**
   * Loads the identity of node {@code id} from a certificate file (PEM or DER; the first
   * certificate is used) and a PEM private key file (PKCS#8, P-256).
   *
   * @throws IOException naming the file if a file cannot be read or parsed, if the certificate does
   *     not name node {@code id} (see {@link Certificates#nodeIds}), or if the key does not match
   *     it
   */
  public static NodeIdentity fromPemFiles(NodeId id, Path certificateFile, Path privateKeyFile)
      throws IOException {
    List<X509Certificate> certs = Certificates.readCertificates(certificateFile);
    X509Certificate cert = certs.get(0);
    if (!Certificates.nodeIds(cert).contains(id)) {
      throw new IOException(
          certificateFile
              + ": the certificate names "
              + Certificates.nodeIds(cert)
              + ", not node "
              + id);
    }
    PrivateKey key = Certificates.privateKey(KeyFiles.readPrivateKey(privateKeyFile));
    try {
      return new NodeIdentity(id, cert, key);
    } catch (IllegalArgumentException e) {
      throw new IOException(
          privateKeyFile + " does not match " + certificateFile + ": " + e.getMessage(), e);
    }
  }

  /** The node's public key (SubjectPublicKeyInfo DER), the key peers pin. */
  public ByteString publicKey() {
    return Certificates.publicKey(certificate);
  }

  @Override
  public String toString() {
    return "NodeIdentity[id="
        + id
        + ", certificate="
        + certificate.getSubjectX500Principal().getName()
        + ", privateKey=(hidden)]";
  }

  private static void checkKeysMatch(NodeId id, X509Certificate cert, PrivateKey key) {
    byte[] probe = ("mir node identity check " + id).getBytes(StandardCharsets.UTF_8);
    try {
      Signature s = Signature.getInstance("SHA256withECDSA");
      s.initSign(key);
      s.update(probe);
      byte[] sig = s.sign();
      Signature v = Signature.getInstance("SHA256withECDSA");
      v.initVerify(cert.getPublicKey());
      v.update(probe);
      if (!v.verify(sig)) {
        throw new IllegalArgumentException(
            "the private key of node " + id + " does not match its certificate");
      }
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "unusable key pair for node " + id + " (only ECDSA P-256 is supported): " + e, e);
    }
  }
}
