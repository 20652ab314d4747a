package io.github.mirframework.net.grpc.internal;

import com.google.protobuf.ByteString;
import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Set;
import java.util.function.Predicate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Trusts a TLS peer exactly when the public key of its certificate is one of a given set (key
 * pinning), whatever the certificate's issuer or names: the TLS handshake proves that the peer
 * holds the matching private key. The certificate must also be within its validity period.
 *
 * <p>Host names are deliberately not checked: peers are identified by key, and nodes are often
 * addressed by IP. Being an {@link X509ExtendedTrustManager}, this class also stops the JDK from
 * adding its own host name check.
 */
public final class PinnedKeyTrustManager extends X509ExtendedTrustManager {
  private static final X509Certificate[] NO_ISSUERS = new X509Certificate[0];

  private final Predicate<ByteString> trusted;
  private final String what;

  /**
   * Trusts the holders of the keys accepted by {@code trusted} (SubjectPublicKeyInfo DER as
   * returned by {@code PublicKey.getEncoded()}); {@code what} names them in error messages.
   */
  public PinnedKeyTrustManager(Predicate<ByteString> trusted, String what) {
    this.trusted = trusted;
    this.what = what;
  }

  /** Trusts exactly the holders of {@code keys}. */
  public static PinnedKeyTrustManager of(Set<ByteString> keys, String what) {
    Set<ByteString> copy = Set.copyOf(keys);
    return new PinnedKeyTrustManager(copy::contains, what);
  }

  private void check(X509Certificate[] chain) throws CertificateException {
    if (chain == null || chain.length == 0) {
      throw new CertificateException("the peer presented no certificate");
    }
    X509Certificate leaf = chain[0];
    leaf.checkValidity();
    if (!trusted.test(ByteString.copyFrom(leaf.getPublicKey().getEncoded()))) {
      throw new CertificateException(
          "the key of certificate '"
              + leaf.getSubjectX500Principal().getName()
              + "' is not the key of "
              + what);
    }
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    check(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    check(chain);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    check(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    check(chain);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    check(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    check(chain);
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return NO_ISSUERS;
  }
}
