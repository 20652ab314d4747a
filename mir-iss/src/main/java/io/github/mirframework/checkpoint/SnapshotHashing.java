package io.github.mirframework.checkpoint;

import com.google.protobuf.ByteString;
import io.github.mirframework.checkpoint.pb.ClientProgress;
import io.github.mirframework.checkpoint.pb.DeliveredReqs;
import io.github.mirframework.checkpoint.pb.EpochConfig;
import io.github.mirframework.checkpoint.pb.EpochData;
import io.github.mirframework.checkpoint.pb.LeaderPolicy;
import io.github.mirframework.checkpoint.pb.Membership;
import io.github.mirframework.checkpoint.pb.StateSnapshot;
import io.github.mirframework.checkpoint.pb.Suspicion;
import io.github.mirframework.types.EpochNr;
import io.github.mirframework.types.LittleEndian;
import io.github.mirframework.types.SeqNr;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The byte layouts that checkpoints are hashed and signed over (Mir's {@code serializing} package,
 * PORT-MAP Appendix C), reproduced exactly. All numbers are 8-byte little-endian; a hash is SHA-256
 * of the plain concatenation of the chunks.
 *
 * <ul>
 *   <li>snapshot = epoch config ‖ client progress ‖ [app data];
 *   <li>epoch config = [epoch_nr, length, first_sn] (in this order), then for each membership in
 *       list order and each of its entries sorted by node ID: [node ID, 0x00, address, 0x00];
 *   <li>client progress = for each client sorted by client ID: [client ID, low watermark, each
 *       delivered number in list order] (lists are ascending in well-formed progress);
 *   <li>checkpoint signature data = [epoch, sn, snapshot hash].
 * </ul>
 *
 * Strings are UTF-8; map entries are sorted by the unsigned bytes of their UTF-8 keys, as Go sorts
 * strings (this differs from Java's {@link String#compareTo} for characters outside the basic
 * multilingual plane). Stateless and thread-safe.
 */
public final class SnapshotHashing {
  private static final ByteString ZERO = ByteString.copyFrom(new byte[] {0});

  private SnapshotHashing() {}

  /**
   * The chunks hashed for a state snapshot (Mir's {@code SnapshotForHash}). Missing parts (no epoch
   * data, config or progress) are treated as empty.
   */
  public static List<ByteString> snapshotForHash(StateSnapshot snapshot) {
    EpochData ed = snapshot.getEpochData();
    List<ByteString> out = new ArrayList<>(epochConfigForHash(ed.getEpochConfig()));
    out.addAll(clientProgressForHash(ed.getClientProgress()));
    out.add(snapshot.getAppData());
    return out;
  }

  /** The chunks for an epoch configuration (Mir's {@code EpochConfigForHash}). */
  public static List<ByteString> epochConfigForHash(EpochConfig config) {
    List<ByteString> out = new ArrayList<>();
    out.add(u64(config.getEpochNr()));
    out.add(u64(config.getLength()));
    out.add(u64(config.getFirstSn()));
    out.addAll(membershipsForHash(config.getMembershipsList()));
    if (config.hasLeaderPolicy()) {
      out.addAll(leaderPolicyForHash(config.getLeaderPolicy()));
    }
    return out;
  }

  /**
   * The chunks for a leader policy's state (beyond Mir, appended to the epoch configuration's only
   * when present, so that configurations without one hash as in Mir): ["LEADER_POLICY", 0, then per
   * node its ID and 0, then u64 of the number of suspicions, per suspicion node ID, 0 and u64
   * epoch, then u64 of the leader limit].
   */
  public static List<ByteString> leaderPolicyForHash(LeaderPolicy p) {
    List<ByteString> out = new ArrayList<>();
    out.add(ByteString.copyFromUtf8("LEADER_POLICY"));
    out.add(ZERO);
    for (String n : p.getNodesList()) {
      out.add(ByteString.copyFromUtf8(n));
      out.add(ZERO);
    }
    out.add(u64(p.getSuspectedCount()));
    for (Suspicion s : p.getSuspectedList()) {
      out.add(ByteString.copyFromUtf8(s.getNode()));
      out.add(ZERO);
      out.add(u64(s.getEpoch()));
    }
    out.add(u64(Integer.toUnsignedLong(p.getMaxLeaders())));
    return out;
  }

  /** The chunks for a list of memberships (Mir's {@code MembershipsForHash}). */
  public static List<ByteString> membershipsForHash(List<Membership> memberships) {
    List<ByteString> out = new ArrayList<>();
    for (Membership m : memberships) {
      for (Map.Entry<ByteString, String> e : sortedByUtf8(m.getMembershipMap()).entrySet()) {
        out.add(e.getKey());
        out.add(ZERO);
        out.add(ByteString.copyFromUtf8(e.getValue()));
        out.add(ZERO);
      }
    }
    return out;
  }

  /** The chunks for client progress (Mir's {@code ClientProgressForHash}). */
  public static List<ByteString> clientProgressForHash(ClientProgress progress) {
    List<ByteString> out = new ArrayList<>();
    for (Map.Entry<ByteString, DeliveredReqs> e :
        sortedByUtf8(progress.getProgressMap()).entrySet()) {
      out.add(e.getKey());
      out.add(u64(e.getValue().getLowWm()));
      for (long r : e.getValue().getDeliveredList()) {
        out.add(u64(r));
      }
    }
    return out;
  }

  /** SHA-256 of {@link #snapshotForHash}: what the hasher module computes for it. */
  public static ByteString snapshotHash(StateSnapshot snapshot) {
    return sha256(snapshotForHash(snapshot));
  }

  /** The chunks a node signs for its checkpoint (Mir's {@code CheckpointForSig}). */
  public static List<ByteString> checkpointForSig(
      EpochNr epoch, SeqNr sn, ByteString snapshotHash) {
    return List.of(
        ByteString.copyFrom(epoch.toBytes()), ByteString.copyFrom(sn.toBytes()), snapshotHash);
  }

  /** SHA-256 of the plain concatenation of {@code chunks}. */
  public static ByteString sha256(List<ByteString> chunks) {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JDK has no SHA-256", e);
    }
    for (ByteString c : chunks) {
      md.update(c.asReadOnlyByteBuffer());
    }
    return ByteString.copyFrom(md.digest());
  }

  private static <V> TreeMap<ByteString, V> sortedByUtf8(Map<String, V> map) {
    TreeMap<ByteString, V> sorted = new TreeMap<>(ByteString.unsignedLexicographicalComparator());
    map.forEach((k, v) -> sorted.put(ByteString.copyFromUtf8(k), v));
    return sorted;
  }

  private static ByteString u64(long v) {
    return ByteString.copyFrom(LittleEndian.u64(v));
  }
}
