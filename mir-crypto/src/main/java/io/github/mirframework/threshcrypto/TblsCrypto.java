package io.github.mirframework.threshcrypto;

import com.google.protobuf.ByteString;
import io.github.mirframework.crypto.VerificationResult;
import io.github.mirframework.crypto.internal.Digests;
import io.github.mirframework.types.NodeId;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;
import org.bouncycastle.util.BigIntegers;
import supranational.blst.BLST_ERROR;
import supranational.blst.P1_Affine;
import supranational.blst.P2_Affine;
import supranational.blst.SecretKey;

/**
 * Threshold BLS signatures on BLS12-381 with keys from a trusted dealer (Mir's {@code TBLSInst}).
 *
 * <p><b>Scheme.</b> The dealer picks a random polynomial {@code f} of degree {@code t−1} over the
 * integers mod the group order {@code r}; the group's private key is {@code f(0)} and member {@code
 * i} (0-based, in membership order) gets the share {@code f(i+1)}. The dealer publishes commitments
 * {@code C_j = a_j·G1} to the coefficients; the group public key is {@code C_0}, and anyone can
 * compute member {@code i}'s public key share {@code Σ C_j·(i+1)^j}. The signed message is SHA-256
 * of the concatenation of the data chunks; a share is a BLS signature on it (public keys in G1,
 * signatures in G2, the IETF basic scheme's hash-to-curve), and {@code t} shares from distinct
 * members combine by Lagrange interpolation at 0 into the ordinary BLS signature of the group key.
 *
 * <p><b>Deviations from Mir.</b> Mir (kyber) puts signatures in G1 and keys in G2; this
 * implementation puts them the other way round, the variant verified with jblst. Byte formats
 * therefore differ from Go Mir's: a signature share is the member index as 2 bytes big-endian
 * followed by the 96-byte compressed G2 signature (Mir's layout, with other point bytes); a full
 * signature is the 96-byte compressed G2 point. {@link #recover} checks the recovered signature
 * against the group key before returning it, so a bad share yields a failure, never an invalid
 * signature.
 *
 * <p><b>Dependency.</b> The BLS arithmetic comes from {@code tech.pegasys:jblst} (blst with bundled
 * native libraries), an <em>optional</em> dependency of mir-crypto: applications that use this
 * class must depend on jblst themselves and allow native access ({@code
 * --enable-native-access=ALL-UNNAMED} on JDK 24+). The rest of mir-crypto, including {@link
 * ThreshCryptoModule} and {@link DummyThreshCrypto}, works without it.
 *
 * <p>Immutable and thread-safe.
 */
public final class TblsCrypto implements ThreshCrypto {
  /** Mir's default seed for pseudo keys ({@code DefaultPseudoSeed}). */
  public static final long DEFAULT_PSEUDO_SEED = 12345;

  /** The length of a signature share: a 2-byte member index and a compressed G2 point. */
  public static final int SHARE_LENGTH = 2 + Bls.SIGNATURE_LENGTH;

  /** The length of a full signature: a compressed G2 point. */
  public static final int SIGNATURE_LENGTH = Bls.SIGNATURE_LENGTH;

  /** The largest group: member indices are encoded in 2 bytes. */
  public static final int MAX_MEMBERS = 0xFFFF;

  private static final byte[] MAGIC = "mirtbls1".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] SEED_LABEL =
      "mir-java insecure TBLS dealer".getBytes(StandardCharsets.US_ASCII);

  private final int threshold;
  private final List<NodeId> members;
  private final Map<NodeId, Integer> indices;
  private final P1_Affine[] commitments;
  private final P1_Affine[] shareKeys;
  private final int ownIndex;
  private final BigInteger ownShare;
  private final SecretKey ownKey;

  private TblsCrypto(
      int threshold,
      List<NodeId> members,
      P1_Affine[] commitments,
      P1_Affine[] shareKeys,
      int ownIndex,
      BigInteger ownShare) {
    this.threshold = threshold;
    this.members = List.copyOf(members);
    this.indices = new HashMap<>();
    for (int i = 0; i < members.size(); i++) {
      indices.put(members.get(i), i);
    }
    this.commitments = commitments;
    this.shareKeys = shareKeys;
    this.ownIndex = ownIndex;
    this.ownShare = ownShare;
    this.ownKey = Bls.secretKey(ownShare);
  }

  // ---- key generation ----

  /**
   * Deals keys for a {@code threshold}-of-{@code members.size()} group (Mir's {@code
   * TBLS12381Keygen}).
   *
   * @param threshold how many shares make a signature, {@code 1 <= threshold <= members.size()}
   * @param members the group, in the order that defines member indices; distinct, at most {@link
   *     #MAX_MEMBERS}
   * @param random the dealer's randomness
   * @return one instance per member, in the order of {@code members}
   */
  public static List<TblsCrypto> keygen(int threshold, List<NodeId> members, SecureRandom random) {
    Objects.requireNonNull(random, "random");
    BigInteger max = Bls.R.subtract(BigInteger.ONE);
    return deal(
        threshold, members, () -> BigIntegers.createRandomInRange(BigInteger.ONE, max, random));
  }

  /**
   * Deals keys deterministically from {@code seed}. <b>Insecure, for tests and demos only:</b>
   * anyone who knows the seed knows every key. Every node calling this with the same arguments gets
   * the same keys, so no key distribution is needed. The keys differ from the ones Go Mir derives
   * from the same seed.
   *
   * @see #keygen(int, List, SecureRandom)
   */
  public static List<TblsCrypto> keygen(int threshold, List<NodeId> members, long seed) {
    return deal(threshold, members, seededScalars(seed));
  }

  /**
   * Returns node {@code ownId}'s instance of the keys dealt from {@code seed} (Mir's {@code
   * TBLSPseudo}). Insecure, for tests and demos only.
   *
   * @throws IllegalArgumentException if {@code ownId} is not among {@code members}
   */
  public static TblsCrypto pseudo(List<NodeId> members, int threshold, NodeId ownId, long seed) {
    int own = members.indexOf(ownId);
    if (own < 0) {
      throw new IllegalArgumentException(
          "own ID " + ownId + " is not among the members " + members);
    }
    return keygen(threshold, members, seed).get(own);
  }

  private static List<TblsCrypto> deal(
      int threshold, List<NodeId> members, Supplier<BigInteger> scalars) {
    checkGroup(threshold, members);
    int n = members.size();
    BigInteger[] coefficients = new BigInteger[threshold];
    P1_Affine[] commitments = new P1_Affine[threshold];
    for (int j = 0; j < threshold; j++) {
      coefficients[j] = scalars.get();
      commitments[j] = Bls.publicKey(coefficients[j]);
    }
    P1_Affine[] shareKeys = new P1_Affine[n];
    BigInteger[] shares = new BigInteger[n];
    for (int i = 0; i < n; i++) {
      shares[i] = Bls.evalPolynomial(coefficients, i + 1L);
      if (shares[i].signum() == 0) {
        // Happens with probability n/r: negligible, but a zero share would be a useless key.
        throw new IllegalStateException("dealt a zero key share; deal again with other randomness");
      }
      shareKeys[i] = Bls.publicKey(shares[i]);
    }
    List<TblsCrypto> instances = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      instances.add(new TblsCrypto(threshold, members, commitments, shareKeys, i, shares[i]));
    }
    return List.copyOf(instances);
  }

  private static Supplier<BigInteger> seededScalars(long seed) {
    MessageDigest sha256 = Digests.newSha256();
    long[] counter = {0};
    return () -> {
      while (true) {
        sha256.update(SEED_LABEL);
        sha256.update(
            ByteBuffer.allocate(16)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putLong(seed)
                .putLong(counter[0]++)
                .array());
        byte[] h = sha256.digest();
        h[0] &= 0x7f; // 255 bits: about 90% of the candidates are below r
        BigInteger x = new BigInteger(1, h);
        if (x.signum() > 0 && x.compareTo(Bls.R) < 0) {
          return x;
        }
      }
    };
  }

  private static void checkGroup(int threshold, List<NodeId> members) {
    int n = members.size();
    if (n < 1 || n > MAX_MEMBERS) {
      throw new IllegalArgumentException(
          "group size must be in [1, " + MAX_MEMBERS + "], got " + n);
    }
    if (threshold < 1 || threshold > n) {
      throw new IllegalArgumentException(
          "threshold must be in [1, " + n + "] for " + n + " members, got " + threshold);
    }
    if (new HashSet<>(members).size() != n) {
      throw new IllegalArgumentException("members must be distinct: " + members);
    }
  }

  // ---- accessors ----

  /** How many shares make a full signature. */
  public int threshold() {
    return threshold;
  }

  /** The group, in the order that defines member indices. */
  public List<NodeId> members() {
    return members;
  }

  /** The member whose key share this instance holds. */
  public NodeId ownId() {
    return members.get(ownIndex);
  }

  /** The group public key: a 48-byte compressed G1 point. */
  public ByteString groupPublicKey() {
    return ByteString.copyFrom(commitments[0].compress());
  }

  // ---- ThreshCrypto ----

  @Override
  public ByteString signShare(List<ByteString> data) {
    byte[] sig = Bls.sign(ownKey, Digests.sha256(data)).compress();
    byte[] share = new byte[SHARE_LENGTH];
    share[0] = (byte) (ownIndex >>> 8);
    share[1] = (byte) ownIndex;
    System.arraycopy(sig, 0, share, 2, sig.length);
    return ByteString.copyFrom(share);
  }

  @Override
  public VerificationResult verifyShare(
      List<ByteString> data, ByteString signatureShare, NodeId nodeId) {
    Integer index = nodeId == null ? null : indices.get(nodeId);
    if (index == null) {
      return VerificationResult.invalid("node " + nodeId + " is not a member of the group");
    }
    if (signatureShare.size() != SHARE_LENGTH) {
      return VerificationResult.invalid(
          "signature share has " + signatureShare.size() + " bytes, expected " + SHARE_LENGTH);
    }
    int shareIndex = shareIndex(signatureShare);
    if (shareIndex != index) {
      return VerificationResult.invalid(
          "signature share belongs to member #"
              + shareIndex
              + ", not to node "
              + nodeId
              + " (#"
              + index
              + ")");
    }
    P2_Affine sig;
    try {
      sig = Bls.decodeSignature(signatureShare.substring(2).toByteArray());
    } catch (IllegalArgumentException e) {
      return VerificationResult.invalid("malformed signature share: " + e.getMessage());
    }
    BLST_ERROR err = Bls.verify(sig, shareKeys[index], Digests.sha256(data));
    return err == null
        ? VerificationResult.ok()
        : VerificationResult.invalid(
            "signature share of node " + nodeId + " does not verify (" + err + ")");
  }

  @Override
  public VerificationResult verifyFull(List<ByteString> data, ByteString signature) {
    P2_Affine sig;
    try {
      sig = Bls.decodeSignature(signature.toByteArray());
    } catch (IllegalArgumentException e) {
      return VerificationResult.invalid("malformed signature: " + e.getMessage());
    }
    BLST_ERROR err = Bls.verify(sig, commitments[0], Digests.sha256(data));
    return err == null
        ? VerificationResult.ok()
        : VerificationResult.invalid("signature does not verify under the group key (" + err + ")");
  }

  @Override
  public RecoveryResult recover(List<ByteString> data, List<ByteString> signatureShares) {
    // As in Mir, the first t usable shares of distinct members are used; later ones are ignored.
    long[] xs = new long[threshold];
    P2_Affine[] ys = new P2_Affine[threshold];
    boolean[] seen = new boolean[members.size()];
    int usable = 0;
    int duplicates = 0;
    List<String> problems = new ArrayList<>();
    for (int k = 0; k < signatureShares.size() && usable < threshold; k++) {
      ByteString share = signatureShares.get(k);
      if (share.size() != SHARE_LENGTH) {
        problems.add("share " + k + " has " + share.size() + " bytes");
        continue;
      }
      int index = shareIndex(share);
      if (index >= members.size()) {
        problems.add("share " + k + " has member index " + index + " of " + members.size());
        continue;
      }
      if (seen[index]) {
        duplicates++;
        continue;
      }
      try {
        ys[usable] = Bls.decodeSignature(share.substring(2).toByteArray());
      } catch (IllegalArgumentException e) {
        problems.add("share " + k + " is malformed: " + e.getMessage());
        continue;
      }
      seen[index] = true;
      xs[usable] = index + 1L;
      usable++;
    }
    if (usable < threshold) {
      StringBuilder msg =
          new StringBuilder("need signature shares of ")
              .append(threshold)
              .append(" distinct members, got ")
              .append(usable);
      if (duplicates > 0) {
        msg.append(" (").append(duplicates).append(" duplicates ignored)");
      }
      if (!problems.isEmpty()) {
        msg.append("; ").append(String.join("; ", problems));
      }
      return RecoveryResult.failure(msg.toString());
    }
    P2_Affine full = Bls.interpolateAtZero(xs, ys);
    if (Bls.verify(full, commitments[0], Digests.sha256(data)) != null) {
      return RecoveryResult.failure(
          "the recovered signature does not verify: at least one share is invalid for this data");
    }
    return RecoveryResult.success(ByteString.copyFrom(full.compress()));
  }

  private static int shareIndex(ByteString share) {
    return ((share.byteAt(0) & 0xff) << 8) | (share.byteAt(1) & 0xff);
  }

  // ---- serialization ----

  /**
   * Returns this instance's keys in a binary form that {@link #fromBytes} reads back (Mir's {@code
   * MarshalTo}, with our own points and a format tag). It contains this member's private key share:
   * keep it secret.
   *
   * <p>Layout (integers big-endian): the 8 ASCII bytes {@code mirtbls1}; threshold (int64); number
   * of members n (int64); for each member, the length (int64) and UTF-8 bytes of its ID; number of
   * commitments (int64, = threshold); each commitment as a 48-byte compressed G1 point; this
   * member's index (int64); its key share (32 bytes).
   */
  public ByteString toBytes() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.write(MAGIC);
      out.writeLong(threshold);
      out.writeLong(members.size());
      for (NodeId m : members) {
        byte[] id = m.value().getBytes(StandardCharsets.UTF_8);
        out.writeLong(id.length);
        out.write(id);
      }
      out.writeLong(commitments.length);
      for (P1_Affine c : commitments) {
        out.write(c.compress());
      }
      out.writeLong(ownIndex);
      out.write(Bls.toBytes32(ownShare));
    } catch (IOException e) {
      throw new IllegalStateException("writing to memory failed", e);
    }
    return ByteString.copyFrom(bytes.toByteArray());
  }

  /**
   * Reads an instance written by {@link #toBytes} (Mir's {@code UnmarshalFrom}), checking every
   * field: the format tag, the group parameters, that every point is a valid group element, and
   * that the private share matches the public commitments.
   *
   * @throws InvalidKeyException saying what is wrong, with the byte offset where decoding stopped
   */
  public static TblsCrypto fromBytes(ByteString bytes) throws InvalidKeyException {
    ByteBuffer in = bytes.asReadOnlyByteBuffer();
    try {
      return read(in);
    } catch (BufferUnderflowException e) {
      throw new InvalidKeyException("TBLS key data truncated at byte " + in.position(), e);
    } catch (IllegalArgumentException e) {
      throw new InvalidKeyException(
          "invalid TBLS key data at byte " + in.position() + ": " + e.getMessage(), e);
    }
  }

  private static TblsCrypto read(ByteBuffer in) {
    byte[] magic = new byte[MAGIC.length];
    in.get(magic);
    if (!Arrays.equals(magic, MAGIC)) {
      throw new IllegalArgumentException("not TBLS key data (unknown format tag)");
    }
    int threshold = readCount(in, "threshold", MAX_MEMBERS);
    int n = readCount(in, "number of members", MAX_MEMBERS);
    List<NodeId> members = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      int len = readCount(in, "length of member ID", in.remaining());
      byte[] id = new byte[len];
      in.get(id);
      try {
        members.add(
            NodeId.of(
                StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(id))
                    .toString()));
      } catch (CharacterCodingException e) {
        throw new IllegalArgumentException("member ID " + i + " is not UTF-8", e);
      }
    }
    checkGroup(threshold, members);
    int numCommitments = readCount(in, "number of commitments", MAX_MEMBERS);
    if (numCommitments != threshold) {
      throw new IllegalArgumentException(
          numCommitments + " commitments for threshold " + threshold);
    }
    P1_Affine[] commitments = new P1_Affine[numCommitments];
    for (int j = 0; j < numCommitments; j++) {
      byte[] point = new byte[Bls.PUBLIC_KEY_LENGTH];
      in.get(point);
      try {
        commitments[j] = Bls.decodePublicKey(point);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("commitment " + j + ": " + e.getMessage(), e);
      }
    }
    int ownIndex = readCount(in, "own member index", n - 1);
    byte[] shareBytes = new byte[Bls.SCALAR_LENGTH];
    in.get(shareBytes);
    BigInteger share = new BigInteger(1, shareBytes);
    if (share.signum() == 0 || share.compareTo(Bls.R) >= 0) {
      throw new IllegalArgumentException("key share is not in [1, r-1]");
    }
    if (in.hasRemaining()) {
      throw new IllegalArgumentException(in.remaining() + " unexpected trailing bytes");
    }
    P1_Affine[] shareKeys = new P1_Affine[n];
    for (int i = 0; i < n; i++) {
      shareKeys[i] = Bls.evalCommitments(commitments, i + 1L);
    }
    if (!Bls.publicKey(share).is_equal(shareKeys[ownIndex])) {
      throw new IllegalArgumentException("the key share does not match the public commitments");
    }
    return new TblsCrypto(threshold, members, commitments, shareKeys, ownIndex, share);
  }

  private static int readCount(ByteBuffer in, String what, int max) {
    long v = in.getLong();
    if (v < 0 || v > max) {
      throw new IllegalArgumentException(what + " " + v + " is not in [0, " + max + "]");
    }
    return (int) v;
  }

  @Override
  public String toString() {
    return "TblsCrypto[" + threshold + " of " + members.size() + ", member " + ownId() + "]";
  }
}
