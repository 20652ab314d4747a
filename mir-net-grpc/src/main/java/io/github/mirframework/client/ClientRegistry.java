package io.github.mirframework.client;

import com.google.protobuf.ByteString;
import io.github.mirframework.client.pb.ClientHello;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.crypto.EcdsaCrypto;
import io.github.mirframework.crypto.InsecureKeys;
import io.github.mirframework.crypto.VerificationResult;
import io.github.mirframework.types.ClientId;
import io.github.mirframework.types.NodeId;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The clients a system accepts requests from, each bound to an ECDSA P-256 public key (see ADR
 * 0005): a request is authentic if it names a registered client and carries that client's signature
 * over its client ID, request number and data. Every replica checks this before a request counts as
 * delivered, so nobody can use another client's request numbers, and client IDs nobody registered
 * never reach the replicated client progress. The request receiver checks the same at the door.
 *
 * <p>All replicas of a system must use the same registry (it decides, deterministically, which
 * ordered requests are applied).
 *
 * <p>Verified signatures are remembered in a small bounded cache (by a SHA-256 of the whole
 * request), so a request the node's request receiver has verified is not verified again when it is
 * delivered. The cache never changes an answer: a signature is valid or not independently of who
 * checks it.
 *
 * <p>Thread-safe; immutable apart from the cache.
 */
public final class ClientRegistry {
  private static final byte[] REQUEST_DOMAIN = "mir-request-v1".getBytes(StandardCharsets.UTF_8);
  private static final byte[] HELLO_DOMAIN = "mir-client-hello-v1".getBytes(StandardCharsets.UTF_8);
  private static final int CACHE_ENTRIES = 1 << 16;

  private final Map<ClientId, NodeId> slots;
  private final Map<ClientId, ByteString> keys;
  private final EcdsaCrypto verifier;
  private final Set<ByteString> verified = ConcurrentHashMap.newKeySet();
  private final ByteString[] ring = new ByteString[CACHE_ENTRIES];
  private final AtomicLong ringPos = new AtomicLong();
  private final AtomicLong verifications = new AtomicLong();

  private ClientRegistry(Map<ClientId, ByteString> keys) throws InvalidKeyException {
    this.keys = Map.copyOf(keys);
    Map<ClientId, NodeId> s = new HashMap<>();
    // The verifier never signs; it needs some private key to exist.
    this.verifier =
        EcdsaCrypto.fromPrivateKey(
            InsecureKeys.keyPair(NodeId.of("client-registry"), 0).privateKey());
    int i = 0;
    for (Map.Entry<ClientId, ByteString> e : new java.util.TreeMap<>(keys).entrySet()) {
      NodeId slot = NodeId.of("client-" + i++);
      try {
        verifier.registerNodeKey(slot, e.getValue());
      } catch (InvalidKeyException ex) {
        throw new InvalidKeyException(
            "public key of client " + e.getKey() + ": " + ex.getMessage(), ex);
      }
      s.put(e.getKey(), slot);
    }
    this.slots = Map.copyOf(s);
  }

  /**
   * A registry of the given clients.
   *
   * @param publicKeys each client's P-256 public key (SubjectPublicKeyInfo DER)
   * @throws InvalidKeyException if a key is not a valid P-256 public key (the message names the
   *     client)
   */
  public static ClientRegistry of(Map<ClientId, ByteString> publicKeys) throws InvalidKeyException {
    Objects.requireNonNull(publicKeys, "publicKeys");
    return new ClientRegistry(publicKeys);
  }

  /** Whether {@code client} is registered. */
  public boolean contains(ClientId client) {
    return keys.containsKey(client);
  }

  /** The registered clients. */
  public Set<ClientId> clients() {
    return Collections.unmodifiableSet(keys.keySet());
  }

  /** How many signatures were actually verified (not answered from the cache); for tests. */
  public long verificationCount() {
    return verifications.get();
  }

  /**
   * Checks that {@code r} is an authentic request of a registered client with a valid request
   * number.
   *
   * @return {@code null} if it is, otherwise why not
   */
  public String check(Request r) {
    String problem = checkFormat(r);
    if (problem != null) {
      return problem;
    }
    ClientId client = ClientId.of(r.getClientId());
    NodeId slot = slots.get(client);
    if (slot == null) {
      return "unknown client " + abbreviate(r.getClientId());
    }
    if (r.getSignature().isEmpty()) {
      return "request " + r.getReqNo() + " of client " + client + " is not signed";
    }
    ByteString digest = cacheKey(r);
    if (verified.contains(digest)) {
      return null;
    }
    verifications.incrementAndGet();
    VerificationResult v =
        verifier.verify(signedData(client, r.getReqNo(), r.getData()), r.getSignature(), slot);
    if (!v.valid()) {
      return "request " + r.getReqNo() + " of client " + client + ": invalid signature";
    }
    remember(digest);
    return null;
  }

  /**
   * Checks that {@code hello} was signed by its client for node {@code node}.
   *
   * @return {@code null} if it was, otherwise why not
   */
  public String checkHello(ClientHello hello, NodeId node) {
    if (hello.getClientId().isEmpty()) {
      return "hello without client ID";
    }
    NodeId slot = slots.get(ClientId.of(hello.getClientId()));
    if (slot == null) {
      return "hello of unknown client " + abbreviate(hello.getClientId());
    }
    if (!hello.getNodeId().equals(node.value())) {
      return "hello of client " + hello.getClientId() + " is for another node";
    }
    verifications.incrementAndGet();
    VerificationResult v =
        verifier.verify(
            helloData(ClientId.of(hello.getClientId()), node), hello.getSignature(), slot);
    return v.valid() ? null : "hello of client " + hello.getClientId() + ": invalid signature";
  }

  /**
   * Checks what needs no key: a non-empty client ID and a request number below 2<sup>63</sup>.
   *
   * @return {@code null} if the request is well-formed, otherwise why not
   */
  public static String checkFormat(Request r) {
    if (r.getClientId().isEmpty()) {
      return "empty client ID";
    }
    if (r.getReqNo() < 0) {
      return "request number "
          + Long.toUnsignedString(r.getReqNo())
          + " of client "
          + abbreviate(r.getClientId())
          + " is negative (at least 2^63)";
    }
    return null;
  }

  /** The chunks a client signs for request {@code reqNo} with {@code data}. */
  static List<ByteString> signedData(ClientId client, long reqNo, ByteString data) {
    byte[] id = client.value().getBytes(StandardCharsets.UTF_8);
    ByteBuffer header = ByteBuffer.allocate(REQUEST_DOMAIN.length + 4 + id.length + 8);
    header.put(REQUEST_DOMAIN).putInt(id.length).put(id).putLong(reqNo);
    return List.of(ByteString.copyFrom(header.array()), data);
  }

  /** The chunks a client signs to open a stream to {@code node}. */
  static List<ByteString> helloData(ClientId client, NodeId node) {
    byte[] id = client.value().getBytes(StandardCharsets.UTF_8);
    byte[] n = node.value().getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(HELLO_DOMAIN.length + 8 + id.length + n.length);
    b.put(HELLO_DOMAIN).putInt(id.length).put(id).putInt(n.length).put(n);
    return List.of(ByteString.copyFrom(b.array()));
  }

  private static ByteString cacheKey(Request r) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      for (ByteString chunk : signedData(ClientId.of(r.getClientId()), r.getReqNo(), r.getData())) {
        chunk.asReadOnlyByteBufferList().forEach(md::update);
      }
      md.update(r.getSignature().toByteArray());
      return ByteString.copyFrom(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }

  private void remember(ByteString digest) {
    if (!verified.add(digest)) {
      return;
    }
    int i = (int) (ringPos.getAndIncrement() & (CACHE_ENTRIES - 1));
    ByteString old;
    synchronized (ring) {
      old = ring[i];
      ring[i] = digest;
    }
    if (old != null) {
      verified.remove(old);
    }
  }

  static String abbreviate(String s) {
    return s.length() <= 64 ? "'" + s + "'" : "'" + s.substring(0, 64) + "...'";
  }

  @Override
  public String toString() {
    return "ClientRegistry[" + keys.size() + " clients]";
  }
}
