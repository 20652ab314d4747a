package io.github.mirframework.trantor;

import com.google.protobuf.ByteString;
import io.github.mirframework.client.ClientRegistry;
import io.github.mirframework.crypto.EcdsaCrypto;
import io.github.mirframework.crypto.EncodedKeyPair;
import io.github.mirframework.crypto.KeyFiles;
import io.github.mirframework.types.ClientId;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.InvalidKeyException;
import java.security.SecureRandom;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A clients file: the clients a Trantor system accepts requests from, each with its ECDSA P-256
 * public key, one client per line (format in {@code docs/trantor-system.md}):
 *
 * <pre>
 * # client ID   public key
 * client-0      client-0.pub
 * client-1      client-1.pub
 * </pre>
 *
 * <p>The public key is a PEM file ({@code PUBLIC KEY}, or a certificate), relative to the clients
 * file's directory unless absolute. Every replica of a system must load the same clients: the
 * resulting {@link #registry()} decides which ordered requests are applied (ADR 0005). A client's
 * private key is not in the file; by convention it is {@code <client ID>.key} next to it ({@link
 * #defaultPrivateKeyFile}). Immutable and thread-safe.
 */
public final class ClientsFile {
  /** The largest clients file accepted, in bytes. */
  public static final long MAX_FILE_BYTES = 1 << 20;

  /** The name of the clients file {@link #generate} writes, next to the membership file. */
  public static final String DEFAULT_FILE_NAME = "clients";

  /**
   * One client of the file.
   *
   * @param id the client ID
   * @param publicKeyFile the public key file, resolved against the clients file's directory
   * @param publicKey the client's public key (SubjectPublicKeyInfo DER, canonical encoding)
   */
  public record Entry(ClientId id, Path publicKeyFile, ByteString publicKey) {
    /** Checks that nothing is missing. */
    public Entry {
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(publicKeyFile, "publicKeyFile");
      Objects.requireNonNull(publicKey, "publicKey");
    }
  }

  private final Path file;
  private final Map<ClientId, Entry> entries;

  private ClientsFile(Path file, Map<ClientId, Entry> entries) {
    this.file = file;
    this.entries = entries;
  }

  /**
   * Loads and validates a clients file. A file with no client is valid (a system that accepts no
   * client requests).
   *
   * @throws MembershipFileException naming file, line and field if the content is invalid: wrong
   *     number of fields, a client ID that is not a file-name-safe word, a duplicate client ID, an
   *     unreadable public key file or one that holds no P-256 public key, or two clients with the
   *     same key
   * @throws IOException if the file cannot be read
   */
  public static ClientsFile load(Path file) throws IOException {
    List<LineFile.Line> lines = LineFile.read(file, MAX_FILE_BYTES);
    Path base = file.toAbsolutePath().getParent();
    Map<ClientId, Entry> entries = new LinkedHashMap<>();
    Map<ByteString, ClientId> keyOwners = new HashMap<>();
    for (LineFile.Line line : lines) {
      line.requireFields(2, 2, "expected 2 fields (client ID, public key file)");
      String idProblem = checkClientId(line.field(0));
      if (idProblem != null) {
        throw line.error("client ID", idProblem);
      }
      ClientId id = ClientId.of(line.field(0));
      if (entries.containsKey(id)) {
        throw line.error("client ID", "duplicate client ID " + id);
      }
      Path keyFile = base.resolve(line.field(1));
      ByteString key;
      try {
        key = KeyFiles.readPublicKey(keyFile);
      } catch (NoSuchFileException e) {
        throw line.error("public key", "no such file: " + keyFile);
      } catch (IOException e) {
        throw line.error("public key", e.getMessage());
      }
      ClientId keyOwner = keyOwners.putIfAbsent(key, id);
      if (keyOwner != null) {
        throw line.error("public key", "client " + keyOwner + " has the same public key");
      }
      entries.put(id, new Entry(id, keyFile, key));
    }
    return new ClientsFile(file, Collections.unmodifiableMap(entries));
  }

  /**
   * Why {@code id} cannot be a client ID of a clients file, or {@code null} if it can: it must be 1
   * to 64 letters, digits, '.', '_' or '-', not starting with '.', since it names the client's key
   * files.
   */
  public static String checkClientId(String id) {
    if (id.isEmpty() || id.length() > 64) {
      return "'" + id + "' must have 1 to 64 characters";
    }
    if (!id.matches("[A-Za-z0-9._-]+") || id.startsWith(".")) {
      return "'" + id + "' cannot be used in a file name (letters, digits, . _ - only)";
    }
    return null;
  }

  /**
   * Generates a fresh ECDSA P-256 key pair for every client and writes into {@code directory}:
   * {@code <client ID>.key} (PKCS#8 PEM, readable by the owner only where the file system allows),
   * {@code <client ID>.pub} (PEM) and the clients file {@link #DEFAULT_FILE_NAME}, which is then
   * loaded (and so validated) and returned. Existing files of the same names are replaced.
   *
   * @throws IllegalArgumentException if a client ID is duplicate or not file-name-safe (nothing is
   *     written)
   * @throws IOException if a file cannot be written
   */
  public static ClientsFile generate(Path directory, List<ClientId> clients, SecureRandom random)
      throws IOException {
    Objects.requireNonNull(directory, "directory");
    Objects.requireNonNull(clients, "clients");
    Objects.requireNonNull(random, "random");
    Set<ClientId> seen = new HashSet<>();
    for (ClientId c : clients) {
      String problem = checkClientId(c.value());
      if (problem != null) {
        throw new IllegalArgumentException("client ID " + problem);
      }
      if (!seen.add(c)) {
        throw new IllegalArgumentException("duplicate client ID " + c);
      }
    }
    Files.createDirectories(directory);
    StringBuilder text =
        new StringBuilder()
            .append("# Mir-Java clients file (docs/trantor-system.md)\n")
            .append("# client ID  public key\n");
    for (ClientId c : clients) {
      EncodedKeyPair keys = EcdsaCrypto.generateKeyPair(random);
      KeyFiles.writePrivateKey(directory.resolve(c.value() + ".key"), keys.privateKey());
      KeyFiles.writePublicKey(directory.resolve(c.value() + ".pub"), keys.publicKey());
      text.append(c.value()).append(' ').append(c.value()).append(".pub\n");
    }
    Path file = directory.resolve(DEFAULT_FILE_NAME);
    Files.writeString(file, text);
    return load(file);
  }

  /** The file this was loaded from. */
  public Path file() {
    return file;
  }

  /** Every client of the file, in file order. */
  public List<Entry> entries() {
    return List.copyOf(entries.values());
  }

  /** The client {@code id}, if the file has it. */
  public Optional<Entry> entry(ClientId id) {
    return Optional.ofNullable(entries.get(id));
  }

  /** The public keys of all clients (SubjectPublicKeyInfo DER). */
  public Map<ClientId, ByteString> publicKeys() {
    Map<ClientId, ByteString> m = new LinkedHashMap<>();
    entries.values().forEach(e -> m.put(e.id(), e.publicKey()));
    return m;
  }

  /** A registry of every client of the file, for the replicas and their request receivers. */
  public ClientRegistry registry() {
    try {
      return ClientRegistry.of(publicKeys());
    } catch (InvalidKeyException e) {
      // load() accepted only P-256 public keys.
      throw new IllegalStateException("a validated key was refused: " + e.getMessage(), e);
    }
  }

  /**
   * The conventional private key file of client {@code id}: {@code <id>.key} next to the clients
   * file (where {@link #generate} writes it).
   */
  public Path defaultPrivateKeyFile(ClientId id) {
    return file.toAbsolutePath().getParent().resolve(id.value() + ".key");
  }

  /**
   * The key pair of client {@code id}: the private key in {@code privateKeyFile} (PEM, PKCS#8) and
   * the public key this file registers for the client.
   *
   * @throws IOException naming the files if the client is not in this file, or the key cannot be
   *     read or is not the client's registered key
   */
  public EncodedKeyPair keyPair(ClientId id, Path privateKeyFile) throws IOException {
    Entry e =
        entry(id).orElseThrow(() -> new MembershipFileException(file, 0, null, "no client " + id));
    ByteString pkcs8 = KeyFiles.readPrivateKey(privateKeyFile);
    ByteString derived;
    try {
      derived = EcdsaCrypto.fromPrivateKey(pkcs8).publicKey();
    } catch (InvalidKeyException ex) {
      throw new IOException(privateKeyFile + ": " + ex.getMessage(), ex);
    }
    if (!derived.equals(e.publicKey())) {
      throw new IOException(
          privateKeyFile + " is not the key of client " + id + " (" + e.publicKeyFile() + ")");
    }
    return new EncodedKeyPair(pkcs8, e.publicKey());
  }
}
