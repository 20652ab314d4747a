package io.github.mirframework.threshcrypto;

import io.github.mirframework.crypto.CryptoEvents;
import io.github.mirframework.crypto.Parallelism;
import io.github.mirframework.crypto.VerificationResult;
import io.github.mirframework.crypto.internal.ParallelBatch;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.pb.Init;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.threshcrypto.pb.Recover;
import io.github.mirframework.threshcrypto.pb.SignShare;
import io.github.mirframework.threshcrypto.pb.VerifyFull;
import io.github.mirframework.threshcrypto.pb.VerifyShare;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The threshold-signature module (Mir's {@code threshcrypto.MirModule}).
 *
 * <ul>
 *   <li>{@code SignShare{data, origin}} → {@code SignShareResult{signature_share, origin}};
 *   <li>{@code VerifyShare{data, signature_share, node_id, origin}} → {@code VerifyShareResult{ok,
 *       error, origin}};
 *   <li>{@code VerifyFull{data, full_signature, origin}} → {@code VerifyFullResult{ok, error,
 *       origin}};
 *   <li>{@code Recover{data, signature_shares, origin}} → {@code RecoverResult{full_signature, ok,
 *       error, origin}};
 *   <li>{@code Init} is ignored; any other event type is an error that stops the node.
 * </ul>
 *
 * <p>Each result goes to the module named in its request's origin; one output per request, in
 * request order. Bad shares, signatures and node IDs give an unsuccessful result with a reason,
 * never an error of the module; so does an exception thrown by the {@link ThreshCrypto} while
 * checking or recovering (logged as a warning). A request without an origin module, or a failure to
 * sign, stops the node.
 *
 * <p>The requests of one {@link #applyEvents} call are independent jobs that may be spread over
 * several threads according to the {@link Parallelism}; the output does not depend on it. The
 * module starts no threads of its own.
 */
public final class ThreshCryptoModule implements PassiveModule {
  /** Never takes network input: received messages addressed here are dropped by the node. */
  @Override
  public boolean receivesMessages() {
    return false;
  }

  /** The default ID of the threshold-signature module. */
  public static final ModuleId DEFAULT_ID = ModuleId.of("threshcrypto");

  private static final Logger LOG = LoggerFactory.getLogger(ThreshCryptoModule.class);

  private final ThreshCrypto threshCrypto;
  private final Parallelism parallelism;

  /** Returns a module that does all work on the calling thread. */
  public ThreshCryptoModule(ThreshCrypto threshCrypto) {
    this(threshCrypto, Parallelism.sequential());
  }

  /** Returns a module that spreads large batches according to {@code parallelism}. */
  public ThreshCryptoModule(ThreshCrypto threshCrypto, Parallelism parallelism) {
    this.threshCrypto = Objects.requireNonNull(threshCrypto, "threshCrypto");
    this.parallelism = Objects.requireNonNull(parallelism, "parallelism");
  }

  @Override
  public EventList applyEvents(EventList events) {
    int n = events.size();
    // Validate the whole batch before doing any work.
    for (Event e : events) {
      switch (e.payload()) {
        case Init init -> {}
        case SignShare r -> CryptoEvents.originModule(r.getOrigin());
        case VerifyShare r -> CryptoEvents.originModule(r.getOrigin());
        case VerifyFull r -> CryptoEvents.originModule(r.getOrigin());
        case Recover r -> CryptoEvents.originModule(r.getOrigin());
        default ->
            throw new IllegalArgumentException(
                "threshcrypto module: unexpected event type " + e.typeName() + " in " + e);
      }
    }
    Event[] results = new Event[n];
    ParallelBatch.run(n, i -> results[i] = apply(events.get(i)), parallelism);
    EventList out = EventList.withCapacity(n);
    for (Event r : results) {
      if (r != null) {
        out.add(r);
      }
    }
    return out;
  }

  private Event apply(Event e) {
    return switch (e.payload()) {
      case SignShare r ->
          ThreshCryptoEvents.signShareResult(
              r.getOrigin(),
              Objects.requireNonNull(threshCrypto.signShare(r.getDataList()), "signature share"));
      case VerifyShare r -> ThreshCryptoEvents.verifyShareResult(r.getOrigin(), verifyShare(r));
      case VerifyFull r -> ThreshCryptoEvents.verifyFullResult(r.getOrigin(), verifyFull(r));
      case Recover r -> ThreshCryptoEvents.recoverResult(r.getOrigin(), recover(r));
      default -> null; // Init
    };
  }

  private VerificationResult verifyShare(VerifyShare r) {
    NodeId nodeId;
    try {
      nodeId = NodeId.of(r.getNodeId());
    } catch (IllegalArgumentException e) {
      return VerificationResult.invalid("invalid node ID: " + e.getMessage());
    }
    try {
      return Objects.requireNonNull(
          threshCrypto.verifyShare(r.getDataList(), r.getSignatureShare(), nodeId), "result");
    } catch (RuntimeException e) {
      LOG.warn(
          "{} threw while checking a signature share of node {}: {}",
          threshCrypto,
          nodeId,
          e.toString());
      LOG.debug("stack trace of the exception above", e);
      return VerificationResult.invalid("signature share check failed: " + e);
    }
  }

  private VerificationResult verifyFull(VerifyFull r) {
    try {
      return Objects.requireNonNull(
          threshCrypto.verifyFull(r.getDataList(), r.getFullSignature()), "result");
    } catch (RuntimeException e) {
      LOG.warn("{} threw while checking a full signature: {}", threshCrypto, e.toString());
      LOG.debug("stack trace of the exception above", e);
      return VerificationResult.invalid("signature check failed: " + e);
    }
  }

  private RecoveryResult recover(Recover r) {
    try {
      return Objects.requireNonNull(
          threshCrypto.recover(r.getDataList(), r.getSignatureSharesList()), "result");
    } catch (RuntimeException e) {
      LOG.warn("{} threw while recovering a signature: {}", threshCrypto, e.toString());
      LOG.debug("stack trace of the exception above", e);
      return RecoveryResult.failure("signature recovery failed: " + e);
    }
  }

  @Override
  public String toString() {
    return "ThreshCryptoModule[" + threshCrypto + "]";
  }
}
