package io.github.mirframework.flood;

import io.github.mirframework.net.grpc.NodeIdentity;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * TLS handshakes that go nowhere, {@code count} in all, spread over the {@code targets} and over
 * source addresses of 127/8 like {@link IdleConnectionFlood}; two kinds alternate:
 *
 * <ul>
 *   <li><b>stalled</b>: the attacker sends a TLS ClientHello (the server answers with its key
 *       share, certificate and signature, which costs it an ECDHE key and an ECDSA signature) and
 *       then nothing, so the server waits for the rest of the handshake;
 *   <li><b>bad certificate</b>: a complete handshake (ALPN h2) presenting a self-signed certificate
 *       of a key no node knows (a stranger). A server that requires a member's certificate (the
 *       node-to-node port) refuses it; one that does not ask for client certificates (the client
 *       port) completes TLS, and the attacker then sends nothing more (no HTTP/2 preface).
 * </ul>
 *
 * Each connection is held until the server closes it or the flood is closed; the attacker holds at
 * most {@code maxHeld} at a time. Threads: virtual threads, joined by {@link #close()}.
 */
class TlsHandshakeFlood extends SocketFlood {
  private final SSLContext tls;
  private final AtomicLong stalled = new AtomicLong();
  private final AtomicLong badCert = new AtomicLong();
  private final AtomicLong handshakesCompleted = new AtomicLong();
  private final AtomicLong handshakesRefused = new AtomicLong();
  private final AtomicInteger done = new AtomicInteger();

  /**
   * @param stranger the identity the bad-certificate handshakes present (its key must be unknown to
   *     the nodes)
   */
  TlsHandshakeFlood(
      String name, List<InetSocketAddress> targets, int count, int maxHeld, NodeIdentity stranger)
      throws GeneralSecurityException, IOException {
    super(name, targets, count, maxHeld);
    char[] password = "flood".toCharArray();
    KeyStore keys = KeyStore.getInstance("PKCS12");
    keys.load(null, null);
    keys.setKeyEntry(
        "stranger", stranger.privateKey(), password, new Certificate[] {stranger.certificate()});
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(keys, password);
    tls = SSLContext.getInstance("TLS");
    tls.init(kmf.getKeyManagers(), new TrustManager[] {new TrustEveryone()}, new SecureRandom());
  }

  /** The attacker does not care whom it talks to. */
  private static final class TrustEveryone implements X509TrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }

  @Override
  public void start() {
    started = true;
    threads.execute(this::drive);
  }

  private void drive() {
    try {
      for (int i = 0; i < count && !stopped; i++) {
        held.acquire();
        if (stopped) {
          held.release();
          break;
        }
        int n = i;
        try {
          threads.execute(() -> attempt(n));
        } catch (RejectedExecutionException e) {
          held.release();
          break;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void attempt(int i) {
    InetSocketAddress target = targets.get(i % targets.size());
    boolean stall = (i / targets.size()) % 2 == 0;
    Socket s = null;
    try {
      if (stall) {
        stalled.incrementAndGet();
        s = new Socket();
        register(s);
        s.bind(new InetSocketAddress(IdleConnectionFlood.source(i), 0));
        s.connect(target, 5_000);
        s.getOutputStream().write(clientHello(target));
        s.getOutputStream().flush();
      } else {
        badCert.incrementAndGet();
        SSLSocket ssl = (SSLSocket) tls.getSocketFactory().createSocket();
        s = ssl;
        register(s);
        SSLParameters p = ssl.getSSLParameters();
        p.setApplicationProtocols(new String[] {"h2"});
        ssl.setSSLParameters(p);
        ssl.bind(new InetSocketAddress(IdleConnectionFlood.source(i), 0));
        ssl.connect(target, 5_000);
        try {
          ssl.startHandshake();
          handshakesCompleted.incrementAndGet();
        } catch (SSLException e) {
          handshakesRefused.incrementAndGet();
          if (!stopped) {
            closedByServer.incrementAndGet();
          }
          return;
        }
      }
      drain(s);
    } catch (IOException e) {
      if (!stopped) {
        connectFailures.incrementAndGet();
      }
    } finally {
      if (s != null) {
        unregister(s);
        Floods.closeQuietly(s);
      }
      held.release();
      done.incrementAndGet();
    }
  }

  /** Reads and discards until the server closes the connection. */
  private void drain(Socket s) {
    byte[] buf = new byte[4096];
    try {
      InputStream in = s.getInputStream();
      while (in.read(buf) >= 0) {
        // Discard the server's handshake messages, alerts or GOAWAY.
      }
    } catch (IOException e) {
      // Reset, alert, or closed by the flood.
    }
    if (!stopped) {
      closedByServer.incrementAndGet();
    }
  }

  /** A fresh TLS ClientHello (with ALPN h2) for {@code target}. */
  private byte[] clientHello(InetSocketAddress target) throws SSLException {
    SSLEngine e = tls.createSSLEngine(target.getHostString(), target.getPort());
    e.setUseClientMode(true);
    SSLParameters p = e.getSSLParameters();
    p.setApplicationProtocols(new String[] {"h2"});
    e.setSSLParameters(p);
    e.beginHandshake();
    ByteBuffer out = ByteBuffer.allocate(e.getSession().getPacketBufferSize());
    SSLEngineResult r = e.wrap(ByteBuffer.allocate(0), out);
    if (r.bytesProduced() == 0) {
      throw new SSLException("no ClientHello produced: " + r);
    }
    return Arrays.copyOf(out.array(), out.position());
  }

  /** Whether all handshakes were tried and every connection has ended. */
  @Override
  public boolean finished() {
    return started && done.get() == count;
  }

  @Override
  public Map<String, Long> counters() {
    Map<String, Long> m = new TreeMap<>();
    m.put("handshakes", (long) done.get());
    m.put("stalled", stalled.get());
    m.put("bad_cert", badCert.get());
    m.put("bad_cert_completed", handshakesCompleted.get());
    m.put("bad_cert_refused", handshakesRefused.get());
    putSocketCounters(m);
    return m;
  }
}
