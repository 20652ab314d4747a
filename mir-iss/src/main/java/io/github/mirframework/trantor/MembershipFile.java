package io.github.mirframework.trantor;

import com.google.protobuf.ByteString;
import io.github.mirframework.crypto.EcdsaCrypto;
import io.github.mirframework.crypto.KeyFiles;
import io.github.mirframework.net.Membership;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.net.grpc.Certificates;
import io.github.mirframework.net.grpc.NodeIdentity;
import io.github.mirframework.net.grpc.Security;
import io.github.mirframework.types.NodeId;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.InvalidKeyException;
import java.security.cert.X509Certificate;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A membership file: the nodes of a Trantor system with their addresses and certificates, one node
 * per line (format in {@code docs/trantor-system.md}):
 *
 * <pre>
 * # node ID   transport address   client address   certificate    [spare]
 * 0           127.0.0.1:10000     127.0.0.1:11000  node-0.crt
 * 4           127.0.0.1:10004     127.0.0.1:11004  node-4.crt     spare
 * </pre>
 *
 * <p>The certificate is a PEM file, relative to the membership file's directory unless absolute; it
 * must name its node (see {@link Certificates}) and carries the node's ECDSA P-256 public key, used
 * both for the transport's mutual TLS and for protocol signatures. Nodes marked {@code spare} are
 * not in the initial membership; their keys are known so that they can be added later by a
 * reconfiguration. Immutable and thread-safe.
 */
public final class MembershipFile {
  /** The largest membership file accepted, in bytes. */
  public static final long MAX_FILE_BYTES = 1 << 20;

  /** The word that marks a node outside the initial membership. */
  public static final String SPARE = "spare";

  /**
   * One node of the file.
   *
   * @param id the node ID
   * @param transport where the node's transport listens (node-to-node gRPC with mutual TLS)
   * @param client where the node's request receiver listens (clients, TLS)
   * @param certificateFile the certificate file, resolved against the membership file's directory
   * @param certificate the node's certificate
   * @param spare whether the node is outside the initial membership
   */
  public record Entry(
      NodeId id,
      NodeAddress transport,
      NodeAddress client,
      Path certificateFile,
      X509Certificate certificate,
      boolean spare) {
    /** Checks that nothing is missing. */
    public Entry {
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(transport, "transport");
      Objects.requireNonNull(client, "client");
      Objects.requireNonNull(certificateFile, "certificateFile");
      Objects.requireNonNull(certificate, "certificate");
    }

    /** The node's public key (SubjectPublicKeyInfo DER, canonical encoding). */
    public ByteString publicKey() {
      return Certificates.publicKey(certificate);
    }
  }

  /**
   * A node for {@link #generate}.
   *
   * @param id the node ID (used in file names: letters, digits, '.', '_' and '-' only)
   * @param transport the transport address (port not 0)
   * @param client the client (request receiver) address (port not 0)
   * @param spare whether the node is outside the initial membership
   */
  public record NodeSpec(NodeId id, NodeAddress transport, NodeAddress client, boolean spare) {
    /** Validates the spec. */
    public NodeSpec {
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(transport, "transport");
      Objects.requireNonNull(client, "client");
      if (!id.value().matches("[A-Za-z0-9._-]+") || id.value().startsWith(".")) {
        throw new IllegalArgumentException(
            "node ID '" + id + "' cannot be used in a file name (letters, digits, . _ - only)");
      }
      if (transport.port() == 0 || client.port() == 0) {
        throw new IllegalArgumentException("node " + id + ": port 0 is not a fixed address");
      }
    }
  }

  /** The name of the membership file {@link #generate} writes. */
  public static final String DEFAULT_FILE_NAME = "membership";

  private final Path file;
  private final Map<NodeId, Entry> entries;

  private MembershipFile(Path file, Map<NodeId, Entry> entries) {
    this.file = file;
    this.entries = entries;
  }

  /**
   * Loads and validates a membership file.
   *
   * @throws MembershipFileException naming file, line and field if the content is invalid: wrong
   *     number of fields, invalid or duplicate node ID, invalid, zero-port or duplicate address,
   *     unreadable certificate, a certificate that does not name its node, two nodes with the same
   *     key, or no node in the initial membership
   * @throws IOException if the file cannot be read
   */
  public static MembershipFile load(Path file) throws IOException {
    List<LineFile.Line> lines = LineFile.read(file, MAX_FILE_BYTES);
    Path base = file.toAbsolutePath().getParent();
    Map<NodeId, Entry> entries = new LinkedHashMap<>();
    Map<NodeAddress, NodeId> addressOwners = new HashMap<>();
    Map<ByteString, NodeId> keyOwners = new HashMap<>();
    for (LineFile.Line line : lines) {
      line.requireFields(
          4,
          5,
          "expected 4 or 5 fields (node ID, transport address, client address, certificate"
              + " [, spare])");
      NodeId id = NodeId.of(line.field(0)); // never fails: no whitespace, not empty
      if (entries.containsKey(id)) {
        throw line.error("node ID", "duplicate node ID " + id);
      }
      NodeAddress transport = address(line, "transport address", line.field(1));
      NodeAddress client = address(line, "client address", line.field(2));
      checkUnused(line, "transport address", transport, id, addressOwners);
      checkUnused(line, "client address", client, id, addressOwners);
      Path certFile = base.resolve(line.field(3));
      X509Certificate cert;
      try {
        cert = Certificates.readCertificates(certFile).get(0);
      } catch (IOException e) {
        throw line.error("certificate", e.getMessage());
      }
      if (!Certificates.nodeIds(cert).contains(id)) {
        throw line.error(
            "certificate",
            certFile + " names nodes " + Certificates.nodeIds(cert) + ", not node " + id);
      }
      ByteString key;
      try {
        key = Certificates.publicKey(cert);
        EcdsaCrypto.checkPublicKey(key);
      } catch (IllegalArgumentException | InvalidKeyException e) {
        throw line.error("certificate", certFile + ": not a P-256 public key: " + e.getMessage());
      }
      NodeId keyOwner = keyOwners.putIfAbsent(key, id);
      if (keyOwner != null) {
        throw line.error("certificate", "node " + keyOwner + " has the same public key");
      }
      boolean spare = false;
      if (line.size() == 5) {
        if (!line.field(4).equals(SPARE)) {
          throw line.error(
              "marker", "expected '" + SPARE + "' or nothing, found '" + line.field(4) + "'");
        }
        spare = true;
      }
      entries.put(id, new Entry(id, transport, client, certFile, cert, spare));
    }
    if (entries.values().stream().allMatch(Entry::spare)) {
      throw new MembershipFileException(
          file, 0, null, "no node in the initial membership (every line is empty or spare)");
    }
    return new MembershipFile(file, java.util.Collections.unmodifiableMap(entries));
  }

  private static void checkUnused(
      LineFile.Line line,
      String field,
      NodeAddress address,
      NodeId id,
      Map<NodeAddress, NodeId> owners)
      throws MembershipFileException {
    NodeId owner = owners.putIfAbsent(address, id);
    if (owner != null) {
      throw line.error(field, address + " is already used by node " + owner);
    }
  }

  private static NodeAddress address(LineFile.Line line, String field, String text)
      throws MembershipFileException {
    NodeAddress a;
    try {
      a = NodeAddress.parse(text);
    } catch (IllegalArgumentException e) {
      throw line.error(field, e.getMessage());
    }
    if (a.port() == 0) {
      throw line.error(field, "port 0 is not a fixed address: " + text);
    }
    return a;
  }

  /**
   * Generates a fresh ECDSA P-256 key pair and a self-signed node certificate for every node, and
   * writes into {@code directory}: {@code node-<id>.key} (PKCS#8 PEM, readable by the owner only
   * where the file system allows), {@code node-<id>.crt} (PEM) and the membership file {@link
   * #DEFAULT_FILE_NAME}, which is then loaded (and so validated) and returned. Existing files of
   * the same names are replaced.
   *
   * @throws IllegalArgumentException if the specs have duplicate IDs or addresses, or no non-spare
   *     node (nothing is written)
   * @throws IOException if a file cannot be written
   */
  public static MembershipFile generate(
      Path directory, List<NodeSpec> nodes, java.security.SecureRandom random) throws IOException {
    Objects.requireNonNull(directory, "directory");
    Objects.requireNonNull(random, "random");
    java.util.Set<NodeId> ids = new java.util.HashSet<>();
    java.util.Set<NodeAddress> addresses = new java.util.HashSet<>();
    for (NodeSpec n : nodes) {
      if (!ids.add(n.id())) {
        throw new IllegalArgumentException("duplicate node ID " + n.id());
      }
      if (!addresses.add(n.transport()) || !addresses.add(n.client())) {
        throw new IllegalArgumentException("node " + n.id() + " reuses an address");
      }
    }
    if (nodes.stream().allMatch(NodeSpec::spare)) {
      throw new IllegalArgumentException("no node in the initial membership");
    }
    Files.createDirectories(directory);
    StringBuilder text =
        new StringBuilder()
            .append("# Mir-Java membership file (docs/trantor-system.md)\n")
            .append("# node ID  transport address  client address  certificate  [spare]\n");
    for (NodeSpec n : nodes) {
      io.github.mirframework.crypto.EncodedKeyPair keys = EcdsaCrypto.generateKeyPair(random);
      NodeIdentity identity = NodeIdentity.selfSigned(n.id(), keys);
      String base = "node-" + n.id().value();
      KeyFiles.writePrivateKey(directory.resolve(base + ".key"), keys.privateKey());
      Files.writeString(
          directory.resolve(base + ".crt"), Certificates.toPem(identity.certificate()));
      text.append(n.id().value())
          .append(' ')
          .append(n.transport())
          .append(' ')
          .append(n.client())
          .append(' ')
          .append(base)
          .append(".crt")
          .append(n.spare() ? " " + SPARE : "")
          .append('\n');
    }
    Path file = directory.resolve(DEFAULT_FILE_NAME);
    Files.writeString(file, text);
    return load(file);
  }

  /** The file this was loaded from. */
  public Path file() {
    return file;
  }

  /** Every node of the file, initial and spare, in file order. */
  public List<Entry> entries() {
    return List.copyOf(entries.values());
  }

  /** The node {@code id}, if the file has it. */
  public Optional<Entry> entry(NodeId id) {
    return Optional.ofNullable(entries.get(id));
  }

  /** The initial membership: the transport addresses of the nodes not marked spare. */
  public Membership initialMembership() {
    Map<NodeId, NodeAddress> m = new LinkedHashMap<>();
    entries.values().stream().filter(e -> !e.spare()).forEach(e -> m.put(e.id(), e.transport()));
    return Membership.of(m);
  }

  /** The client (request receiver) addresses of the nodes not marked spare. */
  public Map<NodeId, NodeAddress> clientAddresses() {
    Map<NodeId, NodeAddress> m = new LinkedHashMap<>();
    entries.values().stream().filter(e -> !e.spare()).forEach(e -> m.put(e.id(), e.client()));
    return m;
  }

  /** The public keys of all nodes, initial and spare (SubjectPublicKeyInfo DER). */
  public Map<NodeId, ByteString> publicKeys() {
    Map<NodeId, ByteString> m = new LinkedHashMap<>();
    entries.values().forEach(e -> m.put(e.id(), e.publicKey()));
    return m;
  }

  /**
   * Mutual TLS for node {@code identity.id()}, accepting every node of the file (spares included).
   *
   * @throws IllegalArgumentException if the identity's key is not the key the file gives its node
   */
  public Security.MutualTls security(NodeIdentity identity) {
    return Security.mutualTls(identity, publicKeys());
  }

  /**
   * ECDSA crypto that signs with {@code pkcs8} and knows the key of every node of the file.
   *
   * @throws InvalidKeyException if the private key is not a P-256 key
   */
  public EcdsaCrypto crypto(ByteString pkcs8) throws InvalidKeyException {
    EcdsaCrypto c = EcdsaCrypto.fromPrivateKey(pkcs8);
    for (Entry e : entries.values()) {
      c.registerNodeKey(e.id(), e.publicKey());
    }
    return c;
  }

  /**
   * The identity of node {@code id}: its certificate from this file and the private key in {@code
   * privateKeyFile} (PEM, PKCS#8).
   *
   * @throws IOException naming the file if the key cannot be read or does not match the
   *     certificate, or if the file has no node {@code id}
   */
  public NodeIdentity identity(NodeId id, Path privateKeyFile) throws IOException {
    Entry e =
        entry(id).orElseThrow(() -> new MembershipFileException(file, 0, null, "no node " + id));
    ByteString pkcs8 = KeyFiles.readPrivateKey(privateKeyFile);
    try {
      return new NodeIdentity(id, e.certificate(), Certificates.privateKey(pkcs8));
    } catch (IllegalArgumentException ex) {
      throw new IOException(
          privateKeyFile + " is not the key of " + e.certificateFile() + ": " + ex.getMessage(),
          ex);
    }
  }

  /**
   * The conventional private key file of node {@code id}: {@code node-<id>.key} next to the
   * membership file (where {@code keygen} writes it).
   */
  public Path defaultPrivateKeyFile(NodeId id) {
    return file.toAbsolutePath().getParent().resolve("node-" + id.value() + ".key");
  }

  /**
   * The conventional clients file of this system: {@link ClientsFile#DEFAULT_FILE_NAME} next to the
   * membership file (where {@code keygen} writes it).
   */
  public Path defaultClientsFile() {
    return file.toAbsolutePath().getParent().resolve(ClientsFile.DEFAULT_FILE_NAME);
  }
}
