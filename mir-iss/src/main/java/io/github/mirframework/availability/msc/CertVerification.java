package io.github.mirframework.availability.msc;

import com.google.protobuf.ByteString;
import io.github.mirframework.availability.AvailabilityDsl;
import io.github.mirframework.availability.AvailabilityEvents;
import io.github.mirframework.availability.pb.Cert;
import io.github.mirframework.crypto.CryptoDsl;
import io.github.mirframework.crypto.CryptoEvents;
import io.github.mirframework.crypto.VerificationResult;
import io.github.mirframework.crypto.pb.SigVerItem;
import io.github.mirframework.dsl.DslModule;
import io.github.mirframework.event.pb.Origin;
import io.github.mirframework.types.NodeId;
import java.util.ArrayList;
import java.util.List;

/**
 * The certificate-verification part of the multisig collector (Mir's {@code certverification}):
 * checks a certificate's structure, then all its signatures.
 */
final class CertVerification {
  private record VerifyCertContext(Origin origin, List<NodeId> signers) {}

  private final DslModule dsl;
  private final MultisigCollector.Config config;
  private final MultisigCollector.Params params;

  CertVerification(
      DslModule dsl, MultisigCollector.Config config, MultisigCollector.Params params) {
    this.dsl = dsl;
    this.config = config;
    this.params = params;

    // upon event <availability, VerifyCert | cert> do
    //     if cert is well-formed then verify all its signatures else answer invalid
    AvailabilityDsl.uponVerifyCert(dsl, this::onVerifyCert);

    // upon event <crypto, NodeSigsVerified | results> do answer valid iff all are valid
    CryptoDsl.uponNodeSigsVerified(dsl, VerifyCertContext.class, this::onSigsVerified);
  }

  private void onVerifyCert(Cert cert, Origin origin) {
    String problem = CertChecks.structureProblem(params, cert);
    if (problem != null) {
      dsl.emit(AvailabilityEvents.certVerified(origin, false, problem));
      return;
    }
    if (CertChecks.isEmptyBatchCert(cert)) {
      dsl.emit(AvailabilityEvents.certVerified(origin, true, ""));
      return;
    }
    io.github.mirframework.availability.msc.pb.Cert msc = cert.getMsc();
    List<ByteString> signed = MscMessages.sigData(params.instanceUid(), msc.getBatchId());
    List<SigVerItem> items = new ArrayList<>(msc.getSignersCount());
    List<NodeId> signers = new ArrayList<>(msc.getSignersCount());
    for (int i = 0; i < msc.getSignersCount(); i++) {
      NodeId signer = NodeId.of(msc.getSigners(i));
      signers.add(signer);
      items.add(CryptoEvents.sigVerItem(signed, msc.getSignatures(i), signer));
    }
    CryptoDsl.verifyNodeSigs(
        dsl, config.crypto(), items, new VerifyCertContext(origin, List.copyOf(signers)));
  }

  private void onSigsVerified(
      List<VerificationResult> results, boolean allOk, VerifyCertContext ctx) {
    if (results.size() != ctx.signers().size()) {
      throw new IllegalStateException(
          "crypto module checked "
              + results.size()
              + " of "
              + ctx.signers().size()
              + " signatures");
    }
    StringBuilder errors = new StringBuilder();
    for (int i = 0; i < results.size(); i++) {
      if (!results.get(i).valid()) {
        errors
            .append(errors.isEmpty() ? "invalid signatures: " : "; ")
            .append(ctx.signers().get(i))
            .append(": ")
            .append(results.get(i).error());
      }
    }
    if (errors.isEmpty() && !allOk) {
      errors.append("invalid signatures");
    }
    dsl.emit(AvailabilityEvents.certVerified(ctx.origin(), errors.isEmpty(), errors.toString()));
  }
}
