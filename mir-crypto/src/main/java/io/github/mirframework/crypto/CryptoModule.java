package io.github.mirframework.crypto;

import com.google.protobuf.ByteString;
import io.github.mirframework.crypto.internal.ParallelBatch;
import io.github.mirframework.crypto.pb.SigVerItem;
import io.github.mirframework.crypto.pb.SignRequest;
import io.github.mirframework.crypto.pb.VerifyNodeSigs;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.pb.Init;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The crypto module (Mir's {@code crypto.MirModule}): signs data and checks node signatures on
 * behalf of protocol modules.
 *
 * <ul>
 *   <li>{@code SignRequest{data, origin}} → {@code SignResult{signature, origin}} to the origin's
 *       module;
 *   <li>{@code VerifyNodeSigs{items, origin}} → {@code NodeSigsVerified{node_ids, valid, errors,
 *       all_ok, origin}} to the origin's module, one entry per item in request order;
 *   <li>{@code Init} is ignored; any other event type is an error that stops the node.
 * </ul>
 *
 * <p>One output event per request, in the order of the requests. A bad signature, an unknown node
 * or a malformed node ID gives an invalid entry with a reason, never an error of the module; so
 * does an exception thrown by the {@link Crypto} while checking a signature (logged as a warning).
 * A request without an origin module is a bug of the requester and stops the node; so does a
 * failure to sign.
 *
 * <p>All signings and signature checks of one {@link #applyEvents} call form one batch that may be
 * spread over several threads according to the {@link Parallelism} (Mir processes events
 * concurrently too). The output does not depend on it. The module starts no threads of its own and
 * keeps no state between calls besides the {@link Crypto}.
 */
public final class CryptoModule implements PassiveModule {
  /** Never takes network input: received messages addressed here are dropped by the node. */
  @Override
  public boolean receivesMessages() {
    return false;
  }

  /** Mir's default ID of the crypto module. */
  public static final ModuleId DEFAULT_ID = ModuleId.of("crypto");

  private static final Logger LOG = LoggerFactory.getLogger(CryptoModule.class);

  private final Crypto crypto;
  private final Parallelism parallelism;

  /** Returns a module that does all work on the calling thread. */
  public CryptoModule(Crypto crypto) {
    this(crypto, Parallelism.sequential());
  }

  /** Returns a module that spreads large batches according to {@code parallelism}. */
  public CryptoModule(Crypto crypto, Parallelism parallelism) {
    this.crypto = Objects.requireNonNull(crypto, "crypto");
    this.parallelism = Objects.requireNonNull(parallelism, "parallelism");
  }

  @Override
  public EventList applyEvents(EventList events) {
    // Plan: one job per signing and one per signature check, so that many small requests
    // parallelize as well as one
    // large one. Malformed requests are rejected here, before any work is done.
    int n = events.size();
    int[] firstJob = new int[n + 1];
    int jobs = 0;
    for (int i = 0; i < n; i++) {
      Event e = events.get(i);
      firstJob[i] = jobs;
      switch (e.payload()) {
        case Init init -> {}
        case SignRequest r -> {
          CryptoEvents.originModule(r.getOrigin());
          jobs++;
        }
        case VerifyNodeSigs v -> {
          CryptoEvents.originModule(v.getOrigin());
          jobs += v.getItemsCount();
        }
        default ->
            throw new IllegalArgumentException(
                "crypto module: unexpected event type " + e.typeName() + " in " + e);
      }
    }
    firstJob[n] = jobs;

    Runnable[] work = new Runnable[jobs];
    Object[] results = new Object[jobs];
    for (int i = 0; i < n; i++) {
      int first = firstJob[i];
      switch (events.get(i).payload()) {
        case SignRequest r -> work[first] = () -> results[first] = sign(r);
        case VerifyNodeSigs v -> {
          for (int k = 0; k < v.getItemsCount(); k++) {
            SigVerItem item = v.getItems(k);
            int slot = first + k;
            work[slot] = () -> results[slot] = verify(item);
          }
        }
        default -> {}
      }
    }
    ParallelBatch.run(jobs, j -> work[j].run(), parallelism);

    EventList out = EventList.withCapacity(n);
    for (int i = 0; i < n; i++) {
      int first = firstJob[i];
      switch (events.get(i).payload()) {
        case SignRequest r ->
            out.add(CryptoEvents.signResult(r.getOrigin(), (ByteString) results[first]));
        case VerifyNodeSigs v -> {
          List<VerificationResult> outcomes = new ArrayList<>(v.getItemsCount());
          List<String> nodeIds = new ArrayList<>(v.getItemsCount());
          for (int k = 0; k < v.getItemsCount(); k++) {
            outcomes.add((VerificationResult) results[first + k]);
            nodeIds.add(v.getItems(k).getNodeId());
          }
          out.add(CryptoEvents.nodeSigsVerified(v.getOrigin(), nodeIds, outcomes));
        }
        default -> {}
      }
    }
    return out;
  }

  private ByteString sign(SignRequest request) {
    return Objects.requireNonNull(crypto.sign(request.getDataList()), "signature from " + crypto);
  }

  private VerificationResult verify(SigVerItem item) {
    NodeId nodeId;
    try {
      nodeId = NodeId.of(item.getNodeId());
    } catch (IllegalArgumentException e) {
      return VerificationResult.invalid("invalid node ID: " + e.getMessage());
    }
    try {
      return Objects.requireNonNull(
          crypto.verify(item.getDataList(), item.getSignature(), nodeId), "verification result");
    } catch (RuntimeException e) {
      // The data may come from a Byzantine peer: a crypto implementation that throws on it must not
      // stop the node.
      LOG.warn("{} threw while checking a signature of node {}: {}", crypto, nodeId, e.toString());
      LOG.debug("stack trace of the exception above", e);
      return VerificationResult.invalid("signature check failed: " + e);
    }
  }

  @Override
  public String toString() {
    return "CryptoModule[" + crypto + "]";
  }
}
