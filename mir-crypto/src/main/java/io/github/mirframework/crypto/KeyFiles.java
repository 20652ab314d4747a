package io.github.mirframework.crypto;

import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.InvalidKeyException;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.x509.Certificate;

/**
 * Reads and writes P-256 keys as PEM files (Mir's {@code PrivKeyFromFile} and {@code
 * PubKeyFromFile}).
 *
 * <p>Private keys are {@code PRIVATE KEY} blocks holding PKCS#8 DER; public keys are {@code PUBLIC
 * KEY} blocks holding SubjectPublicKeyInfo DER, the formats of {@code openssl genpkey}/{@code
 * openssl pkey -pubout} and of Go's {@code x509} package. When reading, a public key may also come
 * from a {@code CERTIFICATE} block, and a private key is taken from the first block whose label
 * contains {@code PRIVATE KEY} and whose contents are a PKCS#8 P-256 key, as in Mir. Every key read
 * is decoded and checked, and returned in canonical encoding.
 *
 * <p>Every error names the file and says what was wrong. Files larger than {@link #MAX_FILE_SIZE}
 * are refused without being read. The methods are stateless and thread-safe; they block on file
 * I/O.
 */
public final class KeyFiles {
  /** The largest key file accepted, in bytes. */
  public static final long MAX_FILE_SIZE = 1 << 20;

  /** The PEM label of a PKCS#8 private key. */
  public static final String PRIVATE_KEY_TYPE = "PRIVATE KEY";

  /** The PEM label of a SubjectPublicKeyInfo public key. */
  public static final String PUBLIC_KEY_TYPE = "PUBLIC KEY";

  /** The PEM label of an X.509 certificate. */
  public static final String CERTIFICATE_TYPE = "CERTIFICATE";

  private KeyFiles() {}

  /**
   * Reads a private key.
   *
   * @return the key as PKCS#8 DER, ready for {@link EcdsaCrypto#fromPrivateKey}
   * @throws IOException if the file cannot be read or holds no usable P-256 private key; the
   *     message names the file and, for each candidate block, why it was not usable
   */
  public static ByteString readPrivateKey(Path file) throws IOException {
    List<Pem.Block> blocks = readBlocks(file);
    List<String> problems = new ArrayList<>();
    for (Pem.Block block : blocks) {
      if (!block.type().contains(PRIVATE_KEY_TYPE)) {
        continue;
      }
      if (block.hasHeaders()) {
        problems.add(where(block) + "has PEM headers (encrypted keys are not supported)");
        continue;
      }
      try {
        return ByteString.copyFrom(P256Keys.encodePrivate(P256Keys.decodePrivate(block.der())));
      } catch (InvalidKeyException e) {
        problems.add(where(block) + e.getMessage());
      }
    }
    if (problems.isEmpty()) {
      throw new IOException(
          file + ": no " + PRIVATE_KEY_TYPE + " block found" + foundTypes(blocks));
    }
    throw new IOException(file + ": no usable private key: " + String.join("; ", problems));
  }

  /**
   * Reads a public key from the first PEM block of a file, which must be a {@code PUBLIC KEY} or a
   * {@code CERTIFICATE}.
   *
   * @return the key as SubjectPublicKeyInfo DER, ready for {@link EcdsaCrypto#registerNodeKey}
   * @throws IOException if the file cannot be read or its first block is not a P-256 public key or
   *     certificate; the message names the file and says why
   */
  public static ByteString readPublicKey(Path file) throws IOException {
    List<Pem.Block> blocks = readBlocks(file);
    if (blocks.isEmpty()) {
      throw new IOException(file + ": no PEM block found");
    }
    Pem.Block block = blocks.get(0);
    byte[] spki;
    switch (block.type()) {
      case PUBLIC_KEY_TYPE -> spki = block.der();
      case CERTIFICATE_TYPE -> {
        try {
          spki = Certificate.getInstance(block.der()).getSubjectPublicKeyInfo().getEncoded("DER");
        } catch (IOException | RuntimeException e) {
          throw new IOException(
              file + ": " + where(block) + "is not an X.509 certificate: " + P256Keys.describe(e),
              e);
        }
      }
      default ->
          throw new IOException(
              file
                  + ": "
                  + where(block)
                  + "expected "
                  + PUBLIC_KEY_TYPE
                  + " or "
                  + CERTIFICATE_TYPE);
    }
    try {
      return ByteString.copyFrom(P256Keys.encodePublic(P256Keys.decodePublic(spki)));
    } catch (InvalidKeyException e) {
      throw new IOException(file + ": " + where(block) + e.getMessage(), e);
    }
  }

  /**
   * Writes a private key as a {@code PRIVATE KEY} PEM file, replacing any existing file. The file
   * is written under a temporary name and then renamed, so readers never see half a key; where the
   * file system supports POSIX permissions, only the owner may read it.
   *
   * @param pkcs8 the key as PKCS#8 DER
   * @throws IllegalArgumentException if {@code pkcs8} is not a P-256 private key (nothing is
   *     written)
   * @throws IOException if writing fails
   */
  public static void writePrivateKey(Path file, ByteString pkcs8) throws IOException {
    try {
      P256Keys.decodePrivate(pkcs8.toByteArray());
    } catch (InvalidKeyException e) {
      throw new IllegalArgumentException(
          "refusing to write an invalid private key: " + e.getMessage(), e);
    }
    writeAtomically(file, toPem(PRIVATE_KEY_TYPE, pkcs8), true);
  }

  /**
   * Writes a public key as a {@code PUBLIC KEY} PEM file, replacing any existing file (written
   * under a temporary name, then renamed).
   *
   * @param spki the key as SubjectPublicKeyInfo DER
   * @throws IllegalArgumentException if {@code spki} is not a P-256 public key (nothing is written)
   * @throws IOException if writing fails
   */
  public static void writePublicKey(Path file, ByteString spki) throws IOException {
    try {
      P256Keys.decodePublic(spki.toByteArray());
    } catch (InvalidKeyException e) {
      throw new IllegalArgumentException(
          "refusing to write an invalid public key: " + e.getMessage(), e);
    }
    writeAtomically(file, toPem(PUBLIC_KEY_TYPE, spki), false);
  }

  /** Returns the PEM text of {@code der} under the label {@code type}, with 64-character lines. */
  public static String toPem(String type, ByteString der) {
    return Pem.encode(type, der.toByteArray());
  }

  private static List<Pem.Block> readBlocks(Path file) throws IOException {
    long size = Files.size(file);
    if (size > MAX_FILE_SIZE) {
      throw new IOException(
          file + ": " + size + " bytes is too large for a key file (limit " + MAX_FILE_SIZE + ")");
    }
    // ISO-8859-1 maps every byte to a character, so binary garbage cannot fail decoding; it just
    // has no PEM blocks.
    String text = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
    try {
      return Pem.decode(text);
    } catch (IllegalArgumentException e) {
      throw new IOException(file + ": malformed PEM: " + e.getMessage(), e);
    }
  }

  private static String where(Pem.Block block) {
    return block.type() + " block at line " + block.line() + ": ";
  }

  private static String foundTypes(List<Pem.Block> blocks) {
    if (blocks.isEmpty()) {
      return " (the file has no PEM blocks)";
    }
    List<String> types = new ArrayList<>();
    for (Pem.Block b : blocks) {
      types.add(b.type());
    }
    return " (found " + String.join(", ", types) + ")";
  }

  private static void writeAtomically(Path file, String content, boolean ownerOnly)
      throws IOException {
    Path absolute = file.toAbsolutePath();
    Path dir = absolute.getParent();
    boolean posix = dir.getFileSystem().supportedFileAttributeViews().contains("posix");
    FileAttribute<?>[] attrs =
        posix
            ? new FileAttribute<?>[] {
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))
            }
            : new FileAttribute<?>[0];
    // Created owner-only, so a private key is never readable by others, not even briefly.
    Path tmp = Files.createTempFile(dir, "." + absolute.getFileName(), ".tmp", attrs);
    try {
      Files.writeString(tmp, content, StandardCharsets.US_ASCII);
      if (posix && !ownerOnly) {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
      }
      try {
        Files.move(
            tmp, absolute, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException | FileAlreadyExistsException e) {
        Files.move(tmp, absolute, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }
}
