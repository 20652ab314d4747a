package io.github.mirframework.iss.pbft;

import com.google.protobuf.ByteString;
import io.github.mirframework.iss.pbft.pb.PSetEntry;
import io.github.mirframework.iss.pbft.pb.Preprepare;
import io.github.mirframework.iss.pbft.pb.QSetEntry;
import io.github.mirframework.iss.pbft.pb.ViewChange;
import io.github.mirframework.types.NodeId;
import io.github.mirframework.types.SeqNr;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Validation of ViewChange messages and the rules that decide, from a strong quorum of them, what a
 * new view re-proposes for each sequence number (Castro and Liskov's conditions A1, A2 and B, as in
 * Mir's {@code reproposal}).
 */
final class ViewChanges {
  private ViewChanges() {}

  /** Largest accepted digest in a received message, in bytes (SHA-512 would be 64). */
  static final int MAX_DIGEST_BYTES = 64;

  /** The P set and Q set of a validated ViewChange, indexed by sequence number. */
  record Parsed(Map<SeqNr, PSetEntry> pSet, Map<SeqNr, Map<ByteString, Long>> qSet) {}

  /** The outcome for one sequence number: abort it, re-propose a digest, or not decided yet. */
  record Decision(boolean empty, ByteString digest, List<NodeId> prepreparedBy) {
    static final Decision EMPTY = new Decision(true, null, List.of());
  }

  static boolean validDigest(ByteString d) {
    return !d.isEmpty() && d.size() <= MAX_DIGEST_BYTES;
  }

  /**
   * Parses a received ViewChange, or returns why it is malformed: every entry must name a sequence
   * number of the segment and a view below the ViewChange's own, carry a well-formed digest; at
   * most one P entry per sequence number and one Q entry per (sequence number, digest), and no more
   * Q entries per sequence number than there are earlier views.
   */
  static Object parse(ViewChange vc, Segment segment) {
    long view = vc.getView();
    if (view <= 0) {
      return "view " + Long.toUnsignedString(view) + " is not a view one can change to";
    }
    Map<SeqNr, PSetEntry> p = new HashMap<>();
    for (PSetEntry e : vc.getPSetList()) {
      String problem = checkEntry(e.getSn(), e.getView(), e.getDigest(), view, segment);
      if (problem != null) {
        return "P set: " + problem;
      }
      if (p.put(SeqNr.of(e.getSn()), e) != null) {
        return "P set: two entries for sn " + e.getSn();
      }
    }
    Map<SeqNr, Map<ByteString, Long>> q = new HashMap<>();
    for (QSetEntry e : vc.getQSetList()) {
      String problem = checkEntry(e.getSn(), e.getView(), e.getDigest(), view, segment);
      if (problem != null) {
        return "Q set: " + problem;
      }
      Map<ByteString, Long> forSn = q.computeIfAbsent(SeqNr.of(e.getSn()), k -> new HashMap<>());
      if (forSn.put(e.getDigest(), e.getView()) != null) {
        return "Q set: two entries for sn " + e.getSn() + " and one digest";
      }
      if (forSn.size() > view) {
        return "Q set: more digests for sn " + e.getSn() + " than views before " + view;
      }
    }
    return new Parsed(p, q);
  }

  private static String checkEntry(
      long sn, long entryView, ByteString digest, long vcView, Segment segment) {
    if (!segment.containsRaw(sn)) {
      return "sn " + Long.toUnsignedString(sn) + " is not in the segment";
    }
    if (entryView < 0 || entryView >= vcView) {
      return "entry view " + Long.toUnsignedString(entryView) + " is not below " + vcView;
    }
    if (!validDigest(digest)) {
      return "malformed digest of " + digest.size() + " bytes";
    }
    return null;
  }

  /**
   * Decides the re-proposal for {@code sn} from the ViewChanges of {@code senders} (in that order;
   * the first P entry that qualifies wins). Needs a strong quorum of ViewChanges to decide
   * anything.
   */
  static Decision decide(Map<NodeId, Parsed> vcs, SeqNr sn, Segment segment) {
    if (vcs.size() < segment.strongQuorum()) {
      return null;
    }
    if (nothingPrepared(vcs.values(), sn) >= segment.strongQuorum()) {
      return Decision.EMPTY;
    }
    for (Parsed vc : vcs.values()) {
      PSetEntry e = vc.pSet().get(sn);
      if (e != null && noConflicts(vcs.values(), sn, e) >= segment.strongQuorum()) {
        List<NodeId> prepreparedBy = prepreparedBy(vcs, sn, e);
        if (prepreparedBy.size() >= segment.weakQuorum()) {
          return new Decision(false, e.getDigest(), prepreparedBy);
        }
      }
    }
    return null;
  }

  /**
   * Whether a NewView's Preprepare for {@code sn}, whose digest is {@code digest}, is justified by
   * the ViewChanges {@code vcs} (a strong quorum): either its digest is that of a P entry
   * satisfying A1 and A2, or it is a well-formed aborted Preprepare and B holds. Both conditions
   * only get easier with more ViewChanges, so whatever a correct primary decided from a subset is
   * accepted.
   */
  static boolean justified(
      Map<NodeId, Parsed> vcs, SeqNr sn, Preprepare pp, ByteString digest, Segment segment) {
    for (Parsed vc : vcs.values()) {
      PSetEntry e = vc.pSet().get(sn);
      if (e != null
          && e.getDigest().equals(digest)
          && noConflicts(vcs.values(), sn, e) >= segment.strongQuorum()
          && prepreparedBy(vcs, sn, e).size() >= segment.weakQuorum()) {
        return true;
      }
    }
    return pp.getAborted()
        && pp.getCertData().isEmpty()
        && nothingPrepared(vcs.values(), sn) >= segment.strongQuorum();
  }

  // B: the P sets of a strong quorum have nothing for sn.
  private static int nothingPrepared(Collection<Parsed> vcs, SeqNr sn) {
    int n = 0;
    for (Parsed vc : vcs) {
      n += vc.pSet().containsKey(sn) ? 0 : 1;
    }
    return n;
  }

  // A1: the P sets of a strong quorum have nothing for sn, or something older, or the same entry.
  private static int noConflicts(Collection<Parsed> vcs, SeqNr sn, PSetEntry entry) {
    int n = 0;
    for (Parsed vc : vcs) {
      PSetEntry e = vc.pSet().get(sn);
      if (e == null
          || e.getView() < entry.getView()
          || (e.getView() == entry.getView() && e.getDigest().equals(entry.getDigest()))) {
        n++;
      }
    }
    return n;
  }

  // A2: the nodes whose Q set has the entry's digest for sn at the entry's view or later. (Mir also
  // counted nodes without that digest at all when the entry's view is 0; they are not counted
  // here.)
  private static List<NodeId> prepreparedBy(Map<NodeId, Parsed> vcs, SeqNr sn, PSetEntry entry) {
    List<NodeId> out = new ArrayList<>();
    for (Map.Entry<NodeId, Parsed> vc : vcs.entrySet()) {
      Map<ByteString, Long> forSn = vc.getValue().qSet().get(sn);
      Long v = forSn == null ? null : forSn.get(entry.getDigest());
      if (v != null && v >= entry.getView()) {
        out.add(vc.getKey());
      }
    }
    return out;
  }

  /**
   * The view-change state of one target view at its primary (Mir's {@code pbftViewChangeState}).
   */
  static final class State {
    final Segment segment;
    final Map<NodeId, Parsed> parsed = new TreeMap<>();
    final Map<NodeId, io.github.mirframework.iss.pbft.pb.SignedViewChange> signed = new TreeMap<>();
    final TreeMap<SeqNr, Decision> decisions = new TreeMap<>();
    final TreeMap<SeqNr, Preprepare> preprepares = new TreeMap<>();
    boolean newViewSent;

    State(Segment segment) {
      this.segment = segment;
    }

    /** Whether every sequence number is decided. */
    boolean enough() {
      return decisions.size() == segment.seqNrs().size();
    }

    boolean has(NodeId from) {
      return parsed.containsKey(from);
    }

    /** Adds a verified ViewChange and decides what it can. */
    void add(NodeId from, io.github.mirframework.iss.pbft.pb.SignedViewChange svc, Parsed p) {
      if (enough() || has(from)) {
        return;
      }
      parsed.put(from, p);
      signed.put(from, svc);
      for (SeqNr sn : segment.seqNrs()) {
        if (!decisions.containsKey(sn)) {
          Decision d = decide(parsed, sn, segment);
          if (d != null) {
            decisions.put(sn, d);
          }
        }
      }
    }

    /** Whether a Preprepare is known for every sequence number. */
    boolean hasAllPreprepares() {
      return preprepares.size() == segment.seqNrs().size();
    }
  }
}
