package io.github.mirframework.availability;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.github.mirframework.availability.pb.Cert;
import io.github.mirframework.availability.pb.CertVerified;
import io.github.mirframework.availability.pb.NewCert;
import io.github.mirframework.availability.pb.ProvideTransactions;
import io.github.mirframework.availability.pb.RequestCert;
import io.github.mirframework.availability.pb.RequestTransactions;
import io.github.mirframework.availability.pb.VerifyCert;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.crypto.CryptoEvents;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.pb.Origin;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.util.List;
import java.util.Objects;

/**
 * Factories for the events of the availability layer (Mir's {@code availability/events}) and for
 * its certificates.
 *
 * <p>A request is addressed to the availability module (in a Trantor node, {@code
 * availability/<epoch>}) and carries an {@link Origin} naming the module that receives the
 * response; a response is addressed to the origin's module and carries the origin back unchanged.
 * Stateless.
 */
public final class AvailabilityEvents {
  private AvailabilityEvents() {}

  /** Asks the availability module {@code availability} for a certificate of a new batch. */
  public static Event requestCert(ModuleId availability, Origin origin) {
    return Event.of(availability, RequestCert.newBuilder().setOrigin(origin).build());
  }

  /** The answer to a {@code RequestCert}, addressed to the origin's module. */
  public static Event newCert(Origin origin, Cert cert) {
    return Event.of(
        CryptoEvents.originModule(origin),
        NewCert.newBuilder().setCert(cert).setOrigin(origin).build());
  }

  /** Asks the availability module {@code availability} whether {@code cert} is valid. */
  public static Event verifyCert(ModuleId availability, Cert cert, Origin origin) {
    return Event.of(availability, VerifyCert.newBuilder().setCert(cert).setOrigin(origin).build());
  }

  /**
   * The answer to a {@code VerifyCert}, addressed to the origin's module.
   *
   * @param error why the certificate is invalid; empty exactly when {@code valid}
   * @throws IllegalArgumentException if {@code valid} and {@code error} disagree
   */
  public static Event certVerified(Origin origin, boolean valid, String error) {
    Objects.requireNonNull(error, "error");
    if (valid != error.isEmpty()) {
      throw new IllegalArgumentException(
          "a valid certificate has no error and an invalid one has one: valid="
              + valid
              + ", error='"
              + error
              + "'");
    }
    return Event.of(
        CryptoEvents.originModule(origin),
        CertVerified.newBuilder().setValid(valid).setErr(error).setOrigin(origin).build());
  }

  /**
   * Asks the availability module {@code availability} for the transactions certified by {@code
   * cert}.
   */
  public static Event requestTransactions(ModuleId availability, Cert cert, Origin origin) {
    return Event.of(
        availability, RequestTransactions.newBuilder().setCert(cert).setOrigin(origin).build());
  }

  /** The answer to a {@code RequestTransactions}, addressed to the origin's module. */
  public static Event provideTransactions(Origin origin, List<Request> txs) {
    return Event.of(
        CryptoEvents.originModule(origin),
        ProvideTransactions.newBuilder().addAllTxs(txs).setOrigin(origin).build());
  }

  /**
   * A multisig-collector certificate: batch {@code batchId} signed by {@code signers}, where {@code
   * signers.get(i)} made {@code signatures.get(i)}.
   *
   * @throws IllegalArgumentException if the lists differ in length
   */
  public static Cert mscCert(
      ByteString batchId, List<NodeId> signers, List<ByteString> signatures) {
    if (signers.size() != signatures.size()) {
      throw new IllegalArgumentException(
          signers.size() + " signers but " + signatures.size() + " signatures");
    }
    return Cert.newBuilder()
        .setMsc(
            io.github.mirframework.availability.msc.pb.Cert.newBuilder()
                .setBatchId(batchId)
                .addAllSigners(NodeId.strings(signers))
                .addAllSignatures(signatures))
        .build();
  }

  /**
   * Prototypes of all event payload types of the availability layer, for registration with a {@code
   * PayloadRegistry} so that recorded or logged events of these types can be decoded.
   */
  public static List<Message> payloadTypes() {
    return List.of(
        RequestCert.getDefaultInstance(),
        NewCert.getDefaultInstance(),
        VerifyCert.getDefaultInstance(),
        CertVerified.getDefaultInstance(),
        RequestTransactions.getDefaultInstance(),
        ProvideTransactions.getDefaultInstance());
  }
}
