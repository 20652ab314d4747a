package io.github.mirframework.net.grpc;

import com.google.protobuf.ByteString;
import io.github.mirframework.crypto.InsecureKeys;
import io.github.mirframework.types.NodeId;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * How the gRPC transport secures its connections.
 *
 * <ul>
 *   <li>{@link MutualTls} (the normal case): every connection is TLS; each side presents its node
 *       certificate and accepts the other side only if its key is the configured key of a peer. The
 *       sender of every received message is the node whose key the connection authenticated.
 *   <li>{@link Plaintext} (tests and demos only): no encryption and <b>no authentication</b>; the
 *       sender of a stream is whatever node ID the other side puts into its {@code mir-sender}
 *       request header, so anyone who can reach the port can impersonate any node.
 * </ul>
 */
public sealed interface Security permits Security.Plaintext, Security.MutualTls {

  /** No TLS; sender IDs are unauthenticated. For tests and demos only. */
  static Plaintext plaintext() {
    return Plaintext.INSTANCE;
  }

  /**
   * Mutual TLS: this node presents {@code identity}; it accepts exactly the peers whose public keys
   * (SubjectPublicKeyInfo DER, e.g. the nodes' protocol keys) are given.
   */
  static MutualTls mutualTls(NodeIdentity identity, Map<NodeId, ByteString> peerKeys) {
    return new MutualTls(identity, peerKeys);
  }

  /**
   * Mutual TLS with the peers' certificates; each certificate must name its node (see {@link
   * Certificates#nodeIds}).
   *
   * @throws IllegalArgumentException if a certificate does not name its node
   */
  static MutualTls mutualTlsWithCertificates(
      NodeIdentity identity, Map<NodeId, X509Certificate> peerCertificates) {
    Map<NodeId, ByteString> keys = new HashMap<>();
    peerCertificates.forEach(
        (id, cert) -> {
          if (!Certificates.nodeIds(cert).contains(id)) {
            throw new IllegalArgumentException(
                "the certificate given for node "
                    + id
                    + " names "
                    + Certificates.nodeIds(cert)
                    + " instead");
          }
          keys.put(id, Certificates.publicKey(cert));
        });
    return new MutualTls(identity, keys);
  }

  /**
   * Mutual TLS for node {@code self} among {@code nodes}, all with {@link InsecureKeys} derived
   * from {@code seed}. <b>Insecure:</b> the keys are public knowledge; for tests and demos of TLS.
   */
  static MutualTls insecureMutualTlsForTesting(NodeId self, Collection<NodeId> nodes, long seed) {
    Map<NodeId, ByteString> keys = new HashMap<>();
    for (NodeId n : nodes) {
      keys.put(n, InsecureKeys.publicKey(n, seed));
    }
    return new MutualTls(NodeIdentity.insecureForTesting(self, seed), keys);
  }

  /** No TLS. */
  record Plaintext() implements Security {
    static final Plaintext INSTANCE = new Plaintext();
  }

  /**
   * Mutual TLS.
   *
   * @param identity what this node presents
   * @param peerKeys the public key of every node this node may talk to (SubjectPublicKeyInfo DER),
   *     stored in canonical encoding; this node's own entry is added if missing
   */
  record MutualTls(NodeIdentity identity, Map<NodeId, ByteString> peerKeys) implements Security {

    /** Validates the keys: EC public keys, one node per key, this node's key its own. */
    public MutualTls {
      Objects.requireNonNull(identity, "identity");
      Objects.requireNonNull(peerKeys, "peerKeys");
      TreeMap<NodeId, ByteString> keys = new TreeMap<>();
      Map<ByteString, NodeId> owners = new HashMap<>();
      peerKeys.forEach(
          (id, key) -> {
            ByteString canonical;
            try {
              canonical = Certificates.canonicalPublicKey(Objects.requireNonNull(key));
            } catch (IllegalArgumentException e) {
              throw new IllegalArgumentException(
                  "bad public key for node " + id + ": " + e.getMessage(), e);
            }
            NodeId other = owners.putIfAbsent(canonical, id);
            if (other != null) {
              throw new IllegalArgumentException(
                  "nodes " + other + " and " + id + " have the same public key");
            }
            keys.put(id, canonical);
          });
      ByteString own = identity.publicKey();
      ByteString configured = keys.get(identity.id());
      if (configured != null && !configured.equals(own)) {
        throw new IllegalArgumentException(
            "the key configured for node " + identity.id() + " is not the key of its identity");
      }
      NodeId ownerOfOwn = owners.get(own);
      if (ownerOfOwn != null && !ownerOfOwn.equals(identity.id())) {
        throw new IllegalArgumentException(
            "node " + ownerOfOwn + " is configured with this node's (" + identity.id() + ") key");
      }
      keys.put(identity.id(), own);
      peerKeys = Collections.unmodifiableMap(keys);
    }

    /** The node whose key is {@code key} (canonical encoding), if any. */
    public Optional<NodeId> nodeOf(ByteString key) {
      for (Map.Entry<NodeId, ByteString> e : peerKeys.entrySet()) {
        if (e.getValue().equals(key)) {
          return Optional.of(e.getKey());
        }
      }
      return Optional.empty();
    }
  }
}
