package io.github.mirframework.checkpoint;

import com.google.protobuf.ByteString;
import io.github.mirframework.checkpoint.pb.EpochConfig;
import io.github.mirframework.checkpoint.pb.LeaderPolicy;
import io.github.mirframework.checkpoint.pb.Membership;
import io.github.mirframework.checkpoint.pb.StableCheckpoint;
import io.github.mirframework.checkpoint.pb.StateSnapshot;
import io.github.mirframework.checkpoint.pb.Suspicion;
import io.github.mirframework.clientprogress.ClientProgress;
import io.github.mirframework.crypto.Crypto;
import io.github.mirframework.crypto.CryptoEvents;
import io.github.mirframework.crypto.VerificationResult;
import io.github.mirframework.crypto.pb.SigVerItem;
import io.github.mirframework.types.EpochNr;
import io.github.mirframework.types.NodeId;
import io.github.mirframework.types.SeqNr;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Accessors and checks for stable checkpoints (Mir's {@code checkpoint.StableCheckpoint} methods
 * and {@code Genesis}), on the protobuf {@link StableCheckpoint}.
 *
 * <p>A stable checkpoint with sequence number {@code sn} holds the state after all sequence numbers
 * below {@code sn}; its epoch is the one it <em>starts</em> (the epoch number of its epoch config).
 * Its certificate maps node IDs to their signatures over {@link
 * SnapshotHashing#checkpointForSig}{@code (epoch, sn, snapshot hash)}.
 *
 * <p><b>Certificate verification</b> ({@link #verifyCert}) is done for real, as Mir's {@code
 * VerifyCert} does and unlike Mir's ISS state transfer (which checked over a dummy hash and ignored
 * the verdict): the snapshot must be well-formed ({@link #checkSnapshot}), at least f+1 (a weak
 * quorum, f = ⌊(n−1)/3⌋ for the n given members) signatures are required, every signer must be a
 * member, and every signature must be valid over the real snapshot hash. At least one correct node
 * then vouches for the snapshot. Stateless and thread-safe.
 */
public final class StableCheckpoints {
  /**
   * Largest accepted signature in a certificate or checkpoint message, in bytes: more than any
   * scheme in {@code mir-crypto} produces.
   */
  public static final int MAX_SIGNATURE_BYTES = 1024;

  private StableCheckpoints() {}

  /**
   * The checkpoint that starts epoch 0: sequence number 0, the given snapshot and an empty
   * certificate (always accepted by ISS, as there is no earlier membership to check it against).
   */
  public static StableCheckpoint genesis(StateSnapshot initialSnapshot) {
    return StableCheckpoint.newBuilder().setSn(0).setSnapshot(initialSnapshot).build();
  }

  /** The checkpoint's sequence number: the first sequence number it does not include. */
  public static SeqNr seqNr(StableCheckpoint sc) {
    return SeqNr.of(sc.getSn());
  }

  /** The epoch the checkpoint starts (the epoch number of its epoch config). */
  public static EpochNr epoch(StableCheckpoint sc) {
    return EpochNr.of(sc.getSnapshot().getEpochData().getEpochConfig().getEpochNr());
  }

  /** The memberships of the checkpoint's epoch and the following ones, in epoch order. */
  public static List<Membership> memberships(StableCheckpoint sc) {
    return sc.getSnapshot().getEpochData().getEpochConfig().getMembershipsList();
  }

  /** The node IDs of a membership, sorted. */
  public static List<NodeId> nodeIds(Membership m) {
    List<NodeId> ids = new ArrayList<>(m.getMembershipCount());
    for (String id : new TreeMap<>(m.getMembershipMap()).keySet()) {
      ids.add(NodeId.of(id));
    }
    return List.copyOf(ids);
  }

  /** The checkpoint's state snapshot. */
  public static StateSnapshot stateSnapshot(StableCheckpoint sc) {
    return sc.getSnapshot();
  }

  /**
   * The client progress in the checkpoint, as a tracker with the default window.
   *
   * @throws IllegalArgumentException if it is malformed
   */
  public static ClientProgress clientProgress(StableCheckpoint sc) {
    return ClientProgress.fromProto(sc.getSnapshot().getEpochData().getClientProgress());
  }

  /**
   * The client progress in the checkpoint, as a tracker with the given window (use the window the
   * batch fetcher tracks with).
   *
   * @throws IllegalArgumentException if it is malformed for that window
   */
  public static ClientProgress clientProgress(StableCheckpoint sc, long window) {
    return ClientProgress.fromProto(sc.getSnapshot().getEpochData().getClientProgress(), window);
  }

  /**
   * The certificate, sorted by node ID.
   *
   * @throws IllegalArgumentException if a key is not a valid node ID
   */
  public static SortedMap<NodeId, ByteString> certificate(StableCheckpoint sc) {
    SortedMap<NodeId, ByteString> cert = new TreeMap<>();
    sc.getCertMap().forEach((id, sig) -> cert.put(NodeId.of(id), sig));
    return Collections.unmodifiableSortedMap(cert);
  }

  /** A copy without certificate. */
  public static StableCheckpoint stripCert(StableCheckpoint sc) {
    return sc.toBuilder().clearCert().build();
  }

  /** A copy with {@code cert} as its certificate (replacing any previous one). */
  public static StableCheckpoint attachCert(StableCheckpoint sc, Map<NodeId, ByteString> cert) {
    StableCheckpoint.Builder b = sc.toBuilder().clearCert();
    cert.forEach((id, sig) -> b.putCert(id.value(), sig));
    return b.build();
  }

  /**
   * A copy whose certificate keeps only the signatures of {@code signers} (entries whose key is not
   * a valid node ID are dropped too).
   */
  public static StableCheckpoint restrictCert(StableCheckpoint sc, Collection<NodeId> signers) {
    Set<String> allowed = new HashSet<>();
    signers.forEach(n -> allowed.add(n.value()));
    StableCheckpoint.Builder b = sc.toBuilder().clearCert();
    sc.getCertMap()
        .forEach(
            (id, sig) -> {
              if (allowed.contains(id)) {
                b.putCert(id, sig);
              }
            });
    return b.build();
  }

  /** The number of Byzantine nodes tolerated among n: ⌊(n−1)/3⌋. */
  public static int maxFaulty(int n) {
    return (n - 1) / 3;
  }

  /** The strong quorum among n nodes: ⌊(n+f)/2⌋+1 (two of them share a correct node). */
  public static int strongQuorum(int n) {
    return (n + maxFaulty(n)) / 2 + 1;
  }

  /** The weak quorum among n nodes: f+1 (it contains a correct node). */
  public static int weakQuorum(int n) {
    return maxFaulty(n) + 1;
  }

  /**
   * Returns what is wrong with a snapshot's structure, or null: epoch data, epoch config and client
   * progress must be present, there must be at least one membership and none empty, node IDs must
   * be valid, and the client progress must be well-formed ({@link ClientProgress#check} with the
   * largest window).
   */
  public static String checkSnapshot(StateSnapshot snapshot) {
    if (!snapshot.hasEpochData()) {
      return "no epoch data";
    }
    if (!snapshot.getEpochData().hasEpochConfig()) {
      return "no epoch config";
    }
    if (!snapshot.getEpochData().hasClientProgress()) {
      return "no client progress";
    }
    EpochConfig config = snapshot.getEpochData().getEpochConfig();
    if (config.getEpochNr() < 0 || config.getFirstSn() < 0) {
      return "epoch or first sequence number too large";
    }
    if (config.getMembershipsCount() == 0) {
      return "no membership";
    }
    for (Membership m : config.getMembershipsList()) {
      if (m.getMembershipCount() == 0) {
        return "empty membership";
      }
      for (String id : m.getMembershipMap().keySet()) {
        try {
          NodeId.of(id);
        } catch (IllegalArgumentException e) {
          return "invalid node ID in membership: " + e.getMessage();
        }
      }
    }
    if (config.hasLeaderPolicy()) {
      String lp = checkLeaderPolicy(config.getLeaderPolicy());
      if (lp != null) {
        return "leader policy: " + lp;
      }
    }
    String problem =
        ClientProgress.check(
            snapshot.getEpochData().getClientProgress(), ClientProgress.MAX_WINDOW);
    return problem == null ? null : "client progress: " + problem;
  }

  /**
   * What is wrong with a leader policy's state, or null: it needs nodes (valid IDs, strictly
   * sorted), suspicions of members only (strictly sorted by node) and a positive leader limit.
   */
  public static String checkLeaderPolicy(LeaderPolicy p) {
    if (p.getNodesCount() == 0) {
      return "no nodes";
    }
    if (p.getMaxLeaders() < 1) {
      return "leader limit must be positive: " + Integer.toUnsignedString(p.getMaxLeaders());
    }
    Set<String> nodes = new HashSet<>();
    String previous = null;
    for (String n : p.getNodesList()) {
      try {
        NodeId.of(n);
      } catch (IllegalArgumentException e) {
        return "invalid node ID: " + e.getMessage();
      }
      if (previous != null && previous.compareTo(n) >= 0) {
        return "nodes not strictly sorted at " + n;
      }
      nodes.add(n);
      previous = n;
    }
    previous = null;
    for (Suspicion s : p.getSuspectedList()) {
      if (!nodes.contains(s.getNode())) {
        return "suspected node " + s.getNode() + " is not a member";
      }
      if (previous != null && previous.compareTo(s.getNode()) >= 0) {
        return "suspicions not strictly sorted at " + s.getNode();
      }
      if (s.getEpoch() < 0) {
        return "suspicion epoch too large";
      }
      previous = s.getNode();
    }
    return null;
  }

  /**
   * Checks everything about the certificate that needs no cryptography: the snapshot is
   * well-formed, the sequence number and epoch fit in a signed long, there are at least f+1
   * signers, all of them members of {@code membership}, and no signature longer than {@link
   * #MAX_SIGNATURE_BYTES}.
   *
   * @return what is wrong, or null
   */
  public static String checkCertStructure(StableCheckpoint sc, Collection<NodeId> membership) {
    Objects.requireNonNull(membership, "membership");
    Set<NodeId> members = new HashSet<>(membership);
    if (members.isEmpty()) {
      return "empty membership";
    }
    if (!sc.hasSnapshot()) {
      return "no snapshot";
    }
    String problem = checkSnapshot(sc.getSnapshot());
    if (problem != null) {
      return "malformed snapshot: " + problem;
    }
    if (sc.getSn() < 0) {
      return "sequence number too large";
    }
    int needed = weakQuorum(members.size());
    if (sc.getCertCount() < needed) {
      return "not enough signatures in certificate: " + sc.getCertCount() + ", need " + needed;
    }
    for (Map.Entry<String, ByteString> e : new TreeMap<>(sc.getCertMap()).entrySet()) {
      NodeId signer;
      try {
        signer = NodeId.of(e.getKey());
      } catch (IllegalArgumentException ex) {
        return "invalid signer ID in certificate";
      }
      if (!members.contains(signer)) {
        return "signer " + signer + " is not in the membership";
      }
      if (e.getValue().size() > MAX_SIGNATURE_BYTES) {
        return "signature of " + signer + " is too long: " + e.getValue().size() + " bytes";
      }
    }
    return null;
  }

  /**
   * The signature checks a certificate needs, sorted by signer, for a {@code VerifyNodeSigs}
   * request to the crypto module (for protocols that verify asynchronously). Call {@link
   * #checkCertStructure} first; the checkpoint is valid if every item is.
   *
   * @param snapshotHash the hash of the checkpoint's snapshot ({@link SnapshotHashing#snapshotHash}
   *     or from the hasher module)
   */
  public static List<SigVerItem> certSigVerItems(StableCheckpoint sc, ByteString snapshotHash) {
    List<ByteString> signed = SnapshotHashing.checkpointForSig(epoch(sc), seqNr(sc), snapshotHash);
    List<SigVerItem> items = new ArrayList<>(sc.getCertCount());
    new TreeMap<>(sc.getCertMap())
        .forEach((id, sig) -> items.add(CryptoEvents.sigVerItem(signed, sig, NodeId.of(id))));
    return items;
  }

  /**
   * Verifies the checkpoint's certificate synchronously against {@code membership} (the nodes
   * allowed to sign it), hashing the snapshot with SHA-256: see the class documentation. This does
   * up to n signature checks on the calling thread; protocols should rather use {@link
   * #checkCertStructure}, the hasher and {@link #certSigVerItems} with the crypto module.
   *
   * @param verifier checks node signatures (the same kind of {@link Crypto} that signed)
   * @return {@link VerificationResult#ok()} or why the checkpoint must not be trusted; never throws
   *     for bad input
   */
  public static VerificationResult verifyCert(
      StableCheckpoint sc, Crypto verifier, Collection<NodeId> membership) {
    String problem = checkCertStructure(sc, membership);
    if (problem != null) {
      return VerificationResult.invalid(problem);
    }
    return verifySignatures(sc, SnapshotHashing.snapshotHash(sc.getSnapshot()), verifier);
  }

  private static VerificationResult verifySignatures(
      StableCheckpoint sc, ByteString snapshotHash, Crypto verifier) {
    for (SigVerItem item : certSigVerItems(sc, snapshotHash)) {
      VerificationResult r;
      try {
        r = verifier.verify(item.getDataList(), item.getSignature(), NodeId.of(item.getNodeId()));
      } catch (RuntimeException e) {
        r = VerificationResult.invalid("signature check failed: " + e);
      }
      if (!r.valid()) {
        return VerificationResult.invalid(
            "invalid signature of node " + item.getNodeId() + ": " + r.error());
      }
    }
    return VerificationResult.ok();
  }
}
