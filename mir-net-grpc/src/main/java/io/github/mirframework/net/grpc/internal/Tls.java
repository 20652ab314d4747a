package io.github.mirframework.net.grpc.internal;

import io.grpc.netty.GrpcSslContexts;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManager;

/** Builds the Netty TLS contexts of the gRPC components (TLS 1.2 and 1.3, ALPN h2). */
public final class Tls {
  private Tls() {}

  /**
   * A server context presenting {@code certificate}; if {@code clientTrust} is not null, clients
   * must present a certificate it accepts (mutual TLS), otherwise clients are not asked for one.
   */
  public static SslContext server(
      PrivateKey key, X509Certificate certificate, TrustManager clientTrust) {
    SslContextBuilder b = SslContextBuilder.forServer(key, certificate);
    if (clientTrust != null) {
      b.trustManager(clientTrust).clientAuth(ClientAuth.REQUIRE);
    }
    return build(GrpcSslContexts.configure(b));
  }

  /**
   * A client context that accepts the servers {@code serverTrust} accepts and, if {@code key} is
   * not null, presents {@code certificate} (mutual TLS).
   */
  public static SslContext client(
      PrivateKey key, X509Certificate certificate, TrustManager serverTrust) {
    SslContextBuilder b = GrpcSslContexts.forClient().trustManager(serverTrust);
    if (key != null) {
      b.keyManager(key, certificate);
    }
    return build(b);
  }

  private static SslContext build(SslContextBuilder b) {
    try {
      return b.build();
    } catch (SSLException e) {
      throw new IllegalStateException("cannot set up TLS: " + e.getMessage(), e);
    }
  }
}
