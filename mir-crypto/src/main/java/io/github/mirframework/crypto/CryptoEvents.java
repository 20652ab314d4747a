package io.github.mirframework.crypto;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.github.mirframework.crypto.pb.HashData;
import io.github.mirframework.crypto.pb.HashRequest;
import io.github.mirframework.crypto.pb.HashResult;
import io.github.mirframework.crypto.pb.NodeSigsVerified;
import io.github.mirframework.crypto.pb.SigVerItem;
import io.github.mirframework.crypto.pb.SignRequest;
import io.github.mirframework.crypto.pb.SignResult;
import io.github.mirframework.crypto.pb.VerifyNodeSigs;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.pb.Origin;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.util.List;

/**
 * Factories for the events of the {@link CryptoModule} and the {@link HasherModule}, and for the
 * {@link Origin} that every request carries.
 *
 * <p>A request names the module that receives the result in its origin, together with an opaque
 * context that the requester uses to recognize the answer (a DSL context ID, a context-store item,
 * bytes, or any protobuf message). Result events are addressed to the origin's module and carry the
 * origin back unchanged.
 */
public final class CryptoEvents {
  private CryptoEvents() {}

  // ---- origins ----

  /** An origin without context: results go to {@code module}. */
  public static Origin origin(ModuleId module) {
    return Origin.newBuilder().setModule(module.value()).build();
  }

  /** An origin whose context is a DSL context ID (Mir's {@code dslpb.Origin}). */
  public static Origin dslOrigin(ModuleId module, long contextId) {
    return Origin.newBuilder().setModule(module.value()).setDslContextId(contextId).build();
  }

  /**
   * An origin whose context is an item ID of the requester's context store (Mir's {@code
   * contextstorepb.Origin}).
   */
  public static Origin contextStoreOrigin(ModuleId module, long itemId) {
    return Origin.newBuilder().setModule(module.value()).setContextStoreItem(itemId).build();
  }

  /** An origin whose context is the given bytes. */
  public static Origin opaqueOrigin(ModuleId module, ByteString context) {
    return Origin.newBuilder().setModule(module.value()).setOpaque(context).build();
  }

  /**
   * An origin whose context is a protobuf message of the requester's choice (packed as {@link
   * Any}).
   */
  public static Origin customOrigin(ModuleId module, Message context) {
    return Origin.newBuilder().setModule(module.value()).setCustom(Any.pack(context)).build();
  }

  /**
   * The module that receives the result of a request with this origin.
   *
   * @throws IllegalArgumentException if the origin names no module or an invalid one (a bug of the
   *     requester)
   */
  public static ModuleId originModule(Origin origin) {
    if (origin.getModule().isEmpty()) {
      throw new IllegalArgumentException("request origin names no module: " + origin);
    }
    return ModuleId.of(origin.getModule());
  }

  // ---- crypto module ----

  /** Asks the crypto module {@code crypto} to sign the concatenation of {@code data}. */
  public static Event signRequest(ModuleId crypto, List<ByteString> data, Origin origin) {
    return Event.of(crypto, SignRequest.newBuilder().addAllData(data).setOrigin(origin).build());
  }

  /** The answer to a {@code SignRequest}, addressed to the origin's module. */
  public static Event signResult(Origin origin, ByteString signature) {
    return Event.of(
        originModule(origin),
        SignResult.newBuilder().setSignature(signature).setOrigin(origin).build());
  }

  /**
   * One signature to check: node {@code nodeId}'s {@code signature} over the concatenation of
   * {@code data}.
   */
  public static SigVerItem sigVerItem(List<ByteString> data, ByteString signature, NodeId nodeId) {
    return SigVerItem.newBuilder()
        .addAllData(data)
        .setSignature(signature)
        .setNodeId(nodeId.value())
        .build();
  }

  /** Asks the crypto module {@code crypto} to check a batch of node signatures. */
  public static Event verifyNodeSigs(ModuleId crypto, List<SigVerItem> items, Origin origin) {
    return Event.of(
        crypto, VerifyNodeSigs.newBuilder().addAllItems(items).setOrigin(origin).build());
  }

  /** Asks the crypto module {@code crypto} to check a single node signature. */
  public static Event verifyNodeSig(
      ModuleId crypto, List<ByteString> data, ByteString signature, NodeId nodeId, Origin origin) {
    return verifyNodeSigs(crypto, List.of(sigVerItem(data, signature, nodeId)), origin);
  }

  /**
   * The answer to a {@code VerifyNodeSigs} request, addressed to the origin's module.
   *
   * @param nodeIds the node IDs of the request's items, in order
   * @param results the outcome for each item, in the same order
   */
  public static Event nodeSigsVerified(
      Origin origin, List<String> nodeIds, List<VerificationResult> results) {
    if (nodeIds.size() != results.size()) {
      throw new IllegalArgumentException(
          nodeIds.size() + " node IDs but " + results.size() + " verification results");
    }
    NodeSigsVerified.Builder b =
        NodeSigsVerified.newBuilder().setOrigin(origin).addAllNodeIds(nodeIds);
    boolean allOk = true;
    for (VerificationResult r : results) {
      b.addValid(r.valid()).addErrors(r.error());
      allOk &= r.valid();
    }
    return Event.of(originModule(origin), b.setAllOk(allOk).build());
  }

  // ---- hasher module ----

  /** One value to hash: the concatenation of {@code chunks}. */
  public static HashData hashData(List<ByteString> chunks) {
    return HashData.newBuilder().addAllData(chunks).build();
  }

  /** One value to hash: the concatenation of {@code chunks}. */
  public static HashData hashData(ByteString... chunks) {
    return hashData(List.of(chunks));
  }

  /** Asks the hasher module {@code hasher} for one digest per element of {@code data}. */
  public static Event hashRequest(ModuleId hasher, List<HashData> data, Origin origin) {
    return Event.of(hasher, HashRequest.newBuilder().addAllData(data).setOrigin(origin).build());
  }

  /** The answer to a {@code HashRequest}, addressed to the origin's module. */
  public static Event hashResult(Origin origin, List<ByteString> digests) {
    return Event.of(
        originModule(origin),
        HashResult.newBuilder().addAllDigests(digests).setOrigin(origin).build());
  }

  /**
   * Prototypes of all event payload types defined here, for registration with a {@code
   * PayloadRegistry} so that recorded or logged events of these types can be decoded.
   */
  public static List<Message> payloadTypes() {
    return List.of(
        SignRequest.getDefaultInstance(),
        SignResult.getDefaultInstance(),
        VerifyNodeSigs.getDefaultInstance(),
        NodeSigsVerified.getDefaultInstance(),
        HashRequest.getDefaultInstance(),
        HashResult.getDefaultInstance());
  }
}
