package io.github.mirframework.availability.msc;

import com.google.protobuf.ByteString;
import io.github.mirframework.availability.AvailabilityDsl;
import io.github.mirframework.availability.AvailabilityEvents;
import io.github.mirframework.availability.batchdb.BatchDbDsl;
import io.github.mirframework.availability.msc.pb.ProvideBatchMessage;
import io.github.mirframework.availability.msc.pb.RequestBatchMessage;
import io.github.mirframework.availability.pb.Cert;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.crypto.CryptoDsl;
import io.github.mirframework.crypto.CryptoEvents;
import io.github.mirframework.crypto.VerificationResult;
import io.github.mirframework.crypto.pb.SigVerItem;
import io.github.mirframework.dsl.DslModule;
import io.github.mirframework.event.pb.Origin;
import io.github.mirframework.mempool.MempoolDsl;
import io.github.mirframework.types.NodeId;
import io.github.mirframework.types.RetentionIndex;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The batch-reconstruction part of the multisig collector (Mir's {@code batchreconstruction}): the
 * transactions of a certified batch come from the local batch database or, failing that, from the
 * certificate's signers, whose answers are checked against the certified batch ID.
 */
final class BatchReconstruction {
  private static final Logger LOG = LoggerFactory.getLogger(MultisigCollector.class);

  /** A fetch from other nodes in progress; dropped once a correct batch arrived. */
  private static final class FetchState {
    final ByteString batchId;
    final Origin origin;
    final Set<NodeId> asked;
    final Set<NodeId> answered = new HashSet<>();

    FetchState(ByteString batchId, Origin origin, Set<NodeId> asked) {
      this.batchId = batchId;
      this.origin = origin;
      this.asked = asked;
    }
  }

  private record LocalLookupContext(ByteString batchId, List<NodeId> signers, Origin origin) {}

  private record CheckSignaturesContext(ByteString batchId, List<NodeId> signers, Origin origin) {}

  private record RemoteLookupContext(NodeId requester, long reqId) {}

  private record FetchedTxIdsContext(long reqId, NodeId from, List<Request> txs) {}

  private record FetchedBatchIdContext(
      long reqId, NodeId from, List<Request> txs, List<ByteString> txIds) {}

  private record StoreFetchedBatchContext() {}

  private final DslModule dsl;
  private final MultisigCollector.Config config;
  private final MultisigCollector.Params params;
  private final NodeId self;
  private final Rejections rejections;
  private final KnownSignatures known;
  private final Map<Long, FetchState> fetches = new TreeMap<>();
  private long nextReqId;
  private final Runnable scheduleRetry;
  private long retransmissions;

  BatchReconstruction(
      DslModule dsl,
      MultisigCollector.Config config,
      MultisigCollector.Params params,
      NodeId self,
      Rejections rejections,
      KnownSignatures known,
      Runnable scheduleRetry) {
    this.known = known;
    this.dsl = dsl;
    this.config = config;
    this.params = params;
    this.self = self;
    this.rejections = rejections;
    this.scheduleRetry = scheduleRetry;

    // upon event <availability, RequestTransactions | cert> do check the cert's signatures
    AvailabilityDsl.uponRequestTransactions(dsl, this::onRequestTransactions);

    // upon event <crypto, NodeSigsVerified | ok> do if ok then look the batch up locally, else
    //     provide no transactions
    CryptoDsl.uponNodeSigsVerified(dsl, CheckSignaturesContext.class, this::onSignaturesChecked);

    // upon event <batchdb, LookupBatchResponse | found, txs> do
    //     if found then provide txs else send [REQUEST-BATCH, id] to the cert's signers
    BatchDbDsl.uponLookupBatchResponse(dsl, LocalLookupContext.class, this::onLocalLookup);

    // upon event <al, Deliver | p, [REQUEST-BATCH, id]> such that p is a member do look it up
    dsl.uponMessage(RequestBatchMessage.class, this::onRequestBatch);

    // upon event <batchdb, LookupBatchResponse | found, txs> such that found do
    //     trigger <al, Send | p, [PROVIDE-BATCH, txs]>
    BatchDbDsl.uponLookupBatchResponse(dsl, RemoteLookupContext.class, this::onRemoteLookup);

    // upon event <al, Deliver | q, [PROVIDE-BATCH, txs]> such that we asked q do compute tx IDs
    dsl.uponMessage(ProvideBatchMessage.class, this::onProvideBatch);

    // upon event <mempool, TransactionIDsResponse | txIDs> do compute the batch ID
    MempoolDsl.uponTransactionIdsResponse(dsl, FetchedTxIdsContext.class, this::onFetchedTxIds);

    // upon event <mempool, BatchIDResponse | id'> do
    //     if id' = id then store the batch and provide txs, else keep waiting
    MempoolDsl.uponBatchIdResponse(dsl, FetchedBatchIdContext.class, this::onFetchedBatchId);

    // upon event <batchdb, BatchStored> do nothing
    BatchDbDsl.uponBatchStored(dsl, StoreFetchedBatchContext.class, ctx -> {});
  }

  /** The number of batch fetches from other nodes in progress. */
  int pendingFetches() {
    return fetches.size();
  }

  long retransmissions() {
    return retransmissions;
  }

  /** Asks again the signers that have not answered, for every fetch in progress. */
  void retry() {
    for (Map.Entry<Long, FetchState> e : fetches.entrySet()) {
      FetchState f = e.getValue();
      List<NodeId> silent = new ArrayList<>();
      for (NodeId n : f.asked) {
        if (!f.answered.contains(n)) {
          silent.add(n);
        }
      }
      if (!silent.isEmpty()) {
        retransmissions += silent.size();
        dsl.sendMessage(
            config.net(), config.self(), MscMessages.requestBatch(f.batchId, e.getKey()), silent);
      }
    }
  }

  private void onRequestTransactions(Cert cert, Origin origin) {
    // Mir assumes the certificate is valid and fails the node if it is not a multisig-collector
    // one. But an ordered certificate comes from the proposer, who may be Byzantine: answer an
    // ill-formed one with no transactions, a decision every correct node takes alike.
    String problem = CertChecks.structureProblem(params, cert);
    if (problem != null) {
      LOG.warn(
          "{}: asked for the transactions of an ill-formed certificate ({}); providing none",
          config.self(),
          problem);
      dsl.emit(AvailabilityEvents.provideTransactions(origin, List.of()));
      return;
    }
    if (CertChecks.isEmptyBatchCert(cert)) {
      dsl.emit(AvailabilityEvents.provideTransactions(origin, List.of()));
      return;
    }
    // Mir trusted the signatures of an ordered certificate. A Byzantine proposer could then get a
    // well-formed certificate with made-up signatures ordered, of a batch no correct node stored:
    // every correct node would fetch it forever. Checking the signatures first turns that into a
    // certificate without transactions, again a decision every correct node takes alike (whether
    // or not it happens to store the batch).
    io.github.mirframework.availability.msc.pb.Cert msc = cert.getMsc();
    List<NodeId> signers = msc.getSignersList().stream().map(NodeId::of).toList();
    List<ByteString> signed = MscMessages.sigData(params.instanceUid(), msc.getBatchId());
    List<SigVerItem> items = new ArrayList<>(signers.size());
    for (int i = 0; i < signers.size(); i++) {
      ByteString sig = msc.getSignatures(i);
      if (!known.contains(signers.get(i), msc.getBatchId(), sig)) {
        items.add(CryptoEvents.sigVerItem(signed, sig, signers.get(i)));
      }
    }
    if (items.isEmpty()) {
      // This node verified (or made) every one of them already, e.g. it built the certificate.
      BatchDbDsl.lookupBatch(
          dsl,
          config.batchDb(),
          msc.getBatchId(),
          new LocalLookupContext(msc.getBatchId(), signers, origin));
      return;
    }
    CryptoDsl.verifyNodeSigs(
        dsl, config.crypto(), items, new CheckSignaturesContext(msc.getBatchId(), signers, origin));
  }

  private void onSignaturesChecked(
      List<VerificationResult> results, boolean allOk, CheckSignaturesContext ctx) {
    if (!allOk) {
      LOG.warn(
          "{}: asked for the transactions of certificate {} whose signatures do not verify;"
              + " providing none",
          config.self(),
          shortId(ctx.batchId()));
      dsl.emit(AvailabilityEvents.provideTransactions(ctx.origin(), List.of()));
      return;
    }
    BatchDbDsl.lookupBatch(
        dsl,
        config.batchDb(),
        ctx.batchId(),
        new LocalLookupContext(ctx.batchId(), ctx.signers(), ctx.origin()));
  }

  private void onLocalLookup(
      boolean found, List<Request> txs, ByteString metadata, LocalLookupContext ctx) {
    if (found) {
      dsl.emit(AvailabilityEvents.provideTransactions(ctx.origin(), txs));
      return;
    }
    Set<NodeId> asked = new TreeSet<>(ctx.signers());
    asked.remove(self); // our own database has just said it lacks the batch
    if (asked.isEmpty()) {
      LOG.warn(
          "{}: batch {} is not stored here and no other node signed it; cannot fetch it",
          config.self(),
          shortId(ctx.batchId()));
      return;
    }
    long reqId = nextReqId++;
    fetches.put(reqId, new FetchState(ctx.batchId(), ctx.origin(), asked));
    dsl.sendMessage(
        config.net(), config.self(), MscMessages.requestBatch(ctx.batchId(), reqId), asked);
    scheduleRetry.run();
  }

  private void onRequestBatch(NodeId from, RequestBatchMessage msg) {
    int idSize = msg.getBatchId().size();
    if (!params.isMember(from)) {
      rejections.reject(from, "RequestBatch", "sender is not a member");
    } else if (idSize == 0 || idSize > MultisigCollector.MAX_BATCH_ID_BYTES) {
      rejections.reject(from, "RequestBatch", "batch ID of " + idSize + " bytes");
    } else {
      BatchDbDsl.lookupBatch(
          dsl, config.batchDb(), msg.getBatchId(), new RemoteLookupContext(from, msg.getReqId()));
    }
  }

  private void onRemoteLookup(
      boolean found, List<Request> txs, ByteString metadata, RemoteLookupContext ctx) {
    if (!found) {
      LOG.debug(
          "{}: node {} asked for a batch that is not stored here", config.self(), ctx.requester());
      return;
    }
    dsl.sendMessage(
        config.net(),
        config.self(),
        MscMessages.provideBatch(txs, ctx.reqId()),
        List.of(ctx.requester()));
  }

  private void onProvideBatch(NodeId from, ProvideBatchMessage msg) {
    FetchState fetch = fetches.get(msg.getReqId());
    if (!params.isMember(from)) {
      rejections.reject(from, "ProvideBatch", "sender is not a member");
    } else if (fetch == null) {
      rejections.reject(from, "ProvideBatch", "unknown or completed request " + msg.getReqId());
    } else if (!fetch.asked.contains(from)) {
      rejections.reject(from, "ProvideBatch", "this node was not asked");
    } else if (!fetch.answered.add(from)) {
      rejections.reject(from, "ProvideBatch", "already answered");
    } else {
      List<Request> txs = List.copyOf(msg.getTxsList());
      MempoolDsl.requestTransactionIds(
          dsl, config.mempool(), txs, new FetchedTxIdsContext(msg.getReqId(), from, txs));
    }
  }

  private void onFetchedTxIds(List<ByteString> txIds, FetchedTxIdsContext ctx) {
    List<ByteString> ids = List.copyOf(txIds);
    MempoolDsl.requestBatchId(
        dsl,
        config.mempool(),
        ids,
        new FetchedBatchIdContext(ctx.reqId(), ctx.from(), ctx.txs(), ids));
  }

  private void onFetchedBatchId(ByteString batchId, FetchedBatchIdContext ctx) {
    FetchState fetch = fetches.get(ctx.reqId());
    if (fetch == null) {
      return; // another signer's answer completed the request first
    }
    if (!batchId.equals(fetch.batchId)) {
      rejections.reject(ctx.from(), "ProvideBatch", "transactions do not match the batch ID");
      if (fetch.answered.equals(fetch.asked)) {
        LOG.warn(
            "{}: every signer asked for batch {} answered with other transactions; it cannot be"
                + " fetched",
            config.self(),
            shortId(fetch.batchId));
      }
      return;
    }
    fetches.remove(ctx.reqId());
    if (params.epoch() == MultisigCollector.Params.NO_EPOCH) {
      BatchDbDsl.storeBatch(
          dsl,
          config.batchDb(),
          batchId,
          ctx.txIds(),
          ctx.txs(),
          ByteString.EMPTY,
          new StoreFetchedBatchContext());
    } else {
      BatchDbDsl.storeBatch(
          dsl,
          config.batchDb(),
          batchId,
          ctx.txIds(),
          ctx.txs(),
          ByteString.EMPTY,
          RetentionIndex.of(params.epoch()),
          new StoreFetchedBatchContext());
    }
    dsl.emit(AvailabilityEvents.provideTransactions(fetch.origin, ctx.txs()));
  }

  private static String shortId(ByteString id) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < Math.min(4, id.size()); i++) {
      s.append(String.format("%02x", id.byteAt(i)));
    }
    return s.append(id.size() > 4 ? "…" : "").toString();
  }
}
