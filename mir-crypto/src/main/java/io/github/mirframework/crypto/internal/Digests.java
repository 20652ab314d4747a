package io.github.mirframework.crypto.internal;

import com.google.protobuf.ByteString;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;

/**
 * SHA-256 over the plain concatenation of byte chunks: the layout used for all signing and hashing
 * in Mir.
 */
public final class Digests {
  /** The length of a SHA-256 digest in bytes. */
  public static final int SHA256_LENGTH = 32;

  private Digests() {}

  /** Returns a new SHA-256 instance (every JDK has one). */
  public static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JDK has no SHA-256", e);
    }
  }

  /** Returns SHA-256 of the concatenation of {@code chunks} (no lengths, no separators). */
  public static byte[] sha256(List<ByteString> chunks) {
    return digest(newSha256(), chunks);
  }

  /**
   * Resets {@code md}, feeds it the chunks in order without copying them and returns the digest.
   */
  public static byte[] digest(MessageDigest md, List<ByteString> chunks) {
    md.reset();
    for (ByteString chunk : chunks) {
      md.update(chunk.asReadOnlyByteBuffer());
    }
    return md.digest();
  }
}
