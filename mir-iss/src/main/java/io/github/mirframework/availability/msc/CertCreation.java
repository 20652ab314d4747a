package io.github.mirframework.availability.msc;

import com.google.protobuf.ByteString;
import io.github.mirframework.availability.AvailabilityDsl;
import io.github.mirframework.availability.AvailabilityEvents;
import io.github.mirframework.availability.batchdb.BatchDbDsl;
import io.github.mirframework.availability.msc.pb.RequestSigMessage;
import io.github.mirframework.availability.msc.pb.SigMessage;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.crypto.CryptoDsl;
import io.github.mirframework.crypto.VerificationResult;
import io.github.mirframework.dsl.DslModule;
import io.github.mirframework.event.pb.Origin;
import io.github.mirframework.mempool.MempoolDsl;
import io.github.mirframework.types.NodeId;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The certificate-creation part of the multisig collector (Mir's {@code certcreation}): the
 * requester's side (batch from the mempool, signatures from all members, certificate once f+1 valid
 * signatures are in) and every member's side (store the batch, sign its ID).
 */
final class CertCreation {
  /** The requester's state of one certificate request, dropped once the certificate is out. */
  private static final class RequestState {
    final Origin origin;
    ByteString batchId; // null until the mempool has computed it
    final Set<NodeId> receivedSig = new HashSet<>();
    // Sorted by signer so that the certificate does not depend on arrival order (Mir: map order).
    final SortedMap<NodeId, ByteString> sigs = new TreeMap<>();

    RequestState(Origin origin) {
      this.origin = origin;
    }
  }

  // Contexts of the requester's side.
  private record BatchFromMempoolContext(long reqId) {}

  private record OwnBatchIdContext(long reqId, List<Request> txs) {}

  private record VerifySigContext(long reqId, NodeId signer, ByteString signature) {}

  // Contexts of a member's side.
  private record ReceivedTxIdsContext(NodeId requester, List<Request> txs, long reqId) {}

  private record ReceivedBatchIdContext(
      NodeId requester, List<ByteString> txIds, List<Request> txs, long reqId) {}

  private record StoreReceivedBatchContext(NodeId requester, long reqId, ByteString batchId) {}

  private record SignReceivedBatchContext(NodeId requester, long reqId) {}

  private final DslModule dsl;
  private final MultisigCollector.Config config;
  private final MultisigCollector.Params params;
  private final Rejections rejections;
  // A TreeMap so that certificates of concurrent requests come out in request order.
  private final Map<Long, RequestState> requests = new TreeMap<>();
  private long nextReqId;

  CertCreation(
      DslModule dsl,
      MultisigCollector.Config config,
      MultisigCollector.Params params,
      Rejections rejections) {
    this.dsl = dsl;
    this.config = config;
    this.params = params;
    this.rejections = rejections;

    // ---- the requester ----

    // upon event <availability, RequestCert> do ask the mempool for a batch
    AvailabilityDsl.uponRequestCert(dsl, this::onRequestCert);

    // upon event <mempool, NewBatch | txIDs, txs> do ask the mempool for the batch ID
    MempoolDsl.uponNewBatch(dsl, BatchFromMempoolContext.class, this::onNewBatch);

    // upon event <mempool, BatchIDResponse | id> do send [REQUEST-SIG, txs] to all members
    MempoolDsl.uponBatchIdResponse(dsl, OwnBatchIdContext.class, this::onOwnBatchId);

    // upon event <al, Deliver | q, [SIG, σ]> such that σ is q's first signature do verify σ
    dsl.uponMessage(SigMessage.class, this::onSig);

    //     if verifysig(q, uid‖BATCH_STORED‖id, σ) then sigs[q] := σ
    CryptoDsl.uponOneNodeSigVerified(dsl, VerifySigContext.class, this::onSigVerified);

    // upon exists a request with #sigs >= f+1 do trigger <availability, NewCert | (id, sigs)>
    dsl.uponCondition(this::emitCompleteCertificates);

    // ---- every member ----

    // upon event <al, Deliver | p, [REQUEST-SIG, txs]> such that p is a member do compute tx IDs
    dsl.uponMessage(RequestSigMessage.class, this::onRequestSig);

    // upon event <mempool, TransactionIDsResponse | txIDs> do compute the batch ID
    MempoolDsl.uponTransactionIdsResponse(dsl, ReceivedTxIdsContext.class, this::onReceivedTxIds);

    // upon event <mempool, BatchIDResponse | id> do store the batch
    MempoolDsl.uponBatchIdResponse(dsl, ReceivedBatchIdContext.class, this::onReceivedBatchId);

    // upon event <batchdb, BatchStored> do σ := sign(self, uid‖BATCH_STORED‖id)
    BatchDbDsl.uponBatchStored(dsl, StoreReceivedBatchContext.class, this::onReceivedBatchStored);

    //     trigger <al, Send | p, [SIG, σ]>
    CryptoDsl.uponSignResult(dsl, SignReceivedBatchContext.class, this::onSigned);
  }

  /** The number of certificate requests in progress. */
  int pendingRequests() {
    return requests.size();
  }

  // ---------------------------------------------------------------------------------------------
  // The requester

  private void onRequestCert(Origin origin) {
    long reqId = nextReqId++;
    requests.put(reqId, new RequestState(origin));
    MempoolDsl.requestBatch(dsl, config.mempool(), new BatchFromMempoolContext(reqId));
  }

  private void onNewBatch(List<ByteString> txIds, List<Request> txs, BatchFromMempoolContext ctx) {
    MempoolDsl.requestBatchId(
        dsl, config.mempool(), txIds, new OwnBatchIdContext(ctx.reqId(), List.copyOf(txs)));
  }

  private void onOwnBatchId(ByteString batchId, OwnBatchIdContext ctx) {
    RequestState state = requests.get(ctx.reqId());
    if (state == null) {
      throw new IllegalStateException("no state for own certificate request " + ctx.reqId());
    }
    state.batchId = batchId;
    dsl.sendMessage(
        config.net(),
        config.self(),
        MscMessages.requestSig(ctx.txs(), ctx.reqId()),
        params.allNodes());
  }

  private void onSig(NodeId from, SigMessage msg) {
    RequestState state = requests.get(msg.getReqId());
    if (!params.isMember(from)) {
      rejections.reject(from, "Sig", "sender is not a member");
    } else if (state == null) {
      rejections.reject(from, "Sig", "unknown or completed request " + msg.getReqId());
    } else if (state.batchId == null) {
      rejections.reject(from, "Sig", "request " + msg.getReqId() + " has not asked for signatures");
    } else if (msg.getSignature().isEmpty()
        || msg.getSignature().size() > MultisigCollector.MAX_SIGNATURE_BYTES) {
      rejections.reject(from, "Sig", "signature of " + msg.getSignature().size() + " bytes");
    } else if (!state.receivedSig.add(from)) {
      rejections.reject(from, "Sig", "already received a signature from this node");
    } else {
      CryptoDsl.verifyOneNodeSig(
          dsl,
          config.crypto(),
          MscMessages.sigData(params.instanceUid(), state.batchId),
          msg.getSignature(),
          from,
          new VerifySigContext(msg.getReqId(), from, msg.getSignature()));
    }
  }

  private void onSigVerified(VerificationResult result, VerifySigContext ctx) {
    if (!result.valid()) {
      rejections.reject(ctx.signer(), "Sig", "invalid signature: " + result.error());
      return;
    }
    RequestState state = requests.get(ctx.reqId());
    if (state != null) { // else the certificate is already out
      state.sigs.put(ctx.signer(), ctx.signature());
    }
  }

  private void emitCompleteCertificates() {
    Iterator<RequestState> it = requests.values().iterator();
    while (it.hasNext()) {
      RequestState state = it.next();
      if (state.sigs.size() >= params.certificateSize()) {
        dsl.emit(
            AvailabilityEvents.newCert(
                state.origin,
                AvailabilityEvents.mscCert(
                    state.batchId,
                    List.copyOf(state.sigs.keySet()),
                    List.copyOf(state.sigs.values()))));
        it.remove();
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Every member

  private void onRequestSig(NodeId from, RequestSigMessage msg) {
    if (!params.isMember(from)) {
      rejections.reject(from, "RequestSig", "sender is not a member");
      return;
    }
    List<Request> txs = List.copyOf(msg.getTxsList());
    MempoolDsl.requestTransactionIds(
        dsl, config.mempool(), txs, new ReceivedTxIdsContext(from, txs, msg.getReqId()));
  }

  private void onReceivedTxIds(List<ByteString> txIds, ReceivedTxIdsContext ctx) {
    List<ByteString> ids = List.copyOf(txIds);
    MempoolDsl.requestBatchId(
        dsl,
        config.mempool(),
        ids,
        new ReceivedBatchIdContext(ctx.requester(), ids, ctx.txs(), ctx.reqId()));
  }

  private void onReceivedBatchId(ByteString batchId, ReceivedBatchIdContext ctx) {
    BatchDbDsl.storeBatch(
        dsl,
        config.batchDb(),
        batchId,
        ctx.txIds(),
        ctx.txs(),
        ByteString.EMPTY,
        new StoreReceivedBatchContext(ctx.requester(), ctx.reqId(), batchId));
  }

  private void onReceivedBatchStored(StoreReceivedBatchContext ctx) {
    CryptoDsl.signRequest(
        dsl,
        config.crypto(),
        MscMessages.sigData(params.instanceUid(), ctx.batchId()),
        new SignReceivedBatchContext(ctx.requester(), ctx.reqId()));
  }

  private void onSigned(ByteString signature, SignReceivedBatchContext ctx) {
    dsl.sendMessage(
        config.net(),
        config.self(),
        MscMessages.sig(signature, ctx.reqId()),
        List.of(ctx.requester()));
  }
}
