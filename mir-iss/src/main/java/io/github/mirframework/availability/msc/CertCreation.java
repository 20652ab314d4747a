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
import io.github.mirframework.types.RetentionIndex;
import java.util.ArrayList;
import java.util.HashMap;
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
    List<Request> txs; // null until the mempool has computed the batch ID
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

  private record VerifySigContext(
      long reqId, NodeId signer, ByteString batchId, ByteString signature) {}

  // Contexts of a member's side.
  private record ReceivedTxIdsContext(NodeId requester, List<Request> txs, long reqId) {}

  private record ReceivedBatchIdContext(
      NodeId requester, List<ByteString> txIds, List<Request> txs, long reqId) {}

  private record StoreReceivedBatchContext(NodeId requester, long reqId, ByteString batchId) {}

  private record SignReceivedBatchContext(NodeId requester, long reqId, ByteString batchId) {}

  private final DslModule dsl;
  private final MultisigCollector.Config config;
  private final MultisigCollector.Params params;
  private final Rejections rejections;
  private final KnownSignatures known;
  private final NodeId self;
  // A TreeMap so that certificates of concurrent requests come out in request order.
  private final Map<Long, RequestState> requests = new TreeMap<>();
  private long nextReqId;
  private final Runnable scheduleRetry;

  /** What one requester has made this member do: request ID → signature (empty: in progress). */
  private static final class Served {
    final Map<Long, ByteString> sigs = new HashMap<>();
    long bytes;
  }

  private final Map<NodeId, Served> served = new HashMap<>();
  private long refusedOverLimit;
  private long storedBytesForOthers;
  private long retransmissions;

  CertCreation(
      DslModule dsl,
      MultisigCollector.Config config,
      MultisigCollector.Params params,
      Rejections rejections,
      KnownSignatures known,
      NodeId self,
      Runnable scheduleRetry) {
    this.dsl = dsl;
    this.config = config;
    this.params = params;
    this.rejections = rejections;
    this.known = known;
    this.self = self;
    this.scheduleRetry = scheduleRetry;

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

  long refusedOverLimit() {
    return refusedOverLimit;
  }

  long storedBytesForOthers() {
    return storedBytesForOthers;
  }

  long retransmissions() {
    return retransmissions;
  }

  /** Asks again the members whose signature is missing, for every request short of signatures. */
  void retry() {
    for (Map.Entry<Long, RequestState> e : requests.entrySet()) {
      RequestState state = e.getValue();
      if (state.batchId == null) {
        continue; // the mempool has not answered yet: nothing was sent
      }
      List<NodeId> silent = new ArrayList<>();
      for (NodeId n : params.allNodes()) {
        if (!state.receivedSig.contains(n)) {
          silent.add(n);
        }
      }
      if (!silent.isEmpty()) {
        retransmissions += silent.size();
        dsl.sendMessage(
            config.net(), config.self(), MscMessages.requestSig(state.txs, e.getKey()), silent);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The requester

  private void onRequestCert(Origin origin) {
    long reqId = nextReqId++;
    requests.put(reqId, new RequestState(origin));
    if (params.epoch() == MultisigCollector.Params.NO_EPOCH) {
      MempoolDsl.requestBatch(dsl, config.mempool(), new BatchFromMempoolContext(reqId));
    } else {
      MempoolDsl.requestBatch(
          dsl, config.mempool(), params.epoch(), new BatchFromMempoolContext(reqId));
    }
  }

  private void onNewBatch(List<ByteString> txIds, List<Request> txs, BatchFromMempoolContext ctx) {
    if (txs.isEmpty()) {
      // Nothing to make available: answer at once with the certificate of no transactions instead
      // of having every member store and sign an empty batch (Mir's later versions do the same).
      RequestState state = requests.remove(ctx.reqId());
      if (state == null) {
        throw new IllegalStateException("no state for own certificate request " + ctx.reqId());
      }
      dsl.emit(
          AvailabilityEvents.newCert(
              state.origin, AvailabilityEvents.mscCert(ByteString.EMPTY, List.of(), List.of())));
      return;
    }
    MempoolDsl.requestBatchId(
        dsl, config.mempool(), txIds, new OwnBatchIdContext(ctx.reqId(), List.copyOf(txs)));
  }

  private void onOwnBatchId(ByteString batchId, OwnBatchIdContext ctx) {
    RequestState state = requests.get(ctx.reqId());
    if (state == null) {
      throw new IllegalStateException("no state for own certificate request " + ctx.reqId());
    }
    state.batchId = batchId;
    state.txs = ctx.txs();
    dsl.sendMessage(
        config.net(),
        config.self(),
        MscMessages.requestSig(ctx.txs(), ctx.reqId()),
        params.allNodes());
    scheduleRetry.run();
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
          new VerifySigContext(msg.getReqId(), from, state.batchId, msg.getSignature()));
    }
  }

  private void onSigVerified(VerificationResult result, VerifySigContext ctx) {
    if (!result.valid()) {
      rejections.reject(ctx.signer(), "Sig", "invalid signature: " + result.error());
      return;
    }
    known.add(ctx.signer(), ctx.batchId(), ctx.signature());
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
    Served s = served.computeIfAbsent(from, n -> new Served());
    ByteString done = s.sigs.get(msg.getReqId());
    if (done != null) {
      // A retransmission: answer with the signature made before, or wait for it.
      if (!done.isEmpty()) {
        dsl.sendMessage(
            config.net(), config.self(), MscMessages.sig(done, msg.getReqId()), List.of(from));
      }
      return;
    }
    long bytes = msg.getSerializedSize();
    if (s.sigs.size() >= params.maxRequestsPerSender()
        || s.bytes + bytes > params.maxBytesPerSender()) {
      refusedOverLimit++;
      rejections.reject(
          from,
          "RequestSig",
          "over the sender's limits ("
              + s.sigs.size()
              + " requests, "
              + s.bytes
              + " + "
              + bytes
              + " bytes)");
      return;
    }
    s.sigs.put(msg.getReqId(), ByteString.EMPTY);
    s.bytes += bytes;
    storedBytesForOthers += bytes;
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
    if (params.epoch() == MultisigCollector.Params.NO_EPOCH) {
      BatchDbDsl.storeBatch(
          dsl,
          config.batchDb(),
          batchId,
          ctx.txIds(),
          ctx.txs(),
          ByteString.EMPTY,
          new StoreReceivedBatchContext(ctx.requester(), ctx.reqId(), batchId));
    } else {
      BatchDbDsl.storeBatch(
          dsl,
          config.batchDb(),
          batchId,
          ctx.txIds(),
          ctx.txs(),
          ByteString.EMPTY,
          RetentionIndex.of(params.epoch()),
          new StoreReceivedBatchContext(ctx.requester(), ctx.reqId(), batchId));
    }
  }

  private void onReceivedBatchStored(StoreReceivedBatchContext ctx) {
    CryptoDsl.signRequest(
        dsl,
        config.crypto(),
        MscMessages.sigData(params.instanceUid(), ctx.batchId()),
        new SignReceivedBatchContext(ctx.requester(), ctx.reqId(), ctx.batchId()));
  }

  private void onSigned(ByteString signature, SignReceivedBatchContext ctx) {
    known.add(self, ctx.batchId(), signature);
    served.get(ctx.requester()).sigs.put(ctx.reqId(), signature);
    dsl.sendMessage(
        config.net(),
        config.self(),
        MscMessages.sig(signature, ctx.reqId()),
        List.of(ctx.requester()));
  }
}
