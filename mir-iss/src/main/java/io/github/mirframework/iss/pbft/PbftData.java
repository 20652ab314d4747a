package io.github.mirframework.iss.pbft;

import com.google.protobuf.ByteString;
import io.github.mirframework.crypto.pb.HashData;
import io.github.mirframework.iss.pbft.pb.PSetEntry;
import io.github.mirframework.iss.pbft.pb.Preprepare;
import io.github.mirframework.iss.pbft.pb.QSetEntry;
import io.github.mirframework.iss.pbft.pb.ViewChange;
import io.github.mirframework.types.LittleEndian;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The byte layouts the PBFT orderer hashes and signs (PORT-MAP Appendix C), reproduced exactly. All
 * integers are 8-byte little-endian.
 */
final class PbftData {
  private PbftData() {}

  private static final ByteString FALSE = ByteString.copyFrom(new byte[] {0});
  private static final ByteString TRUE = ByteString.copyFrom(new byte[] {1});

  static ByteString u64(long v) {
    return ByteString.copyFrom(LittleEndian.u64(v));
  }

  /** The chunks whose hash is a Preprepare's digest: [sn, aborted byte, cert_data] (no view). */
  static List<ByteString> preprepareHashChunks(Preprepare p) {
    return List.of(u64(p.getSn()), p.getAborted() ? TRUE : FALSE, p.getCertData());
  }

  /** The hasher input for a Preprepare's digest. */
  static HashData preprepareHashData(Preprepare p) {
    return HashData.newBuilder().addAllData(preprepareHashChunks(p)).build();
  }

  /**
   * The chunks a ViewChange signature covers: [view], then [sn, view, digest] of each P-set entry
   * and then of each Q-set entry, in message order (a correct sender sorts them by (sn, view,
   * digest)).
   */
  static List<ByteString> viewChangeSigData(ViewChange vc) {
    List<ByteString> data = new ArrayList<>(1 + 3 * (vc.getPSetCount() + vc.getQSetCount()));
    data.add(u64(vc.getView()));
    for (PSetEntry e : vc.getPSetList()) {
      data.add(u64(e.getSn()));
      data.add(u64(e.getView()));
      data.add(e.getDigest());
    }
    for (QSetEntry e : vc.getQSetList()) {
      data.add(u64(e.getSn()));
      data.add(u64(e.getView()));
      data.add(e.getDigest());
    }
    return data;
  }

  /** A copy of {@code p} in another view; the digest does not change. */
  static Preprepare copyToView(Preprepare p, long view) {
    return p.toBuilder().setView(view).build();
  }

  /**
   * Compares two P/Q-set entries given as (sn, view, digest): numbers as unsigned, digests
   * byte-wise unsigned (as Go's {@code bytes.Compare}).
   */
  static int compareEntries(
      long sn1, long view1, ByteString d1, long sn2, long view2, ByteString d2) {
    int c = Long.compareUnsigned(sn1, sn2);
    if (c != 0) {
      return c;
    }
    c = Long.compareUnsigned(view1, view2);
    if (c != 0) {
      return c;
    }
    return ByteString.unsignedLexicographicalComparator().compare(d1, d2);
  }

  static final Comparator<PSetEntry> P_ORDER =
      (a, b) ->
          compareEntries(
              a.getSn(), a.getView(), a.getDigest(), b.getSn(), b.getView(), b.getDigest());

  static final Comparator<QSetEntry> Q_ORDER =
      (a, b) ->
          compareEntries(
              a.getSn(), a.getView(), a.getDigest(), b.getSn(), b.getView(), b.getDigest());
}
