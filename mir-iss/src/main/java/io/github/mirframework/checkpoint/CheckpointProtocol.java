package io.github.mirframework.checkpoint;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.github.mirframework.checkpoint.pb.AppSnapshot;
import io.github.mirframework.checkpoint.pb.Checkpoint;
import io.github.mirframework.checkpoint.pb.ClientProgress;
import io.github.mirframework.checkpoint.pb.EpochConfig;
import io.github.mirframework.checkpoint.pb.EpochData;
import io.github.mirframework.checkpoint.pb.InstanceParams;
import io.github.mirframework.checkpoint.pb.StableCheckpoint;
import io.github.mirframework.checkpoint.pb.StateSnapshot;
import io.github.mirframework.crypto.CryptoDsl;
import io.github.mirframework.crypto.CryptoEvents;
import io.github.mirframework.crypto.CryptoModule;
import io.github.mirframework.crypto.HasherModule;
import io.github.mirframework.crypto.VerificationResult;
import io.github.mirframework.crypto.pb.HashResult;
import io.github.mirframework.dsl.DslModule;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.factory.FactoryModule;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.types.EpochNr;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import io.github.mirframework.types.RetentionIndex;
import io.github.mirframework.types.SeqNr;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One instance of the checkpoint protocol (Mir's {@code checkpoint.Protocol}): the nodes of an
 * epoch agree on the state snapshot at the epoch's first sequence number and produce a stable
 * checkpoint certified by a strong quorum of signatures. One instance runs per epoch as submodule
 * {@code checkpoint/<epoch>} of a factory made by {@link #factory}.
 *
 * <p><b>Flow.</b> The instance waits for three local inputs, in any order (later copies of each are
 * ignored): {@link AppSnapshot} (the application's state), {@link EpochConfig} (from ISS; its epoch
 * and first sequence number must be the instance's) and {@link ClientProgress} (from the batch
 * fetcher). It then asks the hasher for the snapshot hash ({@link SnapshotHashing}), asks the
 * crypto module to sign {@code [epoch, sn, hash]}, and broadcasts {@link Checkpoint}{@code {epoch,
 * sn, hash, signature}} to all nodes of the instance, repeatedly (a {@code TimerRepeat} with period
 * {@link Params#resendPeriod()} and retention index = epoch, stopped when ISS garbage-collects the
 * epoch's timers). For every acceptable received Checkpoint it reports {@code EpochProgress{sender,
 * epoch}} to ISS; a message with the node's own hash from a new sender has its signature checked;
 * once valid signatures of a strong quorum (⌊(n+f)/2⌋+1, f = ⌊(n−1)/3⌋), its own included, are
 * known, it emits one {@link StableCheckpoint}{@code {sn, snapshot, cert}} to ISS. Messages that
 * arrive before the own signature exists are kept (one per sender) and processed after signing.
 *
 * <p><b>Untrusted input.</b> A received Checkpoint is ignored, with a log line and counted in
 * {@link #droppedMessages()}, if: the sender is not a node of the instance; its epoch or sequence
 * number is not the instance's; its hash is longer than {@link #MAX_HASH_BYTES} or its signature
 * longer than {@link StableCheckpoints#MAX_SIGNATURE_BYTES}; its hash differs from the node's own;
 * the sender already sent one that is being or was checked (as in Mir, a sender whose first
 * signature was invalid is not checked again); or the checkpoint is already stable (it is still
 * reported as epoch progress). Invalid signatures are logged and never counted. Thus a Byzantine
 * node costs at most one signature check and one buffered message per instance.
 *
 * <p><b>Deviations from Mir.</b> Messages from non-members and with a wrong epoch or sequence
 * number are dropped (Mir accepted them); oversized fields are dropped; the resend timer is the
 * configured {@link Config#timer()} (Mir hard-coded {@code "timer"}); the stable checkpoint is
 * announced once (as Mir's later versions do), not again for every late confirmation.
 *
 * <p>Errors of the local node stop it: an EpochConfig of another epoch or first sequence number, a
 * malformed hash result.
 *
 * <p>Not thread-safe; a passive module, called by one thread at a time.
 */
public final class CheckpointProtocol implements PassiveModule {
  /** Mir's default ID of the checkpoint factory module. */
  public static final ModuleId DEFAULT_ID = ModuleId.of("checkpoint");

  /** Mir's default period of resending the own Checkpoint message. */
  public static final Duration DEFAULT_RESEND_PERIOD = Duration.ofSeconds(1);

  /** Largest accepted snapshot hash in a received message, in bytes (SHA-512 is 64). */
  public static final int MAX_HASH_BYTES = 64;

  private static final Logger LOG = LoggerFactory.getLogger(CheckpointProtocol.class);

  /**
   * The IDs of the modules the checkpoint protocol talks to (Mir's {@code ModuleConfig}).
   *
   * @param self the factory's ID ({@code "checkpoint"}), or, for an instance, its full ID {@code
   *     checkpoint/<epoch>} (the factory sets it)
   * @param app the module that answers snapshot requests ({@code "batchfetcher"}); kept for parity,
   *     the protocol itself does not send to it
   * @param hasher the hasher ({@code "hasher"})
   * @param crypto the crypto module that signs and checks signatures ({@code "crypto"})
   * @param wal the write-ahead log ({@code "wal"}); kept for parity, unused as in Mir
   * @param net the transport ({@code "net"})
   * @param ord the ordering protocol that receives stable checkpoints and epoch progress ({@code
   *     "iss"})
   * @param timer the timer for resending ({@code "timer"})
   */
  public record Config(
      ModuleId self,
      ModuleId app,
      ModuleId hasher,
      ModuleId crypto,
      ModuleId wal,
      ModuleId net,
      ModuleId ord,
      ModuleId timer) {
    /** Checks that no ID is missing. */
    public Config {
      Objects.requireNonNull(self, "self");
      Objects.requireNonNull(app, "app");
      Objects.requireNonNull(hasher, "hasher");
      Objects.requireNonNull(crypto, "crypto");
      Objects.requireNonNull(wal, "wal");
      Objects.requireNonNull(net, "net");
      Objects.requireNonNull(ord, "ord");
      Objects.requireNonNull(timer, "timer");
    }

    /** Mir's defaults. */
    public static Config defaults() {
      return new Config(
          DEFAULT_ID,
          ModuleId.of("batchfetcher"),
          HasherModule.DEFAULT_ID,
          CryptoModule.DEFAULT_ID,
          ModuleId.of("wal"),
          ModuleId.of("net"),
          ModuleId.of("iss"),
          ModuleId.of("timer"));
    }

    /** A copy with another own ID. */
    public Config withSelf(ModuleId id) {
      return new Config(id, app, hasher, crypto, wal, net, ord, timer);
    }

    /** A copy with another application module. */
    public Config withApp(ModuleId id) {
      return new Config(self, id, hasher, crypto, wal, net, ord, timer);
    }

    /** A copy with another hasher. */
    public Config withHasher(ModuleId id) {
      return new Config(self, app, id, crypto, wal, net, ord, timer);
    }

    /** A copy with another crypto module. */
    public Config withCrypto(ModuleId id) {
      return new Config(self, app, hasher, id, wal, net, ord, timer);
    }

    /** A copy with another WAL. */
    public Config withWal(ModuleId id) {
      return new Config(self, app, hasher, crypto, id, net, ord, timer);
    }

    /** A copy with another transport. */
    public Config withNet(ModuleId id) {
      return new Config(self, app, hasher, crypto, wal, id, ord, timer);
    }

    /** A copy with another ordering module. */
    public Config withOrd(ModuleId id) {
      return new Config(self, app, hasher, crypto, wal, net, id, timer);
    }

    /** A copy with another timer. */
    public Config withTimer(ModuleId id) {
      return new Config(self, app, hasher, crypto, wal, net, ord, id);
    }
  }

  /**
   * The parameters of one instance (Mir's {@code InstanceParams}). All nodes of the instance must
   * use the same ones.
   *
   * @param nodeIds the nodes that run this instance and whose signatures count, without duplicates
   * @param epoch the epoch this checkpoint starts
   * @param seqNr the checkpoint's sequence number (the epoch's first)
   * @param resendPeriod how often the own Checkpoint message is resent (default 1 s); positive
   */
  public record Params(List<NodeId> nodeIds, EpochNr epoch, SeqNr seqNr, Duration resendPeriod) {
    /** Validates the parameters; messages name the bad value. */
    public Params {
      Objects.requireNonNull(nodeIds, "nodeIds");
      Objects.requireNonNull(epoch, "epoch");
      Objects.requireNonNull(seqNr, "seqNr");
      Objects.requireNonNull(resendPeriod, "resendPeriod");
      nodeIds = List.copyOf(nodeIds);
      if (nodeIds.isEmpty()) {
        throw new IllegalArgumentException("nodeIds must not be empty");
      }
      if (new HashSet<>(nodeIds).size() != nodeIds.size()) {
        throw new IllegalArgumentException("nodeIds contains duplicates: " + nodeIds);
      }
      if (resendPeriod.isNegative() || resendPeriod.isZero()) {
        throw new IllegalArgumentException("resendPeriod must be positive: " + resendPeriod);
      }
    }

    /** Parameters with the default resend period. */
    public Params(List<NodeId> nodeIds, EpochNr epoch, SeqNr seqNr) {
      this(nodeIds, epoch, seqNr, DEFAULT_RESEND_PERIOD);
    }

    /** A copy with another resend period. */
    public Params withResendPeriod(Duration period) {
      return new Params(nodeIds, epoch, seqNr, period);
    }

    /**
     * Reads generator parameters.
     *
     * @throws IllegalArgumentException if they are invalid
     */
    public static Params fromProto(InstanceParams p) {
      List<NodeId> ids = new ArrayList<>(p.getNodeIdsCount());
      for (String id : p.getNodeIdsList()) {
        ids.add(NodeId.of(id));
      }
      if (p.getResendPeriodNs() <= 0) {
        throw new IllegalArgumentException(
            "resend period must be positive: " + Long.toUnsignedString(p.getResendPeriodNs()));
      }
      return new Params(
          ids,
          EpochNr.of(p.getEpoch()),
          SeqNr.of(p.getSeqNr()),
          Duration.ofNanos(p.getResendPeriodNs()));
    }

    /** The generator parameters for these parameters. */
    public InstanceParams toProto() {
      return CheckpointEvents.instanceParams(nodeIds, epoch, seqNr, resendPeriod);
    }

    /** The number of nodes. */
    public int n() {
      return nodeIds.size();
    }

    /** The strong quorum ⌊(n+f)/2⌋+1. */
    public int strongQuorum() {
      return StableCheckpoints.strongQuorum(n());
    }
  }

  /** Context of the hash request. */
  private record HashContext() {}

  /** Context of the request to sign the own checkpoint. */
  private record SignContext() {}

  /** Context of the check of a received signature. */
  private record VerifyContext(NodeId sender, ByteString signature) {}

  private final Config config;
  private final Params params;
  private final NodeId self;
  private final Set<NodeId> members;
  private final DslModule dsl;

  private ByteString appData;
  private EpochConfig epochConfig;
  private ClientProgress clientProgress;
  private boolean hashRequested;
  private ByteString snapshotHash;
  private ByteString ownSignature;
  // Senders whose message was accepted for a signature check (valid, invalid or pending).
  private final Set<NodeId> checked = new HashSet<>();
  // Valid signatures, the own one included, sorted by node.
  private final SortedMap<NodeId, ByteString> confirmations = new TreeMap<>();
  // Messages received before the own signature existed: one per sender, members only.
  private final Map<NodeId, Checkpoint> pending = new LinkedHashMap<>();
  private final Set<NodeId> warned = new HashSet<>();
  private boolean announced;
  private long rejected;

  /**
   * Returns the instance of node {@code self}. {@code config.self()} is the instance's full ID.
   *
   * @throws IllegalArgumentException if {@code self} is not one of the instance's nodes
   */
  public CheckpointProtocol(Config config, Params params, NodeId self) {
    this.config = Objects.requireNonNull(config, "config");
    this.params = Objects.requireNonNull(params, "params");
    this.self = Objects.requireNonNull(self, "self");
    this.members = Set.copyOf(params.nodeIds());
    if (!members.contains(self)) {
      throw new IllegalArgumentException(
          "node " + self + " is not among the instance's nodes " + params.nodeIds());
    }
    dsl = new DslModule(config.self());

    // upon event <app, Snapshot | data> do snapshot.app := data (first one only)
    dsl.upon(AppSnapshot.class, this::onAppSnapshot);
    // upon event <iss, EpochConfig | config> do snapshot.config := config (first one only)
    dsl.upon(EpochConfig.class, this::onEpochConfig);
    // upon event <batchfetcher, ClientProgress | cp> do snapshot.progress := cp (first one only)
    dsl.upon(ClientProgress.class, this::onClientProgress);
    // upon snapshot complete do trigger <hasher, Hash | snapshot>
    dsl.uponCondition(this::hashWhenSnapshotComplete);
    // upon event <hasher, HashResult | h> do hash := h; trigger <crypto, Sign | [epoch, sn, h]>
    dsl.uponResponse(HashResult.class, HashResult::getOrigin, HashContext.class, this::onHash);
    // upon event <crypto, SignResult | σ> do sigs[self] := σ;
    //     every resendPeriod: for all q in nodes: trigger <net, Send | q, [CHECKPOINT, e, sn, h,
    // σ]>
    //     process pending messages
    CryptoDsl.uponSignResult(dsl, SignContext.class, (sig, ctx) -> onSigned(sig));
    // upon event <net, Deliver | p, [CHECKPOINT, e, sn, h', σ]> do
    //     trigger <iss, EpochProgress | p, e>; if h' = hash and p new: verify σ
    dsl.uponMessage(Checkpoint.class, this::onCheckpoint);
    // upon event <crypto, SigVerified | p, valid> such that valid do sigs[p] := σ
    CryptoDsl.uponOneNodeSigVerified(dsl, VerifyContext.class, this::onVerified);
    // upon #sigs >= strong quorum and not announced do trigger <iss, StableCheckpoint | sn,
    // snapshot,
    // sigs>
    dsl.uponCondition(this::announceWhenStable);
  }

  /**
   * Returns the factory module for checkpoint instances of node {@code self} (Mir's {@code
   * checkpoint.Factory}): a {@link FactoryModule} with ID {@code config.self()} that creates a
   * {@code CheckpointProtocol} for each {@code NewModule} whose parameters are an {@link
   * InstanceParams} (see {@link CheckpointEvents#newInstance}).
   */
  public static FactoryModule factory(Config config, NodeId self) {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(self, "self");
    return new FactoryModule(
        config.self(), FactoryModule.Params.defaults((id, any) -> generate(config, self, id, any)));
  }

  private static CheckpointProtocol generate(Config config, NodeId self, ModuleId id, Any any)
      throws InvalidProtocolBufferException {
    if (!any.is(InstanceParams.class)) {
      throw new IllegalArgumentException(
          "checkpoint factory: expected InstanceParams, got " + any.getTypeUrl());
    }
    Params params = Params.fromProto(any.unpack(InstanceParams.class));
    return new CheckpointProtocol(config.withSelf(id), params, self);
  }

  /** Takes checkpoint messages from peers. */
  @Override
  public boolean receivesMessages() {
    return true;
  }

  @Override
  public EventList applyEvents(EventList events) throws Exception {
    return dsl.applyEvents(events);
  }

  /** This instance's configuration. */
  public Config config() {
    return config;
  }

  /** This instance's parameters. */
  public Params params() {
    return params;
  }

  /** Whether the stable checkpoint has been announced. */
  public boolean isStable() {
    return announced;
  }

  /** The own snapshot hash, once computed. */
  public Optional<ByteString> snapshotHash() {
    return Optional.ofNullable(snapshotHash);
  }

  /** The nodes whose valid signatures this instance holds, its own included. */
  public Set<NodeId> confirmations() {
    return Collections.unmodifiableSet(new TreeSet<>(confirmations.keySet()));
  }

  /** The number of received messages discarded without acting on them (see class doc). */
  public long droppedMessages() {
    return dsl.droppedMessages() + rejected;
  }

  // ---------------------------------------------------------------------------------------------
  // Local inputs

  private void onAppSnapshot(AppSnapshot s) {
    if (appData == null) {
      appData = s.getAppData();
    }
  }

  private void onEpochConfig(EpochConfig c) {
    if (c.getEpochNr() != params.epoch().value() || c.getFirstSn() != params.seqNr().value()) {
      throw new IllegalArgumentException(
          config.self()
              + ": epoch config of epoch "
              + Long.toUnsignedString(c.getEpochNr())
              + " starting at "
              + Long.toUnsignedString(c.getFirstSn())
              + ", expected epoch "
              + params.epoch()
              + " starting at "
              + params.seqNr());
    }
    if (epochConfig == null) {
      epochConfig = c;
    }
  }

  private void onClientProgress(ClientProgress cp) {
    if (clientProgress == null) {
      clientProgress = cp;
    }
  }

  private boolean snapshotReady() {
    return appData != null && epochConfig != null && clientProgress != null;
  }

  private StateSnapshot snapshot() {
    return StateSnapshot.newBuilder()
        .setAppData(appData)
        .setEpochData(
            EpochData.newBuilder().setEpochConfig(epochConfig).setClientProgress(clientProgress))
        .build();
  }

  private void hashWhenSnapshotComplete() {
    if (!hashRequested && snapshotReady()) {
      hashRequested = true;
      dsl.emit(
          CryptoEvents.hashRequest(
              config.hasher(),
              List.of(CryptoEvents.hashData(SnapshotHashing.snapshotForHash(snapshot()))),
              dsl.origin(new HashContext())));
    }
  }

  private void onHash(HashResult result, HashContext ctx) {
    if (result.getDigestsCount() != 1) {
      throw new IllegalStateException(
          config.self() + ": expected one digest, got " + result.getDigestsCount());
    }
    if (snapshotHash != null) {
      return;
    }
    snapshotHash = result.getDigests(0);
    CryptoDsl.signRequest(
        dsl,
        config.crypto(),
        SnapshotHashing.checkpointForSig(params.epoch(), params.seqNr(), snapshotHash),
        new SignContext());
  }

  private void onSigned(ByteString signature) {
    if (ownSignature != null) {
      return;
    }
    ownSignature = signature;
    checked.add(self);
    confirmations.put(self, signature);
    Checkpoint msg =
        CheckpointEvents.checkpointMessage(params.epoch(), params.seqNr(), snapshotHash, signature);
    dsl.emit(
        Events.timerRepeat(
            config.timer(),
            List.of(Events.sendMessage(config.net(), config.self(), msg, params.nodeIds())),
            params.resendPeriod(),
            RetentionIndex.of(params.epoch().value())));
    LOG.debug(
        "{}: sending checkpoint message, epoch {}, sn {}, {} bytes of app data",
        config.self(),
        params.epoch(),
        params.seqNr(),
        appData.size());
    List<Map.Entry<NodeId, Checkpoint>> early = new ArrayList<>(pending.entrySet());
    pending.clear();
    for (Map.Entry<NodeId, Checkpoint> e : early) {
      processCheckpoint(e.getKey(), e.getValue());
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Messages

  private void onCheckpoint(NodeId from, Checkpoint msg) {
    if (!members.contains(from)) {
      reject(from, "sender is not a node of this instance");
      return;
    }
    if (msg.getEpoch() != params.epoch().value()) {
      reject(from, "epoch " + Long.toUnsignedString(msg.getEpoch()) + " is not " + params.epoch());
      return;
    }
    if (msg.getSn() != params.seqNr().value()) {
      reject(from, "sn " + Long.toUnsignedString(msg.getSn()) + " is not " + params.seqNr());
      return;
    }
    if (msg.getSnapshotHash().size() > MAX_HASH_BYTES) {
      reject(from, "snapshot hash of " + msg.getSnapshotHash().size() + " bytes");
      return;
    }
    if (msg.getSignature().size() > StableCheckpoints.MAX_SIGNATURE_BYTES) {
      reject(from, "signature of " + msg.getSignature().size() + " bytes");
      return;
    }
    // The sender is working on this epoch; ISS uses this to find nodes that lag behind.
    dsl.emit(CheckpointEvents.epochProgress(config.ord(), from, params.epoch()));
    if (ownSignature == null) {
      pending.put(from, msg);
      return;
    }
    processCheckpoint(from, msg);
  }

  private void processCheckpoint(NodeId from, Checkpoint msg) {
    if (announced) {
      reject(from, "checkpoint already stable");
      return;
    }
    if (!msg.getSnapshotHash().equals(snapshotHash)) {
      warnOnce(from, "snapshot hash differs from ours");
      reject(from, "snapshot hash differs from ours");
      return;
    }
    if (!checked.add(from)) {
      reject(from, "already have a checkpoint message of this node");
      return;
    }
    CryptoDsl.verifyOneNodeSig(
        dsl,
        config.crypto(),
        SnapshotHashing.checkpointForSig(params.epoch(), params.seqNr(), snapshotHash),
        msg.getSignature(),
        from,
        new VerifyContext(from, msg.getSignature()));
  }

  private void onVerified(VerificationResult result, VerifyContext ctx) {
    if (!result.valid()) {
      // As in Mir, the sender stays in `checked`: later messages from it are not checked again.
      warnOnce(ctx.sender(), "invalid signature: " + result.error());
      rejected++;
      return;
    }
    confirmations.putIfAbsent(ctx.sender(), ctx.signature());
  }

  private void announceWhenStable() {
    if (announced || !snapshotReady() || confirmations.size() < params.strongQuorum()) {
      return;
    }
    announced = true;
    StableCheckpoint.Builder sc =
        StableCheckpoint.newBuilder().setSn(params.seqNr().value()).setSnapshot(snapshot());
    confirmations.forEach((id, sig) -> sc.putCert(id.value(), sig));
    dsl.emit(CheckpointEvents.stableCheckpoint(config.ord(), sc.build()));
    LOG.debug(
        "{}: checkpoint stable at sn {} with signatures of {}",
        config.self(),
        params.seqNr(),
        confirmations.keySet());
  }

  private void reject(NodeId from, String reason) {
    rejected++;
    if (LOG.isDebugEnabled()) {
      LOG.debug("{}: ignoring Checkpoint message from {}: {}", config.self(), from, reason);
    }
  }

  private void warnOnce(NodeId from, String reason) {
    if (warned.add(from)) {
      LOG.warn("{}: Checkpoint message from {} is invalid: {}", config.self(), from, reason);
    }
  }

  @Override
  public String toString() {
    return "CheckpointProtocol[self="
        + config.self()
        + ", node="
        + self
        + ", snapshotReady="
        + snapshotReady()
        + ", signed="
        + (ownSignature != null)
        + ", confirmations="
        + confirmations.keySet()
        + ", stable="
        + announced
        + ", dropped="
        + droppedMessages()
        + "]";
  }
}
