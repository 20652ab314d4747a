package io.github.mirframework.availability.msc;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.github.mirframework.availability.msc.pb.InstanceParams;
import io.github.mirframework.availability.msc.pb.ProvideBatchMessage;
import io.github.mirframework.availability.msc.pb.RequestBatchMessage;
import io.github.mirframework.availability.msc.pb.RequestSigMessage;
import io.github.mirframework.availability.msc.pb.RetryTick;
import io.github.mirframework.availability.msc.pb.SigMessage;
import io.github.mirframework.client.pb.Request;
import java.util.List;

/**
 * Factories for the messages multisig-collector nodes exchange, and the layout of the data a node
 * signs to vouch for a batch. Stateless.
 */
public final class MscMessages {
  /** The marker between instance UID and batch ID in the signed data. */
  public static final ByteString BATCH_STORED_MARKER = ByteString.copyFromUtf8("BATCH_STORED");

  private MscMessages() {}

  /**
   * A requester's request to store batch {@code txs} and sign its ID, for its request {@code
   * reqId}.
   */
  public static RequestSigMessage requestSig(List<Request> txs, long reqId) {
    return RequestSigMessage.newBuilder().addAllTxs(txs).setReqId(reqId).build();
  }

  /** A member's signature for the requester's request {@code reqId}. */
  public static SigMessage sig(ByteString signature, long reqId) {
    return SigMessage.newBuilder().setSignature(signature).setReqId(reqId).build();
  }

  /** A node's request to a certificate's signer for the batch {@code batchId}. */
  public static RequestBatchMessage requestBatch(ByteString batchId, long reqId) {
    return RequestBatchMessage.newBuilder().setBatchId(batchId).setReqId(reqId).build();
  }

  /** A signer's answer to a {@link #requestBatch}: the batch's transactions. */
  public static ProvideBatchMessage provideBatch(List<Request> txs, long reqId) {
    return ProvideBatchMessage.newBuilder().addAllTxs(txs).setReqId(reqId).build();
  }

  /**
   * What a member signs to vouch that it stored batch {@code batchId} in instance {@code
   * instanceUid}: the chunks {@code [instanceUid, "BATCH_STORED", batchId]}, signed as their
   * concatenation (as in Mir; PORT-MAP Appendix C). The UID keeps a signature of one instance
   * (epoch) from being replayed in another.
   */
  public static List<ByteString> sigData(ByteString instanceUid, ByteString batchId) {
    return List.of(instanceUid, BATCH_STORED_MARKER, batchId);
  }

  /**
   * Prototypes of the message types of the multisig collector and of its instantiation parameters,
   * for registration with a {@code PayloadRegistry}.
   */
  public static List<Message> payloadTypes() {
    return List.of(
        RequestSigMessage.getDefaultInstance(),
        SigMessage.getDefaultInstance(),
        RequestBatchMessage.getDefaultInstance(),
        ProvideBatchMessage.getDefaultInstance(),
        InstanceParams.getDefaultInstance(),
        RetryTick.getDefaultInstance());
  }
}
