package io.github.mirframework.crypto;

import com.google.protobuf.ByteString;
import io.github.mirframework.crypto.pb.NodeSigsVerified;
import io.github.mirframework.crypto.pb.SigVerItem;
import io.github.mirframework.crypto.pb.SignResult;
import io.github.mirframework.dsl.DslModule;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Typed DSL helpers for the {@link CryptoModule}'s events (Mir's {@code dsl.SignRequest}, {@code
 * UponSignResult}, {@code VerifyNodeSigs}, {@code UponNodeSigsVerified}, {@code VerifyOneNodeSig}
 * and {@code UponOneNodeSigVerified}).
 *
 * <p>A request method stores a context object in the {@link DslModule} (see {@link
 * DslModule#origin}) and emits the request to the crypto module; the matching {@code upon} method
 * registers a handler that receives the result together with that context, but only for contexts of
 * the class it was registered with. So one module can have several handlers for, say, {@code
 * SignResult}, one per kind of request, each with its own context record.
 *
 * <p>Stateless; the methods must be called from the thread that applies the module's events (in
 * practice: in the module's constructor or in its handlers).
 */
public final class CryptoDsl {
  private CryptoDsl() {}

  /**
   * Handles the signature asked for by {@link #signRequest}.
   *
   * @param <C> the context type
   */
  @FunctionalInterface
  public interface SignResultHandler<C> {
    /**
     * Handles one signature.
     *
     * @throws Exception to fail the batch (and stop the node)
     */
    void handle(ByteString signature, C context) throws Exception;
  }

  /**
   * Handles the outcome of {@link #verifyNodeSigs}.
   *
   * @param <C> the context type
   */
  @FunctionalInterface
  public interface NodeSigsVerifiedHandler<C> {
    /**
     * Handles the outcome of one batch of checks.
     *
     * @param results one result per item of the request, in request order
     * @param allOk whether every item is valid
     * @throws Exception to fail the batch (and stop the node)
     */
    void handle(List<VerificationResult> results, boolean allOk, C context) throws Exception;
  }

  /**
   * Handles the outcome of {@link #verifyOneNodeSig}.
   *
   * @param <C> the context type
   */
  @FunctionalInterface
  public interface OneNodeSigVerifiedHandler<C> {
    /**
     * Handles the outcome of one check.
     *
     * @throws Exception to fail the batch (and stop the node)
     */
    void handle(VerificationResult result, C context) throws Exception;
  }

  /**
   * Asks the crypto module {@code crypto} to sign the concatenation of {@code data}; the signature
   * comes back to the handler registered with {@link #uponSignResult} for {@code context}'s class.
   */
  public static void signRequest(
      DslModule m, ModuleId crypto, List<ByteString> data, Object context) {
    m.emit(CryptoEvents.signRequest(crypto, data, m.origin(context)));
  }

  /**
   * Registers {@code handler} for signatures requested by {@link #signRequest} with a context of
   * class {@code contextType}.
   */
  public static <C> void uponSignResult(
      DslModule m, Class<C> contextType, SignResultHandler<? super C> handler) {
    Objects.requireNonNull(handler, "handler");
    m.uponResponse(
        SignResult.class,
        SignResult::getOrigin,
        contextType,
        (result, context) -> handler.handle(result.getSignature(), context));
  }

  /**
   * Asks the crypto module {@code crypto} to check a batch of node signatures; the outcome comes
   * back to the handler registered with {@link #uponNodeSigsVerified} for {@code context}'s class.
   */
  public static void verifyNodeSigs(
      DslModule m, ModuleId crypto, List<SigVerItem> items, Object context) {
    m.emit(CryptoEvents.verifyNodeSigs(crypto, items, m.origin(context)));
  }

  /**
   * Asks the crypto module {@code crypto} whether {@code signature} is node {@code nodeId}'s
   * signature over the concatenation of {@code data}; the outcome comes back to the handler
   * registered with {@link #uponOneNodeSigVerified} for {@code context}'s class.
   */
  public static void verifyOneNodeSig(
      DslModule m,
      ModuleId crypto,
      List<ByteString> data,
      ByteString signature,
      NodeId nodeId,
      Object context) {
    m.emit(CryptoEvents.verifyNodeSig(crypto, data, signature, nodeId, m.origin(context)));
  }

  /**
   * Registers {@code handler} for the outcome of {@link #verifyNodeSigs} requests made with a
   * context of class {@code contextType}.
   */
  public static <C> void uponNodeSigsVerified(
      DslModule m, Class<C> contextType, NodeSigsVerifiedHandler<? super C> handler) {
    Objects.requireNonNull(handler, "handler");
    m.uponResponse(
        NodeSigsVerified.class,
        NodeSigsVerified::getOrigin,
        contextType,
        (result, context) -> handler.handle(results(result), result.getAllOk(), context));
  }

  /**
   * Registers {@code handler} for the outcome of {@link #verifyOneNodeSig} requests made with a
   * context of class {@code contextType}.
   *
   * @throws IllegalStateException from the handler if such a result does not have exactly one entry
   *     (a bug: the request had one item)
   */
  public static <C> void uponOneNodeSigVerified(
      DslModule m, Class<C> contextType, OneNodeSigVerifiedHandler<? super C> handler) {
    Objects.requireNonNull(handler, "handler");
    m.uponResponse(
        NodeSigsVerified.class,
        NodeSigsVerified::getOrigin,
        contextType,
        (result, context) -> {
          List<VerificationResult> rs = results(result);
          if (rs.size() != 1) {
            throw new IllegalStateException(
                "expected the result of one signature check, got " + rs.size() + ": " + result);
          }
          handler.handle(rs.get(0), context);
        });
  }

  private static List<VerificationResult> results(NodeSigsVerified r) {
    if (r.getValidCount() != r.getErrorsCount()) {
      throw new IllegalStateException(
          "malformed NodeSigsVerified: "
              + r.getValidCount()
              + " flags but "
              + r.getErrorsCount()
              + " errors");
    }
    List<VerificationResult> out = new ArrayList<>(r.getValidCount());
    for (int i = 0; i < r.getValidCount(); i++) {
      out.add(r.getValid(i) ? VerificationResult.ok() : VerificationResult.invalid(r.getErrors(i)));
    }
    return out;
  }
}
