package io.github.mirframework.iss.pbft;

import com.google.protobuf.ByteString;
import io.github.mirframework.crypto.pb.NodeSigsVerified;
import io.github.mirframework.iss.pbft.pb.PbftCertReady;
import io.github.mirframework.iss.pbft.pb.PbftEvent;
import io.github.mirframework.iss.pbft.pb.PbftHashOrigin;
import io.github.mirframework.iss.pbft.pb.PbftHashResult;
import io.github.mirframework.iss.pbft.pb.PbftInit;
import io.github.mirframework.iss.pbft.pb.PbftMessage;
import io.github.mirframework.iss.pbft.pb.PbftMessageReceived;
import io.github.mirframework.iss.pbft.pb.PbftNodeSigsVerified;
import io.github.mirframework.iss.pbft.pb.PbftSigVerOrigin;
import io.github.mirframework.iss.pbft.pb.PbftSignOrigin;
import io.github.mirframework.iss.pbft.pb.PbftSignResult;
import io.github.mirframework.types.NodeId;
import java.util.List;

/**
 * Factories for the {@link PbftEvent}s that ISS (or a test host) applies to a {@link PbftOrderer}:
 * the orderer's inputs from outside. The orderer creates its own timer and WAL events.
 */
public final class PbftEvents {
  private PbftEvents() {}

  /** The first event of every orderer. */
  public static PbftEvent init() {
    return PbftEvent.newBuilder().setInit(PbftInit.getDefaultInstance()).build();
  }

  /**
   * The certificate the orderer asked for with {@link OrdererContext#requestCert()}, serialized.
   */
  public static PbftEvent certReady(ByteString certData) {
    return PbftEvent.newBuilder()
        .setCertReady(PbftCertReady.newBuilder().setCertData(certData))
        .build();
  }

  /**
   * A message received from {@code from} (the authenticated sender, not checked for membership).
   */
  public static PbftEvent messageReceived(NodeId from, PbftMessage msg) {
    return messageReceived(from.value(), msg);
  }

  /** A message received from the node named {@code from}, which may be any string. */
  public static PbftEvent messageReceived(String from, PbftMessage msg) {
    return PbftEvent.newBuilder()
        .setMessageReceived(PbftMessageReceived.newBuilder().setFrom(from).setMsg(msg))
        .build();
  }

  /** The answer to {@link OrdererContext#hashRequest}. */
  public static PbftEvent hashResult(List<ByteString> digests, PbftHashOrigin origin) {
    return PbftEvent.newBuilder()
        .setHashResult(PbftHashResult.newBuilder().addAllDigests(digests).setOrigin(origin))
        .build();
  }

  /** The answer to {@link OrdererContext#signRequest}. */
  public static PbftEvent signResult(ByteString signature, PbftSignOrigin origin) {
    return PbftEvent.newBuilder()
        .setSignResult(PbftSignResult.newBuilder().setSignature(signature).setOrigin(origin))
        .build();
  }

  /** The answer to {@link OrdererContext#verifyNodeSigs}, from the crypto module's result. */
  public static PbftEvent nodeSigsVerified(NodeSigsVerified result, PbftSigVerOrigin origin) {
    return PbftEvent.newBuilder()
        .setNodeSigsVerified(
            PbftNodeSigsVerified.newBuilder()
                .addAllNodeIds(result.getNodeIdsList())
                .addAllValid(result.getValidList())
                .addAllErrors(result.getErrorsList())
                .setAllOk(result.getAllOk())
                .setOrigin(origin))
        .build();
  }
}
