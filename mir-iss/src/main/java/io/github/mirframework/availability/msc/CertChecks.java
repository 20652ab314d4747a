package io.github.mirframework.availability.msc;

import io.github.mirframework.availability.pb.Cert;
import io.github.mirframework.types.NodeId;
import java.util.HashSet;
import java.util.Set;

/** Checks of a certificate's structure that need no cryptography. Stateless. */
final class CertChecks {
  private CertChecks() {}

  /**
   * Whether {@code cert} is the certificate of no transactions: a multisig-collector certificate
   * without batch ID, signers or signatures. A leader whose mempool had nothing to offer proposes
   * it instead of collecting signatures for an empty batch (as Mir's later versions do); it is
   * valid without signatures, because it makes nothing available.
   */
  static boolean isEmptyBatchCert(Cert cert) {
    if (cert == null || cert.getTypeCase() != Cert.TypeCase.MSC) {
      return false;
    }
    io.github.mirframework.availability.msc.pb.Cert msc = cert.getMsc();
    return msc.getBatchId().isEmpty()
        && msc.getSignersCount() == 0
        && msc.getSignaturesCount() == 0;
  }

  /**
   * Returns why {@code cert} is not a well-formed multisig-collector certificate of the instance
   * with parameters {@code params}, or null if it is: it must be of the multisig-collector type,
   * with a batch ID of 1 to {@link MultisigCollector#MAX_BATCH_ID_BYTES} bytes, as many signatures
   * as signers, at least f+1 signers (Mir demands more than f+1, an off-by-one that rejects the
   * certificates it creates itself), every signer a well-formed ID of a member and none twice, and
   * every signature of 1 to {@link MultisigCollector#MAX_SIGNATURE_BYTES} bytes; or the certificate
   * of no transactions ({@link #isEmptyBatchCert}).
   */
  static String structureProblem(MultisigCollector.Params params, Cert cert) {
    if (isEmptyBatchCert(cert)) {
      return null;
    }
    if (cert == null || cert.getTypeCase() == Cert.TypeCase.TYPE_NOT_SET) {
      return "the certificate is empty";
    }
    if (cert.getTypeCase() != Cert.TypeCase.MSC) {
      return "not a multisig-collector certificate: " + cert.getTypeCase();
    }
    io.github.mirframework.availability.msc.pb.Cert msc = cert.getMsc();
    int idSize = msc.getBatchId().size();
    if (idSize == 0 || idSize > MultisigCollector.MAX_BATCH_ID_BYTES) {
      return "batch ID of " + idSize + " bytes";
    }
    int signers = msc.getSignersCount();
    if (signers != msc.getSignaturesCount()) {
      return signers + " signers but " + msc.getSignaturesCount() + " signatures";
    }
    if (signers < params.certificateSize()) {
      return "insufficient number of signatures: " + signers + ", need " + params.certificateSize();
    }
    Set<NodeId> seen = new HashSet<>();
    for (int i = 0; i < signers; i++) {
      NodeId signer;
      try {
        signer = NodeId.of(msc.getSigners(i));
      } catch (IllegalArgumentException e) {
        return "malformed signer ID at position " + i;
      }
      if (!params.isMember(signer)) {
        return "signer " + signer + " is not a member";
      }
      if (!seen.add(signer)) {
        return "signer " + signer + " appears more than once";
      }
      int sigSize = msc.getSignatures(i).size();
      if (sigSize == 0 || sigSize > MultisigCollector.MAX_SIGNATURE_BYTES) {
        return "signature of " + signer + " has " + sigSize + " bytes";
      }
    }
    return null;
  }
}
