package io.github.mirframework.net.grpc;

import com.google.protobuf.ByteString;
import io.github.mirframework.crypto.KeyFiles;
import io.github.mirframework.types.NodeId;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * X.509 certificates that bind a node ID to a node key, for the transport's mutual TLS.
 *
 * <p>A node certificate names the node in its subject common name ({@code CN=<node ID>}) and in a
 * subject alternative name URI {@code urn:mir:node:<node ID, percent-encoded>}. Peers are trusted
 * by key, not by name (see {@link Security}); the names make certificates self-describing and let
 * {@link NodeIdentity#fromPemFiles} check that a certificate is meant for the node that loads it.
 *
 * <p>Only ECDSA P-256 keys are supported, as everywhere in Mir-Java. Stateless and thread-safe.
 */
public final class Certificates {
  /** The prefix of the subject alternative name URI that carries the node ID. */
  public static final String NODE_URI_PREFIX = "urn:mir:node:";

  // Self-signed node certificates have no meaningful expiry (RFC 5280 4.1.2.5).
  private static final Instant NOT_BEFORE = Instant.parse("2000-01-01T00:00:00Z");
  private static final Instant NOT_AFTER = Instant.parse("9999-12-31T23:59:59Z");

  private Certificates() {}

  /**
   * Returns a self-signed certificate for node {@code id} with the given key pair, valid for ever.
   * The serial number is derived from the public key.
   *
   * @throws IllegalArgumentException if the keys are not a P-256 key pair
   */
  public static X509Certificate selfSigned(NodeId id, PrivateKey privateKey, PublicKey publicKey) {
    X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, id.value()).build();
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(publicKey.getEncoded());
      BigInteger serial = new BigInteger(1, Arrays.copyOf(digest, 16));
      JcaX509v3CertificateBuilder b =
          new JcaX509v3CertificateBuilder(
              subject,
              serial.signum() == 0 ? BigInteger.ONE : serial,
              Date.from(NOT_BEFORE),
              Date.from(NOT_AFTER),
              subject,
              publicKey);
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      b.addExtension(
          Extension.extendedKeyUsage,
          false,
          new ExtendedKeyUsage(
              new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
      b.addExtension(
          Extension.subjectAlternativeName,
          false,
          new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, nodeUri(id))));
      X509CertificateHolder holder =
          b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(privateKey));
      return new JcaX509CertificateConverter().getCertificate(holder);
    } catch (GeneralSecurityException | OperatorCreationException | CertIOException e) {
      throw new IllegalArgumentException(
          "cannot make a certificate for node " + id + ": " + e.getMessage(), e);
    }
  }

  /** The subject alternative name URI that names node {@code id}. */
  public static String nodeUri(NodeId id) {
    return NODE_URI_PREFIX + URLEncoder.encode(id.value(), StandardCharsets.UTF_8);
  }

  /**
   * The node IDs a certificate names: its subject common names and its {@code urn:mir:node:} URIs,
   * in that order, without duplicates. Names that are not valid node IDs are skipped.
   */
  public static Set<NodeId> nodeIds(X509Certificate certificate) {
    Set<NodeId> out = new LinkedHashSet<>();
    try {
      for (Rdn rdn : new LdapName(certificate.getSubjectX500Principal().getName()).getRdns()) {
        if (rdn.getType().equalsIgnoreCase("CN")) {
          addIfValid(out, String.valueOf(rdn.getValue()));
        }
      }
    } catch (InvalidNameException e) {
      // No common name then.
    }
    try {
      Collection<List<?>> sans = certificate.getSubjectAlternativeNames();
      if (sans != null) {
        for (List<?> san : sans) {
          if (san.size() >= 2
              && Integer.valueOf(GeneralName.uniformResourceIdentifier).equals(san.get(0))
              && san.get(1) instanceof String uri
              && uri.startsWith(NODE_URI_PREFIX)) {
            try {
              addIfValid(
                  out,
                  URLDecoder.decode(
                      uri.substring(NODE_URI_PREFIX.length()), StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
              // Bad percent-encoding: not a node name.
            }
          }
        }
      }
    } catch (CertificateParsingException e) {
      // No usable alternative names then.
    }
    return out;
  }

  private static void addIfValid(Set<NodeId> out, String value) {
    try {
      out.add(NodeId.of(value));
    } catch (IllegalArgumentException e) {
      // Not a node ID.
    }
  }

  /**
   * The public key of {@code certificate} as SubjectPublicKeyInfo DER, in the encoding the
   * transport compares keys in.
   */
  public static ByteString publicKey(X509Certificate certificate) {
    return ByteString.copyFrom(certificate.getPublicKey().getEncoded());
  }

  /**
   * Re-encodes a SubjectPublicKeyInfo DER EC public key in the JDK's canonical form, the form
   * {@link #publicKey(X509Certificate)} returns.
   *
   * @throws IllegalArgumentException if the bytes are not an EC public key
   */
  public static ByteString canonicalPublicKey(ByteString spki) {
    try {
      return ByteString.copyFrom(
          KeyFactory.getInstance("EC")
              .generatePublic(new X509EncodedKeySpec(spki.toByteArray()))
              .getEncoded());
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("not an EC public key: " + e.getMessage(), e);
    }
  }

  /**
   * Decodes a PKCS#8 DER EC private key.
   *
   * @throws IllegalArgumentException if the bytes are not an EC private key
   */
  public static PrivateKey privateKey(ByteString pkcs8) {
    try {
      return KeyFactory.getInstance("EC")
          .generatePrivate(new PKCS8EncodedKeySpec(pkcs8.toByteArray()));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("not an EC private key: " + e.getMessage(), e);
    }
  }

  /**
   * Decodes a SubjectPublicKeyInfo DER EC public key.
   *
   * @throws IllegalArgumentException if the bytes are not an EC public key
   */
  public static PublicKey publicKey(ByteString spki) {
    try {
      return KeyFactory.getInstance("EC")
          .generatePublic(new X509EncodedKeySpec(spki.toByteArray()));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("not an EC public key: " + e.getMessage(), e);
    }
  }

  /**
   * Reads the certificates of a PEM ({@code CERTIFICATE} blocks) or DER file, in order.
   *
   * @throws IOException naming the file if it cannot be read, is larger than {@link
   *     KeyFiles#MAX_FILE_SIZE}, or holds no certificate
   */
  public static List<X509Certificate> readCertificates(Path file) throws IOException {
    long size = Files.size(file);
    if (size > KeyFiles.MAX_FILE_SIZE) {
      throw new IOException(file + ": " + size + " bytes is too large for a certificate file");
    }
    byte[] bytes = Files.readAllBytes(file);
    List<X509Certificate> out = new ArrayList<>();
    try (InputStream in = new ByteArrayInputStream(bytes)) {
      for (java.security.cert.Certificate c :
          CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        out.add((X509Certificate) c);
      }
    } catch (CertificateException e) {
      throw new IOException(file + ": not an X.509 certificate file: " + e.getMessage(), e);
    }
    if (out.isEmpty()) {
      throw new IOException(file + ": no certificate found");
    }
    return out;
  }

  /** Returns the PEM text ({@code CERTIFICATE} block) of {@code certificate}. */
  public static String toPem(X509Certificate certificate) {
    try {
      return KeyFiles.toPem(
          KeyFiles.CERTIFICATE_TYPE, ByteString.copyFrom(certificate.getEncoded()));
    } catch (CertificateException e) {
      throw new IllegalArgumentException("cannot encode certificate: " + e.getMessage(), e);
    }
  }
}
