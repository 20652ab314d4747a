package io.github.mirframework.bcb;

import com.google.protobuf.ByteString;
import io.github.mirframework.bcb.pb.BroadcastRequest;
import io.github.mirframework.bcb.pb.EchoMessage;
import io.github.mirframework.bcb.pb.FinalMessage;
import io.github.mirframework.bcb.pb.StartMessage;
import io.github.mirframework.crypto.CryptoDsl;
import io.github.mirframework.crypto.CryptoEvents;
import io.github.mirframework.crypto.CryptoModule;
import io.github.mirframework.crypto.VerificationResult;
import io.github.mirframework.crypto.pb.SigVerItem;
import io.github.mirframework.dsl.DslModule;
import io.github.mirframework.event.EventList;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Byzantine consistent broadcast of one value from a fixed leader (authenticated echo broadcast,
 * Reiter '94; Algorithm "Echo broadcast" in Cachin, Guerraoui and Rodrigues, <i>Introduction to
 * Reliable and Secure Distributed Programming</i>); Mir's {@code bcb} module.
 *
 * <p><b>Protocol.</b> The consumer at the leader asks for a broadcast ({@code BroadcastRequest});
 * the leader sends {@code StartMessage{data}} to all nodes. Each node, on the first Start from the
 * leader, signs {@code [instance UID, "ECHO", data]} with the crypto module and sends the signature
 * to the leader ({@code EchoMessage}). The leader checks each echo signature against its own data;
 * once it holds valid echoes from more than (n+f)/2 nodes it sends {@code FinalMessage{data,
 * signers, signatures}} to all. A node that receives a Final whose signatures are all valid and
 * come from more than (n+f)/2 distinct members delivers the data once ({@code Deliver} to the
 * consumer).
 *
 * <p><b>Guarantees</b> (n nodes, at most f = (n−1)/3 of them Byzantine): <i>consistency</i>, no two
 * correct nodes deliver different values (two quorums of more than (n+f)/2 nodes share a correct
 * node, and a correct node echoes only one value); <i>integrity</i>, every correct node delivers at
 * most once, and with a correct leader only the leader's value; <i>validity</i>, with a correct
 * leader and reliable links every correct node delivers. There is no totality: with a faulty leader
 * some correct nodes may deliver and others not. Like Mir, the module does not retransmit: it
 * relies on the transport for reliable links, and a node whose Start, Echo or Final is lost may
 * never deliver (it never delivers a wrong value).
 *
 * <p><b>Untrusted input.</b> Mir left checking received messages as a to-do; here every received
 * message is validated before it causes any work, and an invalid one is dropped, logged at debug
 * level and counted in {@link #droppedMessages()}, never an exception:
 *
 * <ul>
 *   <li>Start: only from the leader, only the first one, data at most {@link Params#maxDataBytes()}
 *       bytes;
 *   <li>Echo: only at the leader, after its own broadcast and before it sent its Final, only from a
 *       member, only the first echo of each sender, signature at most {@link #MAX_SIGNATURE_BYTES}
 *       bytes; it is checked against the leader's own data (an echo carries no data), and one with
 *       a bad signature does not count;
 *   <li>Final: only from the leader, not after delivering, not while another Final is being
 *       checked; as many signers as signatures, more than (n+f)/2 and at most n of them, every
 *       signer a well-formed node ID of a member, no signer twice, data and signatures within the
 *       size limits; then every signature is checked, and the Final is dropped if any is invalid.
 * </ul>
 *
 * A Byzantine node can thus make a correct node do at most a bounded amount of work per message it
 * sends (one signature check per echo sender; one batch of at most n checks per Final in flight).
 *
 * <p>Errors of the local node stop it, as in Mir: a {@code BroadcastRequest} at a node other than
 * the leader, a second one, or one with oversized data.
 *
 * <p>Not thread-safe; a passive module, called by one thread at a time.
 */
public final class BcbModule implements PassiveModule {
  /** Mir's default ID of the BCB module. */
  public static final ModuleId DEFAULT_ID = ModuleId.of("bcb");

  /**
   * Largest accepted signature in a received message, in bytes: more than any scheme in {@code
   * mir-crypto} produces (ECDSA P-256: at most 72; BLS: 96; RSA-4096: 512).
   */
  public static final int MAX_SIGNATURE_BYTES = 1024;

  private static final Logger LOG = LoggerFactory.getLogger(BcbModule.class);

  /**
   * The IDs of the modules BCB talks to. All nodes must use the same configuration.
   *
   * @param self this module's ID (Mir's default {@code "bcb"})
   * @param consumer the module that receives {@code Deliver}
   * @param net the transport (default {@code "net"})
   * @param crypto the crypto module that signs and checks echoes (default {@code "crypto"})
   */
  public record Config(ModuleId self, ModuleId consumer, ModuleId net, ModuleId crypto) {
    /** Checks that no ID is missing. */
    public Config {
      Objects.requireNonNull(self, "self");
      Objects.requireNonNull(consumer, "consumer");
      Objects.requireNonNull(net, "net");
      Objects.requireNonNull(crypto, "crypto");
    }

    /**
     * Mir's default IDs ({@code "bcb"}, {@code "net"}, {@code "crypto"}) with the given consumer.
     */
    public static Config defaults(ModuleId consumer) {
      return new Config(DEFAULT_ID, consumer, ModuleId.of("net"), CryptoModule.DEFAULT_ID);
    }

    /** Returns a copy with another ID of this module. */
    public Config withSelf(ModuleId id) {
      return new Config(id, consumer, net, crypto);
    }

    /** Returns a copy with another consumer. */
    public Config withConsumer(ModuleId id) {
      return new Config(self, id, net, crypto);
    }

    /** Returns a copy with another transport module. */
    public Config withNet(ModuleId id) {
      return new Config(self, consumer, id, crypto);
    }

    /** Returns a copy with another crypto module. */
    public Config withCrypto(ModuleId id) {
      return new Config(self, consumer, net, id);
    }
  }

  /**
   * The parameters of one BCB instance. All nodes must use the same parameters.
   *
   * <p>The tolerated number of Byzantine nodes is f = (n−1)/3 (integer division), the largest f
   * with n ≥ 3f+1; a quorum is more than (n+f)/2 nodes.
   *
   * @param instanceUid identifies this instance; it is part of every signed echo so that echoes of
   *     one instance are useless in another. Must be unique per instance. As in Mir, the signed
   *     data is a plain concatenation, so UIDs should all have the same length (or none be a prefix
   *     of another followed by {@code "ECHO"}) to keep instances apart.
   * @param allNodes the participating nodes, without duplicates
   * @param leader the node that broadcasts; one of {@code allNodes}
   * @param maxDataBytes the largest value that may be broadcast, in bytes; larger received values
   *     are dropped (default {@link #DEFAULT_MAX_DATA_BYTES})
   */
  public record Params(
      ByteString instanceUid, List<NodeId> allNodes, NodeId leader, int maxDataBytes) {
    /** Default of {@link #maxDataBytes()}: 1 MiB. */
    public static final int DEFAULT_MAX_DATA_BYTES = 1 << 20;

    /** Validates the parameters; messages name the bad value. */
    public Params {
      Objects.requireNonNull(instanceUid, "instanceUid");
      Objects.requireNonNull(allNodes, "allNodes");
      Objects.requireNonNull(leader, "leader");
      if (instanceUid.isEmpty()) {
        throw new IllegalArgumentException("instanceUid must not be empty");
      }
      allNodes = List.copyOf(allNodes);
      if (allNodes.isEmpty()) {
        throw new IllegalArgumentException("allNodes must not be empty");
      }
      if (new HashSet<>(allNodes).size() != allNodes.size()) {
        throw new IllegalArgumentException("allNodes contains duplicates: " + allNodes);
      }
      if (!allNodes.contains(leader)) {
        throw new IllegalArgumentException(
            "leader " + leader + " is not among allNodes " + allNodes);
      }
      if (maxDataBytes < 0) {
        throw new IllegalArgumentException("maxDataBytes must not be negative: " + maxDataBytes);
      }
    }

    /** Parameters with the default {@link #maxDataBytes()}. */
    public Params(ByteString instanceUid, List<NodeId> allNodes, NodeId leader) {
      this(instanceUid, allNodes, leader, DEFAULT_MAX_DATA_BYTES);
    }

    /** Returns a copy with another size limit for values. */
    public Params withMaxDataBytes(int limit) {
      return new Params(instanceUid, allNodes, leader, limit);
    }

    /** The number of nodes. */
    public int n() {
      return allNodes.size();
    }

    /** The number of Byzantine nodes tolerated: (n−1)/3, so that n ≥ 3f+1. */
    public int f() {
      return (n() - 1) / 3;
    }

    /** The smallest number of nodes that is more than (n+f)/2: the size of a quorum. */
    public int quorum() {
      return (n() + f()) / 2 + 1;
    }
  }

  /** Context of the request to sign our echo. */
  private record SignEchoContext() {}

  /** Context of the check of one echo signature received by the leader. */
  private record VerifyEchoContext(NodeId signer, ByteString signature) {}

  /** Context of the check of the signatures of a received Final. */
  private record VerifyFinalContext(ByteString data) {}

  private final Config config;
  private final Params params;
  private final NodeId self;
  private final DslModule dsl;

  // Leader only: the value being broadcast; not in the textbook, but the echoes carry no data.
  private ByteString request;
  private boolean receivedStart;
  private boolean sentEcho;
  private final Set<NodeId> receivedEcho = new HashSet<>();
  // Sorted by signer so that the Final does not depend on arrival order.
  private final SortedMap<NodeId, ByteString> echoSigs = new TreeMap<>();
  private boolean sentFinal;
  private boolean verifyingFinal;
  private boolean delivered;
  private long rejected;

  /**
   * Returns the BCB module of node {@code self}.
   *
   * @throws IllegalArgumentException if {@code self} is not one of the instance's nodes
   */
  public BcbModule(Config config, Params params, NodeId self) {
    this.config = Objects.requireNonNull(config, "config");
    this.params = Objects.requireNonNull(params, "params");
    this.self = Objects.requireNonNull(self, "self");
    if (!params.allNodes().contains(self)) {
      throw new IllegalArgumentException(
          "node " + self + " is not among the instance's nodes " + params.allNodes());
    }
    dsl = new DslModule(config.self());

    // upon event <bcb, Broadcast | m> do    // only the leader s
    dsl.upon(BroadcastRequest.class, r -> onBroadcastRequest(r.getData()));

    // upon event <al, Deliver | p, [SEND, m]> such that p = s and sentecho = FALSE do
    dsl.uponMessage(StartMessage.class, (from, msg) -> onStart(from, msg.getData()));

    //     σ := sign(self, bcb‖self‖ECHO‖m); sentecho := TRUE; trigger <al, Send | s, [ECHO, m, σ]>
    CryptoDsl.uponSignResult(dsl, SignEchoContext.class, (sig, ctx) -> onEchoSigned(sig));

    // upon event <al, Deliver | p, [ECHO, m, σ]> do    // only the leader s
    dsl.uponMessage(EchoMessage.class, (from, msg) -> onEcho(from, msg.getSignature()));

    //     if echos[p] = ⊥ ∧ verifysig(p, bcb‖p‖ECHO‖m, σ) then echos[p] := σ
    CryptoDsl.uponOneNodeSigVerified(dsl, VerifyEchoContext.class, this::onEchoVerified);

    // upon exists m ≠ ⊥ such that #({p ∈ Π | echos[p] = m}) > (N+f)/2 and sentfinal = FALSE do
    //     sentfinal := TRUE; for all q ∈ Π do trigger <al, Send | q, [FINAL, m, Σ]>
    dsl.uponCondition(this::sendFinalOnEchoQuorum);

    // upon event <al, Deliver | p, [FINAL, m, Σ]> do
    dsl.uponMessage(FinalMessage.class, this::onFinal);

    //     if #({p ∈ Π | Σ[p] ≠ ⊥ ∧ verifysig(p, bcb‖p‖ECHO‖m, Σ[p])}) > (N+f)/2 and delivered =
    // FALSE
    //     do delivered := TRUE; trigger <bcb, Deliver | s, m>
    CryptoDsl.uponNodeSigsVerified(dsl, VerifyFinalContext.class, this::onFinalVerified);
  }

  /** Takes the broadcast messages of peers. */
  @Override
  public boolean receivesMessages() {
    return true;
  }

  @Override
  public EventList applyEvents(EventList events) throws Exception {
    return dsl.applyEvents(events);
  }

  /** This module's configuration. */
  public Config config() {
    return config;
  }

  /** This instance's parameters. */
  public Params params() {
    return params;
  }

  /** Whether this node has delivered the instance's value. */
  public boolean hasDelivered() {
    return delivered;
  }

  /**
   * The number of received messages this module discarded without acting on them: undecodable,
   * invalid (see the class documentation), duplicates, too late to matter, or carrying invalid
   * signatures.
   */
  public long droppedMessages() {
    return dsl.droppedMessages() + rejected;
  }

  // ---------------------------------------------------------------------------------------------
  // Handlers

  private void onBroadcastRequest(ByteString data) {
    if (!self.equals(params.leader())) {
      throw new IllegalStateException(
          "BCB: only the leader " + params.leader() + " can broadcast, not node " + self);
    }
    if (request != null) {
      throw new IllegalStateException("BCB: this instance has already broadcast a value");
    }
    if (data.size() > params.maxDataBytes()) {
      throw new IllegalArgumentException(
          "BCB: value of " + data.size() + " bytes exceeds the limit of " + params.maxDataBytes());
    }
    request = data;
    dsl.sendMessage(config.net(), config.self(), BcbMessages.start(data), params.allNodes());
  }

  private void onStart(NodeId from, ByteString data) {
    if (!from.equals(params.leader())) {
      reject(from, "Start", "sender is not the leader " + params.leader());
    } else if (receivedStart) {
      reject(from, "Start", "already received a Start");
    } else if (data.size() > params.maxDataBytes()) {
      reject(from, "Start", "value of " + data.size() + " bytes exceeds the limit");
    } else {
      receivedStart = true;
      CryptoDsl.signRequest(
          dsl,
          config.crypto(),
          BcbMessages.echoSignedData(params.instanceUid(), data),
          new SignEchoContext());
    }
  }

  private void onEchoSigned(ByteString signature) {
    if (!sentEcho) {
      sentEcho = true;
      dsl.sendMessage(
          config.net(), config.self(), BcbMessages.echo(signature), List.of(params.leader()));
    }
  }

  private void onEcho(NodeId from, ByteString signature) {
    if (!self.equals(params.leader())) {
      reject(from, "Echo", "this node is not the leader");
    } else if (request == null) {
      reject(from, "Echo", "nothing broadcast yet");
    } else if (sentFinal) {
      reject(from, "Echo", "Final already sent");
    } else if (!params.allNodes().contains(from)) {
      reject(from, "Echo", "sender is not a member");
    } else if (signature.size() > MAX_SIGNATURE_BYTES) {
      reject(from, "Echo", "signature of " + signature.size() + " bytes is too long");
    } else if (!receivedEcho.add(from)) {
      reject(from, "Echo", "already received an Echo from this node");
    } else {
      CryptoDsl.verifyOneNodeSig(
          dsl,
          config.crypto(),
          BcbMessages.echoSignedData(params.instanceUid(), request),
          signature,
          from,
          new VerifyEchoContext(from, signature));
    }
  }

  private void onEchoVerified(VerificationResult result, VerifyEchoContext ctx) {
    if (result.valid()) {
      echoSigs.put(ctx.signer(), ctx.signature());
    } else {
      reject(ctx.signer(), "Echo", "invalid signature: " + result.error());
    }
  }

  private void sendFinalOnEchoQuorum() {
    if (!sentFinal && echoSigs.size() >= params.quorum()) {
      sentFinal = true;
      FinalMessage msg =
          BcbMessages.finalMessage(
              request, List.copyOf(echoSigs.keySet()), List.copyOf(echoSigs.values()));
      dsl.sendMessage(config.net(), config.self(), msg, params.allNodes());
    }
  }

  private void onFinal(NodeId from, FinalMessage msg) {
    String problem = checkFinal(from, msg);
    if (problem != null) {
      reject(from, "Final", problem);
      return;
    }
    verifyingFinal = true;
    List<SigVerItem> items = new ArrayList<>(msg.getSignersCount());
    List<ByteString> signed = BcbMessages.echoSignedData(params.instanceUid(), msg.getData());
    for (int i = 0; i < msg.getSignersCount(); i++) {
      items.add(
          CryptoEvents.sigVerItem(signed, msg.getSignatures(i), NodeId.of(msg.getSigners(i))));
    }
    CryptoDsl.verifyNodeSigs(dsl, config.crypto(), items, new VerifyFinalContext(msg.getData()));
  }

  /** Returns why a received Final must be dropped before any signature check, or null. */
  private String checkFinal(NodeId from, FinalMessage msg) {
    if (!from.equals(params.leader())) {
      return "sender is not the leader " + params.leader();
    }
    if (delivered) {
      return "already delivered";
    }
    if (verifyingFinal) {
      return "another Final is being checked";
    }
    int signers = msg.getSignersCount();
    if (signers != msg.getSignaturesCount()) {
      return signers + " signers but " + msg.getSignaturesCount() + " signatures";
    }
    if (signers < params.quorum() || signers > params.n()) {
      return signers + " signers, need " + params.quorum() + " to " + params.n();
    }
    if (msg.getData().size() > params.maxDataBytes()) {
      return "value of " + msg.getData().size() + " bytes exceeds the limit";
    }
    Set<NodeId> seen = new HashSet<>();
    for (int i = 0; i < signers; i++) {
      NodeId signer;
      try {
        signer = NodeId.of(msg.getSigners(i));
      } catch (IllegalArgumentException e) {
        return "malformed signer ID at position " + i;
      }
      if (!params.allNodes().contains(signer)) {
        return "signer " + signer + " is not a member";
      }
      if (!seen.add(signer)) {
        return "signer " + signer + " appears twice";
      }
      if (msg.getSignatures(i).size() > MAX_SIGNATURE_BYTES) {
        return "signature of " + signer + " is too long";
      }
    }
    return null;
  }

  private void onFinalVerified(
      List<VerificationResult> results, boolean allOk, VerifyFinalContext ctx) {
    verifyingFinal = false;
    boolean valid = allOk && results.size() >= params.quorum();
    for (VerificationResult r : results) {
      valid &= r.valid();
    }
    if (!valid) {
      reject(params.leader(), "Final", "invalid signatures: " + results);
      return;
    }
    if (!delivered) {
      delivered = true;
      dsl.emit(BcbEvents.deliver(config.consumer(), ctx.data()));
    }
  }

  private void reject(NodeId from, String type, String reason) {
    rejected++;
    if (LOG.isDebugEnabled()) {
      LOG.debug("{}: dropping {} from {}: {}", config.self(), type, from, reason);
    }
  }

  /** A summary of the module's state, for logs and debugging. */
  @Override
  public String toString() {
    return "BcbModule[self="
        + self
        + ", leader="
        + params.leader()
        + ", sentEcho="
        + sentEcho
        + ", echoSigs="
        + echoSigs.size()
        + ", sentFinal="
        + sentFinal
        + ", delivered="
        + delivered
        + ", dropped="
        + droppedMessages()
        + "]";
  }
}
