package io.github.mirframework.iss;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.github.mirframework.availability.AvailabilityEvents;
import io.github.mirframework.availability.msc.pb.InstanceParams;
import io.github.mirframework.availability.pb.Cert;
import io.github.mirframework.availability.pb.NewCert;
import io.github.mirframework.checkpoint.CheckpointEvents;
import io.github.mirframework.checkpoint.CheckpointProtocol;
import io.github.mirframework.checkpoint.SnapshotHashing;
import io.github.mirframework.checkpoint.StableCheckpoints;
import io.github.mirframework.checkpoint.pb.ClientProgress;
import io.github.mirframework.checkpoint.pb.EpochConfig;
import io.github.mirframework.checkpoint.pb.EpochData;
import io.github.mirframework.checkpoint.pb.EpochProgress;
import io.github.mirframework.checkpoint.pb.LeaderPolicy;
import io.github.mirframework.checkpoint.pb.Membership;
import io.github.mirframework.checkpoint.pb.StableCheckpoint;
import io.github.mirframework.checkpoint.pb.StateSnapshot;
import io.github.mirframework.contextstore.ContextStore;
import io.github.mirframework.crypto.CryptoEvents;
import io.github.mirframework.crypto.CryptoModule;
import io.github.mirframework.crypto.HasherModule;
import io.github.mirframework.crypto.pb.HashData;
import io.github.mirframework.crypto.pb.HashResult;
import io.github.mirframework.crypto.pb.NodeSigsVerified;
import io.github.mirframework.crypto.pb.SigVerItem;
import io.github.mirframework.crypto.pb.SignResult;
import io.github.mirframework.dsl.DslModule;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.pb.Origin;
import io.github.mirframework.factory.FactoryEvents;
import io.github.mirframework.iss.pb.AppRestoreState;
import io.github.mirframework.iss.pb.CheckpointHashOrigin;
import io.github.mirframework.iss.pb.CheckpointSigVerOrigin;
import io.github.mirframework.iss.pb.LogEntryHashOrigin;
import io.github.mirframework.iss.pb.NewConfig;
import io.github.mirframework.iss.pb.PersistedCheckpoint;
import io.github.mirframework.iss.pb.PushCheckpoint;
import io.github.mirframework.iss.pb.SbEvent;
import io.github.mirframework.iss.pb.SbHashOrigin;
import io.github.mirframework.iss.pb.SbMessage;
import io.github.mirframework.iss.pb.SbSigVerOrigin;
import io.github.mirframework.iss.pb.SbSignOrigin;
import io.github.mirframework.iss.pb.StableCheckpointMessage;
import io.github.mirframework.iss.pbft.OrdererContext;
import io.github.mirframework.iss.pbft.PbftEvents;
import io.github.mirframework.iss.pbft.PbftOrderer;
import io.github.mirframework.iss.pbft.PbftParams;
import io.github.mirframework.iss.pbft.Segment;
import io.github.mirframework.iss.pbft.pb.PbftEvent;
import io.github.mirframework.iss.pbft.pb.PbftHashOrigin;
import io.github.mirframework.iss.pbft.pb.PbftMessage;
import io.github.mirframework.iss.pbft.pb.PbftSigVerOrigin;
import io.github.mirframework.iss.pbft.pb.PbftSignOrigin;
import io.github.mirframework.messagebuffer.MessageBuffer;
import io.github.mirframework.metrics.OrderingMetrics;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.types.EpochNr;
import io.github.mirframework.types.LittleEndian;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import io.github.mirframework.types.RetentionIndex;
import io.github.mirframework.types.SeqNr;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ISS ordering protocol (Mir's {@code iss.ISS}): it cuts the log of sequence numbers into
 * epochs, each epoch into one segment per leader (interleaved sequence numbers), runs one {@link
 * PbftOrderer} per segment, and delivers what the orderers agree on — availability certificates —
 * in sequence-number order to the application side ({@code DeliverCert} to {@link Config#app()}).
 *
 * <p><b>Epochs.</b> Epoch e starts at a stable checkpoint. Certificates of e are delivered only
 * once the checkpoint at the epoch's first sequence number is stable. When every sequence number of
 * e has been delivered and the application has announced the membership decided in e ({@code
 * NewConfig}), ISS moves to e+1: it tells the application ({@code NewEpoch}), creates the
 * checkpoint instance {@code checkpoint/<e+1>} and asks the application for the snapshot it
 * checkpoints. A membership decided in epoch e governs epoch e+ConfigOffset.
 *
 * <p><b>Routing.</b> Orderer messages carry (epoch, instance). A message for a future epoch is kept
 * in a bounded per-sender buffer (senders that were never members are dropped); a message for an
 * epoch still retained (the current one, or an older one not yet pruned) goes to that epoch's
 * orderer if the instance exists and the sender is a member of that epoch; a message for a pruned
 * epoch is ignored. Rejections are logged and counted ({@link #rejectedMessages()}), never thrown.
 *
 * <p><b>Stable checkpoints.</b> A newer stable checkpoint is passed to the application, unblocks
 * delivery and prunes every epoch more than {@link Params#retainedEpochs()} behind it (WAL, timers,
 * checkpoint and availability instances, orderers). From then on ISS periodically pushes it to
 * members that lag behind; a node receiving a pushed checkpoint more than one epoch ahead of its
 * own verifies it (snapshot hash and certificate signatures by members of its current epoch) and
 * installs it (state transfer). Its certificate must hold a weak quorum of valid signatures by the
 * nodes of the epoch before the checkpoint's, or, if that membership is beyond what the node knows,
 * by the nodes of the latest membership it knows; other signatures are dropped. The sender must be
 * a member of some epoch the node knows.
 *
 * <p><b>Deviations from Mir.</b> Future-epoch messages from non-members are dropped (Mir crashed);
 * a delivered certificate that does not parse is delivered as empty (Mir failed the node, but the
 * bytes come from a possibly Byzantine leader); a pushed checkpoint's certificate is really
 * verified (Mir checked it against a dummy hash and ignored the verdict), and installing it takes
 * the epoch's nodes from the checkpoint (Mir took its own stale ones); a node that a
 * reconfiguration removed from an epoch runs no orderers in it (Mir ran them anyway); orderer
 * events carry typed origins ({@code SbHashOrigin} ...) rather than Mir's origin union.
 *
 * <p><b>Crash recovery.</b> Every stable checkpoint is appended to the WAL (retention index: its
 * epoch), and the WAL is truncated below the oldest retained epoch, so it holds the latest stable
 * checkpoint and the orderers' entries of the epochs from there on. A restarted node replays its
 * WAL before Init: it starts from the latest persisted stable checkpoint (restoring the application
 * from it) instead of the one it was created with, and hands each orderer the entries it appended
 * before the crash, in order, before the orderer's Init (see {@link PbftOrderer#apply}) — for the
 * orderers of later epochs when the node reaches them again. It then rejoins by re-running the
 * protocol from that checkpoint, or by state transfer if the others pruned those epochs meanwhile.
 *
 * <p>Not thread-safe; a passive module, called by one thread at a time.
 */
public final class Iss implements PassiveModule {
  /** Mir's default ID of the ISS module. */
  public static final ModuleId DEFAULT_ID = ModuleId.of("iss");

  private static final Logger LOG = LoggerFactory.getLogger(Iss.class);

  /**
   * The IDs of the modules ISS talks to (Mir's {@code ModuleConfig}).
   *
   * @param self ISS itself ({@code "iss"})
   * @param net the transport ({@code "net"})
   * @param app the application side: receives certificates, epochs, checkpoints ({@code
   *     "batchfetcher"})
   * @param wal the write-ahead log ({@code "wal"})
   * @param hasher the hasher ({@code "hasher"})
   * @param crypto the crypto module ({@code "crypto"})
   * @param timer the timer ({@code "timer"})
   * @param availability the availability factory; instances are {@code availability/<epoch>}
   * @param checkpoint the checkpoint factory; instances are {@code checkpoint/<epoch>}
   */
  public record Config(
      ModuleId self,
      ModuleId net,
      ModuleId app,
      ModuleId wal,
      ModuleId hasher,
      ModuleId crypto,
      ModuleId timer,
      ModuleId availability,
      ModuleId checkpoint) {
    /** Checks that no ID is missing. */
    public Config {
      Objects.requireNonNull(self, "self");
      Objects.requireNonNull(net, "net");
      Objects.requireNonNull(app, "app");
      Objects.requireNonNull(wal, "wal");
      Objects.requireNonNull(hasher, "hasher");
      Objects.requireNonNull(crypto, "crypto");
      Objects.requireNonNull(timer, "timer");
      Objects.requireNonNull(availability, "availability");
      Objects.requireNonNull(checkpoint, "checkpoint");
    }

    /** Mir's defaults. */
    public static Config defaults() {
      return new Config(
          DEFAULT_ID,
          ModuleId.of("net"),
          ModuleId.of("batchfetcher"),
          ModuleId.of("wal"),
          HasherModule.DEFAULT_ID,
          CryptoModule.DEFAULT_ID,
          ModuleId.of("timer"),
          ModuleId.of("availability"),
          CheckpointProtocol.DEFAULT_ID);
    }

    /** A copy with another application module. */
    public Config withApp(ModuleId id) {
      return new Config(self, net, id, wal, hasher, crypto, timer, availability, checkpoint);
    }

    /** A copy with another own ID. */
    public Config withSelf(ModuleId id) {
      return new Config(id, net, app, wal, hasher, crypto, timer, availability, checkpoint);
    }
  }

  /**
   * The protocol parameters (Mir's {@code ModuleParams}); all nodes must use the same ones. {@link
   * #defaults} gives Mir's defaults, {@link #adjustSpeed} derives every period from the proposal
   * delay as Mir does.
   *
   * @param initialMembership the nodes of epoch 0 and their addresses; not empty
   * @param configOffset a membership decided in epoch e governs epoch e+configOffset; at least 1
   * @param segmentLength sequence numbers per segment per epoch; positive (Mir-Java needs it)
   * @param epochLength must be 0 (validated as in Mir; unused)
   * @param maxProposeDelay a leader's gap between proposals; not negative
   * @param numBuckets positive; unused, as in Mir
   * @param leaderPolicy the leader selection policy of the first epoch
   * @param requestNAckTimeout positive; unused, as in Mir
   * @param msgBufCapacity bytes of buffered future-epoch messages, split among the other nodes
   *     (each orderer has as many for future views); not negative
   * @param retainedEpochs epochs kept behind the latest stable checkpoint; not negative
   * @param catchUpTimerPeriod period of pushing the stable checkpoint to lagging nodes; positive
   * @param checkpointResendPeriod unused, as in Mir (checkpoints resend every 1 s)
   * @param pbftDoneResendPeriod see {@link PbftParams#doneResendPeriod()}
   * @param pbftCatchUpDelay see {@link PbftParams#catchUpDelay()}
   * @param pbftViewChangeSnTimeout see {@link PbftParams#viewChangeSnTimeout()}
   * @param pbftViewChangeSegmentTimeout see {@link PbftParams#viewChangeSegmentTimeout()}
   * @param pbftViewChangeResendPeriod see {@link PbftParams#viewChangeResendPeriod()}
   */
  public record Params(
      io.github.mirframework.net.Membership initialMembership,
      int configOffset,
      int segmentLength,
      int epochLength,
      Duration maxProposeDelay,
      int numBuckets,
      LeaderSelectionPolicy leaderPolicy,
      int requestNAckTimeout,
      int msgBufCapacity,
      int retainedEpochs,
      Duration catchUpTimerPeriod,
      Duration checkpointResendPeriod,
      Duration pbftDoneResendPeriod,
      Duration pbftCatchUpDelay,
      Duration pbftViewChangeSnTimeout,
      Duration pbftViewChangeSegmentTimeout,
      Duration pbftViewChangeResendPeriod) {

    /** Validates the parameters (Mir's {@code CheckParams} and more); messages name the value. */
    public Params {
      Objects.requireNonNull(initialMembership, "initialMembership");
      Objects.requireNonNull(leaderPolicy, "leaderPolicy");
      Objects.requireNonNull(checkpointResendPeriod, "checkpointResendPeriod");
      if (initialMembership.size() == 0) {
        throw new IllegalArgumentException("empty membership");
      }
      if (configOffset < 1) {
        throw new IllegalArgumentException("configOffset must be at least 1: " + configOffset);
      }
      if (segmentLength < 0) {
        throw new IllegalArgumentException("negative segmentLength: " + segmentLength);
      }
      if (epochLength < 0) {
        throw new IllegalArgumentException("negative epochLength: " + epochLength);
      }
      if ((epochLength != 0) == (segmentLength != 0)) {
        throw new IllegalArgumentException(
            "conflicting epochLength ("
                + epochLength
                + ") and segmentLength ("
                + segmentLength
                + "): exactly one must be zero");
      }
      if (segmentLength == 0) {
        throw new IllegalArgumentException(
            "epochLength is not supported (unused in Mir): set segmentLength instead");
      }
      notNegative("maxProposeDelay", maxProposeDelay);
      if (numBuckets <= 0) {
        throw new IllegalArgumentException("non-positive numBuckets: " + numBuckets);
      }
      if (requestNAckTimeout <= 0) {
        throw new IllegalArgumentException(
            "non-positive requestNAckTimeout: " + requestNAckTimeout);
      }
      if (msgBufCapacity < 0) {
        throw new IllegalArgumentException("negative msgBufCapacity: " + msgBufCapacity);
      }
      if (retainedEpochs < 0) {
        throw new IllegalArgumentException("negative retainedEpochs: " + retainedEpochs);
      }
      positive("catchUpTimerPeriod", catchUpTimerPeriod);
      positive("pbftDoneResendPeriod", pbftDoneResendPeriod);
      positive("pbftCatchUpDelay", pbftCatchUpDelay);
      positive("pbftViewChangeSnTimeout", pbftViewChangeSnTimeout);
      positive("pbftViewChangeSegmentTimeout", pbftViewChangeSegmentTimeout);
      positive("pbftViewChangeResendPeriod", pbftViewChangeResendPeriod);
    }

    /**
     * Mir's {@code DefaultParams}: offset 2, segments of 4, 32 MiB buffers, one retained epoch, and
     * the periods of {@link #adjustSpeed} with 1 s; unlike Mir, the leader policy is a {@link
     * BlacklistLeaderPolicy} with every node a leader until suspected (Mir's default never stops
     * choosing a crashed leader).
     */
    public static Params defaults(io.github.mirframework.net.Membership initialMembership) {
      Duration s = Duration.ofSeconds(1);
      return new Params(
          initialMembership,
          2,
          4,
          0,
          s,
          Math.max(1, initialMembership.size()),
          BlacklistLeaderPolicy.allLeaders(initialMembership.ids()),
          16,
          PbftParams.DEFAULT_MSG_BUF_CAPACITY,
          1,
          s,
          s,
          s,
          s,
          s.multipliedBy(4),
          s.multipliedBy(8),
          s);
    }

    /**
     * Mir's {@code AdjustSpeed}: sets the proposal delay and derives from it the catch-up,
     * checkpoint, Done and catch-up periods (equal to it), the SN timeout (4×) and the segment
     * timeout (2 × segmentLength ×).
     */
    public Params adjustSpeed(Duration d) {
      positive("maxProposeDelay", d);
      return new Params(
          initialMembership,
          configOffset,
          segmentLength,
          epochLength,
          d,
          numBuckets,
          leaderPolicy,
          requestNAckTimeout,
          msgBufCapacity,
          retainedEpochs,
          d,
          d,
          d,
          d,
          d.multipliedBy(4),
          d.multipliedBy(2L * segmentLength),
          d);
    }

    /** A copy with another segment length (call {@link #adjustSpeed} after to rescale timeouts). */
    public Params withSegmentLength(int length) {
      return with(m -> m.segmentLength = length);
    }

    /** A copy with another number of retained epochs. */
    public Params withRetainedEpochs(int epochs) {
      return with(m -> m.retainedEpochs = epochs);
    }

    /** A copy with another buffer capacity. */
    public Params withMsgBufCapacity(int bytes) {
      return with(m -> m.msgBufCapacity = bytes);
    }

    /** A copy with another initial membership (the leader policy is not changed). */
    public Params withInitialMembership(io.github.mirframework.net.Membership membership) {
      return with(m -> m.initialMembership = membership);
    }

    /** A copy with another configuration offset. */
    public Params withConfigOffset(int offset) {
      return with(m -> m.configOffset = offset);
    }

    /** A copy with another epoch length (must stay 0: validated as in Mir). */
    public Params withEpochLength(int length) {
      return with(m -> m.epochLength = length);
    }

    /**
     * A copy with another proposal delay only; unlike {@link #adjustSpeed}, every other period and
     * timeout stays as it is.
     */
    public Params withMaxProposeDelay(Duration d) {
      return with(m -> m.maxProposeDelay = d);
    }

    /** A copy with another number of buckets (unused, as in Mir). */
    public Params withNumBuckets(int buckets) {
      return with(m -> m.numBuckets = buckets);
    }

    /** A copy with another leader selection policy for the first epoch. */
    public Params withLeaderPolicy(LeaderSelectionPolicy policy) {
      return with(m -> m.leaderPolicy = policy);
    }

    /**
     * A copy whose leader policy is a {@link BlacklistLeaderPolicy} over the initial membership
     * with at most {@code count} leaders per epoch: the least recently suspected nodes,
     * never-suspected ones first in node order.
     *
     * @throws IllegalArgumentException if {@code count} is not in 1..n
     */
    public Params withLeaderCount(int count) {
      if (count < 1 || count > initialMembership.size()) {
        throw new IllegalArgumentException(
            "leader count must be in 1.." + initialMembership.size() + ": " + count);
      }
      return withLeaderPolicy(new BlacklistLeaderPolicy(initialMembership.ids(), count));
    }

    /** A copy with another request NAck timeout (unused, as in Mir). */
    public Params withRequestNAckTimeout(int timeout) {
      return with(m -> m.requestNAckTimeout = timeout);
    }

    /** A copy with another period of pushing the stable checkpoint to lagging nodes. */
    public Params withCatchUpTimerPeriod(Duration d) {
      return with(m -> m.catchUpTimerPeriod = d);
    }

    /** A copy with another checkpoint resend period (unused, as in Mir). */
    public Params withCheckpointResendPeriod(Duration d) {
      return with(m -> m.checkpointResendPeriod = d);
    }

    /** A copy with another resend period of PBFT's Done messages. */
    public Params withPbftDoneResendPeriod(Duration d) {
      return with(m -> m.pbftDoneResendPeriod = d);
    }

    /** A copy with another PBFT catch-up delay. */
    public Params withPbftCatchUpDelay(Duration d) {
      return with(m -> m.pbftCatchUpDelay = d);
    }

    /** A copy with another PBFT "no new commit" view-change timeout (doubled per view). */
    public Params withPbftViewChangeSnTimeout(Duration d) {
      return with(m -> m.pbftViewChangeSnTimeout = d);
    }

    /** A copy with another PBFT "segment not finished" view-change timeout (doubled per view). */
    public Params withPbftViewChangeSegmentTimeout(Duration d) {
      return with(m -> m.pbftViewChangeSegmentTimeout = d);
    }

    /** A copy with another resend period of PBFT's ViewChange messages. */
    public Params withPbftViewChangeResendPeriod(Duration d) {
      return with(m -> m.pbftViewChangeResendPeriod = d);
    }

    /**
     * A copy with both PBFT view-change timeouts set explicitly, independent of the proposal delay
     * (call it after {@link #adjustSpeed}, which derives them from the delay).
     */
    public Params withViewChangeTimeouts(Duration snTimeout, Duration segmentTimeout) {
      return with(
          m -> {
            m.pbftViewChangeSnTimeout = snTimeout;
            m.pbftViewChangeSegmentTimeout = segmentTimeout;
          });
    }

    private Params with(java.util.function.Consumer<Mutable> change) {
      Mutable m = new Mutable(this);
      change.accept(m);
      return m.build();
    }

    /** A field-by-field copy of parameters, for the {@code with…} methods. */
    private static final class Mutable {
      io.github.mirframework.net.Membership initialMembership;
      int configOffset;
      int segmentLength;
      int epochLength;
      Duration maxProposeDelay;
      int numBuckets;
      LeaderSelectionPolicy leaderPolicy;
      int requestNAckTimeout;
      int msgBufCapacity;
      int retainedEpochs;
      Duration catchUpTimerPeriod;
      Duration checkpointResendPeriod;
      Duration pbftDoneResendPeriod;
      Duration pbftCatchUpDelay;
      Duration pbftViewChangeSnTimeout;
      Duration pbftViewChangeSegmentTimeout;
      Duration pbftViewChangeResendPeriod;

      Mutable(Params p) {
        initialMembership = p.initialMembership;
        configOffset = p.configOffset;
        segmentLength = p.segmentLength;
        epochLength = p.epochLength;
        maxProposeDelay = p.maxProposeDelay;
        numBuckets = p.numBuckets;
        leaderPolicy = p.leaderPolicy;
        requestNAckTimeout = p.requestNAckTimeout;
        msgBufCapacity = p.msgBufCapacity;
        retainedEpochs = p.retainedEpochs;
        catchUpTimerPeriod = p.catchUpTimerPeriod;
        checkpointResendPeriod = p.checkpointResendPeriod;
        pbftDoneResendPeriod = p.pbftDoneResendPeriod;
        pbftCatchUpDelay = p.pbftCatchUpDelay;
        pbftViewChangeSnTimeout = p.pbftViewChangeSnTimeout;
        pbftViewChangeSegmentTimeout = p.pbftViewChangeSegmentTimeout;
        pbftViewChangeResendPeriod = p.pbftViewChangeResendPeriod;
      }

      Params build() {
        return new Params(
            initialMembership,
            configOffset,
            segmentLength,
            epochLength,
            maxProposeDelay,
            numBuckets,
            leaderPolicy,
            requestNAckTimeout,
            msgBufCapacity,
            retainedEpochs,
            catchUpTimerPeriod,
            checkpointResendPeriod,
            pbftDoneResendPeriod,
            pbftCatchUpDelay,
            pbftViewChangeSnTimeout,
            pbftViewChangeSegmentTimeout,
            pbftViewChangeResendPeriod);
      }
    }

    /** The parameters of the PBFT orderers. */
    public PbftParams pbftParams() {
      return new PbftParams(
          maxProposeDelay,
          pbftDoneResendPeriod,
          pbftCatchUpDelay,
          pbftViewChangeSnTimeout,
          pbftViewChangeSegmentTimeout,
          pbftViewChangeResendPeriod,
          msgBufCapacity);
    }

    private static void notNegative(String name, Duration d) {
      Objects.requireNonNull(d, name);
      if (d.isNegative()) {
        throw new IllegalArgumentException("negative " + name + ": " + d);
      }
    }

    private static void positive(String name, Duration d) {
      Objects.requireNonNull(d, name);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException("non-positive " + name + ": " + d);
      }
    }
  }

  /** An entry of the commit log (Mir's {@code CommitLogEntry}). */
  record CommitLogEntry(
      SeqNr sn, ByteString certData, boolean aborted, NodeId suspect, ByteString digest) {}

  /** Which orderer asked for a certificate. */
  private record CertRequest(long epoch, int instance) {}

  private final NodeId self;
  private final Config config;
  private final Params params;
  private final DslModule dsl;

  private EpochState epoch;
  private final TreeMap<Long, EpochState> epochs = new TreeMap<>();
  private final Map<NodeId, Long> nodeEpochMap = new TreeMap<>();
  private List<Membership> memberships;
  private Membership nextNewMembership;
  private final TreeMap<NodeId, MessageBuffer<SbMessage>> messageBuffers = new TreeMap<>();
  private final int perSenderBufferBytes;
  private final TreeMap<Long, CommitLogEntry> commitLog = new TreeMap<>();
  private final Map<Long, CommitLogEntry> unhashedLogEntries = new HashMap<>();
  private long nextDeliveredSn;
  private long newEpochSn;
  private StableCheckpoint lastStableCheckpoint;
  private final ContextStore<CertRequest> certRequests = new ContextStore<>();
  private long rejected;
  // The availability instances this node has created, by epoch, with their membership; pruned
  // with the factory. An instance is created once: a state transfer to an epoch whose instance
  // exists keeps it (replacing it would hand the old instance's pending requests to a new one).
  private final TreeMap<Long, Membership> availabilityInstances = new TreeMap<>();

  // Crash recovery: whether Init has been applied (WAL entries come before it), the newest stable
  // checkpoint replayed from the WAL, and the replayed orderer entries by epoch and instance, kept
  // until the orderer is created.
  private boolean initialized;
  private StableCheckpoint replayedCheckpoint;
  private final TreeMap<Long, Map<Long, List<PbftEvent>>> replayedEntries = new TreeMap<>();

  // Metrics (null: none) and, with metrics, when this node proposed each of its undelivered
  // proposals (sequence number -> metrics.nanoTime()).
  private final OrderingMetrics metrics;
  private final Map<Long, Long> proposedAt;

  /**
   * Creates ISS for node {@code self}, starting from {@code startingCheckpoint} (for a new system,
   * {@link #genesisCheckpoint}).
   *
   * @throws IllegalArgumentException if the checkpoint is malformed or has fewer than two
   *     memberships
   */
  public Iss(NodeId self, Config config, Params params, StableCheckpoint startingCheckpoint) {
    this(self, config, params, startingCheckpoint, null);
  }

  /**
   * Like {@link #Iss(NodeId, Config, Params, StableCheckpoint)}, reporting ordering progress to
   * {@code metrics}: certificates delivered, the commit latency of this node's own proposals (from
   * the Preprepare to the in-order delivery), view changes its orderers start, epochs started and
   * completed, stable and installed checkpoints.
   *
   * @param metrics where to report; {@code null} for nowhere
   */
  public Iss(
      NodeId self,
      Config config,
      Params params,
      StableCheckpoint startingCheckpoint,
      OrderingMetrics metrics) {
    this.metrics = metrics;
    this.proposedAt = metrics == null ? null : new HashMap<>();
    this.self = Objects.requireNonNull(self, "self");
    this.config = Objects.requireNonNull(config, "config");
    this.params = Objects.requireNonNull(params, "params");
    Objects.requireNonNull(startingCheckpoint, "startingCheckpoint");
    String problem = StableCheckpoints.checkSnapshot(startingCheckpoint.getSnapshot());
    if (problem != null) {
      throw new IllegalArgumentException("malformed starting checkpoint: " + problem);
    }
    List<Membership> ms = StableCheckpoints.memberships(startingCheckpoint);
    if (ms.size() < 2) {
      throw new IllegalArgumentException(
          "the starting checkpoint needs at least 2 memberships, has " + ms.size());
    }
    memberships = new ArrayList<>(ms.subList(0, ms.size() - 1));
    nextNewMembership = ms.get(ms.size() - 1);
    nextDeliveredSn = startingCheckpoint.getSn();
    newEpochSn = nextDeliveredSn;
    lastStableCheckpoint = startingCheckpoint;
    List<NodeId> others = new ArrayList<>(params.initialMembership().ids());
    others.remove(self);
    perSenderBufferBytes =
        others.isEmpty() ? params.msgBufCapacity() : params.msgBufCapacity() / others.size();
    for (NodeId n : others) {
      messageBuffers.put(n, MessageBuffer.create(perSenderBufferBytes));
    }
    dsl = new DslModule(config.self());
    List<NodeId> startNodes = StableCheckpoints.nodeIds(memberships.get(0));
    initEpoch(
        StableCheckpoints.epoch(startingCheckpoint),
        startingCheckpoint.getSn(),
        startNodes,
        leaderPolicyOf(startingCheckpoint, startNodes));

    // upon event <Init> do create availability instances; init orderers; restore the app
    dsl.uponInit(this::onInit);
    // upon event <orderer (e, i), event> do apply it to orderer i of epoch e
    dsl.upon(SbEvent.class, this::onSbEvent);
    // upon event <hasher, HashResult | origin> do route by origin
    dsl.upon(HashResult.class, this::onHashResult);
    // upon event <crypto, SignResult | origin> do route to the orderer
    dsl.upon(SignResult.class, this::onSignResult);
    // upon event <crypto, NodeSigsVerified | origin> do route by origin
    dsl.upon(NodeSigsVerified.class, this::onNodeSigsVerified);
    // upon event <availability, NewCert | cert, origin> do certReady at the requesting orderer
    dsl.upon(NewCert.class, this::onNewCert);
    // upon event <app, NewConfig | e, membership> do extend the membership pipeline
    dsl.upon(NewConfig.class, this::onNewConfig);
    // upon event <checkpoint, EpochProgress | node, e> do remember the highest epoch of node
    dsl.upon(EpochProgress.class, this::onEpochProgress);
    // upon event <checkpoint, StableCheckpoint | sc> do deliver, prune, start pushing
    dsl.upon(StableCheckpoint.class, this::onStableCheckpoint);
    // upon WAL replay of a stable checkpoint do remember the newest one
    dsl.upon(PersistedCheckpoint.class, this::onPersistedCheckpoint);
    // upon every CatchUpTimerPeriod do push the stable checkpoint to lagging members
    dsl.upon(PushCheckpoint.class, p -> onPushCheckpoint());
    // upon event <net, Deliver | p, [SB, e, i, m]> do route to orderer i of epoch e
    dsl.uponMessage(SbMessage.class, this::onSbMessage);
    // upon event <net, Deliver | p, [STABLE-CHECKPOINT, sc]> do verify, and install if far ahead
    dsl.uponMessage(StableCheckpointMessage.class, this::onStableCheckpointMessage);
  }

  /**
   * The state snapshot a new system starts from (Mir's {@code InitialStateSnapshot}): {@code
   * appState}, epoch 0 starting at sequence number 0 with {@code segmentLength × n} sequence
   * numbers, configOffset+1 copies of the initial membership, and empty client progress.
   */
  public static StateSnapshot initialStateSnapshot(ByteString appState, Params params) {
    Membership m = membershipProto(params.initialMembership());
    EpochConfig.Builder ec =
        EpochConfig.newBuilder()
            .setEpochNr(0)
            .setFirstSn(0)
            .setLength((long) params.segmentLength() * params.initialMembership().size());
    for (int i = 0; i <= params.configOffset(); i++) {
      ec.addMemberships(m);
    }
    LeaderPolicy lp = params.leaderPolicy().toProto();
    if (lp != null) {
      ec.setLeaderPolicy(lp);
    }
    return StateSnapshot.newBuilder()
        .setAppData(appState)
        .setEpochData(
            EpochData.newBuilder()
                .setEpochConfig(ec)
                .setClientProgress(ClientProgress.getDefaultInstance()))
        .build();
  }

  /** The stable checkpoint a new system starts from: {@link #initialStateSnapshot} at sn 0. */
  public static StableCheckpoint genesisCheckpoint(ByteString appState, Params params) {
    return StableCheckpoints.genesis(initialStateSnapshot(appState, params));
  }

  /** The checkpoint form of a membership (addresses as text). */
  public static Membership membershipProto(io.github.mirframework.net.Membership m) {
    Membership.Builder b = Membership.newBuilder();
    m.nodes().forEach((id, addr) -> b.putMembership(id.value(), addr.toString()));
    return b.build();
  }

  /** Takes ordering (PBFT) and stable-checkpoint messages from peers. */
  @Override
  public boolean receivesMessages() {
    return true;
  }

  @Override
  public EventList applyEvents(EventList events) throws Exception {
    return dsl.applyEvents(events);
  }

  /** The current epoch. */
  public EpochNr currentEpoch() {
    return epoch.nr;
  }

  /** The leaders of the current epoch's segments, in segment order. */
  public List<NodeId> currentLeaders() {
    return epoch.segments.stream().map(Segment::leader).toList();
  }

  /** The first sequence number not yet delivered. */
  public SeqNr nextDeliveredSn() {
    return SeqNr.of(nextDeliveredSn);
  }

  /** The latest stable checkpoint. */
  public StableCheckpoint lastStableCheckpoint() {
    return lastStableCheckpoint;
  }

  /** The epochs whose state is retained, ascending. */
  public List<EpochNr> retainedEpochs() {
    return epochs.values().stream().map(e -> e.nr).toList();
  }

  /** The number of messages rejected (invalid, from non-members, unknown orderer). */
  public long rejectedMessages() {
    return rejected;
  }

  /** The number of messages buffered for future epochs. */
  public int bufferedMessages() {
    int n = 0;
    for (MessageBuffer<SbMessage> b : messageBuffers.values()) {
      n += b.messageCount();
    }
    return n;
  }

  /** The orderers of a retained epoch (for tests and inspection). */
  List<PbftOrderer> orderers(long epochNr) {
    EpochState e = epochs.get(epochNr);
    return e == null ? List.of() : List.copyOf(e.orderers);
  }

  // ---------------------------------------------------------------------------------------------
  // Handlers

  private void onInit() {
    initialized = true;
    if (replayedCheckpoint != null && replayedCheckpoint.getSn() > lastStableCheckpoint.getSn()) {
      LOG.info(
          "{}: restarting from the stable checkpoint of epoch {} at sn {} in the WAL",
          self,
          StableCheckpoints.epoch(replayedCheckpoint),
          replayedCheckpoint.getSn());
      resetTo(replayedCheckpoint);
    }
    replayedCheckpoint = null;
    bootstrapAvailability();
    initOrderers();
    dsl.emit(
        config.app(), AppRestoreState.newBuilder().setCheckpoint(lastStableCheckpoint).build());
  }

  private void onSbEvent(SbEvent ev) {
    switch (ev.getEvent().getTypeCase()) {
      case PERSIST_PREPREPARE,
          PERSIST_PREPARE,
          PERSIST_COMMIT,
          PERSIST_SIGNED_VIEW_CHANGE,
          PERSIST_NEW_VIEW -> {
        // WAL entries, replayed at start-up: kept for the orderer, applied before its Init.
        if (initialized) {
          throw new IllegalStateException("orderer WAL entry applied after Init");
        }
        replayedEntries
            .computeIfAbsent(ev.getEpoch(), k -> new HashMap<>())
            .computeIfAbsent(ev.getInstance(), k -> new ArrayList<>())
            .add(ev.getEvent());
        return;
      }
      default -> {}
    }
    PbftOrderer o = localOrderer(ev.getEpoch(), ev.getInstance(), "event");
    if (o != null) {
      o.apply(ev.getEvent());
    }
  }

  /** The orderer a locally generated event belongs to, or null if its epoch was pruned. */
  private PbftOrderer localOrderer(long epochNr, long instance, String what) {
    if (epochNr > epoch.nr.value() || epochNr < 0) {
      throw new IllegalStateException(
          "orderer " + what + " of future epoch " + Long.toUnsignedString(epochNr));
    }
    EpochState e = epochs.get(epochNr);
    if (e == null) {
      LOG.debug("{}: ignoring orderer {} of old epoch {}", self, what, epochNr);
      return null;
    }
    if (instance < 0 || instance >= e.orderers.size()) {
      throw new IllegalStateException("orderer " + what + " of unknown instance " + instance);
    }
    return e.orderers.get((int) instance);
  }

  private void onHashResult(HashResult r) throws InvalidProtocolBufferException {
    Any custom = customOrigin(r.getOrigin(), "hash result");
    if (custom.is(SbHashOrigin.class)) {
      SbHashOrigin o = custom.unpack(SbHashOrigin.class);
      PbftOrderer orderer = localOrderer(o.getEpoch(), o.getInstance(), "hash result");
      if (orderer != null) {
        orderer.apply(PbftEvents.hashResult(r.getDigestsList(), o.getOrigin()));
      }
    } else if (custom.is(LogEntryHashOrigin.class)) {
      onLogEntryHash(r.getDigests(0), custom.unpack(LogEntryHashOrigin.class).getSn());
    } else if (custom.is(CheckpointHashOrigin.class)) {
      onCheckpointHash(r.getDigests(0), custom.unpack(CheckpointHashOrigin.class));
    } else {
      throw new IllegalStateException("hash result of unknown origin " + custom.getTypeUrl());
    }
  }

  private void onSignResult(SignResult r) throws InvalidProtocolBufferException {
    Any custom = customOrigin(r.getOrigin(), "sign result");
    if (!custom.is(SbSignOrigin.class)) {
      throw new IllegalStateException("sign result of unknown origin " + custom.getTypeUrl());
    }
    SbSignOrigin o = custom.unpack(SbSignOrigin.class);
    PbftOrderer orderer = localOrderer(o.getEpoch(), o.getInstance(), "sign result");
    if (orderer != null) {
      orderer.apply(PbftEvents.signResult(r.getSignature(), o.getOrigin()));
    }
  }

  private void onNodeSigsVerified(NodeSigsVerified r) throws InvalidProtocolBufferException {
    Any custom = customOrigin(r.getOrigin(), "signature check");
    if (custom.is(SbSigVerOrigin.class)) {
      SbSigVerOrigin o = custom.unpack(SbSigVerOrigin.class);
      PbftOrderer orderer = localOrderer(o.getEpoch(), o.getInstance(), "signature check");
      if (orderer != null) {
        orderer.apply(PbftEvents.nodeSigsVerified(r, o.getOrigin()));
      }
    } else if (custom.is(CheckpointSigVerOrigin.class)) {
      onCheckpointVerified(r, custom.unpack(CheckpointSigVerOrigin.class));
    } else {
      throw new IllegalStateException("signature check of unknown origin " + custom.getTypeUrl());
    }
  }

  private static Any customOrigin(Origin o, String what) {
    if (o.getContextCase() != Origin.ContextCase.CUSTOM) {
      throw new IllegalStateException(what + " without an ISS origin: " + o);
    }
    return o.getCustom();
  }

  private void onNewCert(NewCert nc) {
    Origin o = nc.getOrigin();
    if (o.getContextCase() != Origin.ContextCase.CONTEXT_STORE_ITEM
        || !certRequests.contains(o.getContextStoreItem())) {
      throw new IllegalStateException("certificate for an unknown request: " + o);
    }
    CertRequest req = certRequests.recoverAndDispose(o.getContextStoreItem());
    EpochState e = epochs.get(req.epoch());
    if (e == null) {
      LOG.debug("{}: ignoring certificate for pruned epoch {}", self, req.epoch());
      return;
    }
    e.orderers.get(req.instance()).apply(PbftEvents.certReady(nc.getCert().toByteString()));
  }

  // upon event <app, NewConfig | e, membership> do
  private void onNewConfig(NewConfig nc) {
    if (nc.getEpochNr() < epoch.nr.value()) {
      LOG.warn(
          "{}: ignoring outdated membership of epoch {} (current epoch {})",
          self,
          nc.getEpochNr(),
          epoch.nr);
      return;
    }
    if (nextNewMembership != null) {
      throw new IllegalStateException("already have a new membership for epoch " + epoch.nr);
    }
    if (nc.getMembership().getMembershipCount() == 0) {
      throw new IllegalArgumentException("empty membership in NewConfig");
    }
    long newMembershipEpoch = epoch.nr.value() + memberships.size();
    nextNewMembership = nc.getMembership();
    initAvailabilityModule(newMembershipEpoch, nextNewMembership);
    List<Membership> all = new ArrayList<>(memberships);
    all.add(nextNewMembership);
    dsl.emit(
        CheckpointEvents.epochConfig(
            CheckpointEvents.instanceId(config.checkpoint(), epoch.nr),
            EpochConfig.newBuilder()
                .setEpochNr(epoch.nr.value())
                .setFirstSn(epoch.firstSn.value())
                .setLength(epoch.length())
                .addAllMemberships(all)
                .mergeFrom(leaderPolicyConfig(epoch))
                .build()));
    if (epochFinished()) {
      advanceEpoch();
    }
  }

  private void onEpochProgress(EpochProgress p) {
    NodeId node;
    try {
      node = NodeId.of(p.getNodeId());
    } catch (IllegalArgumentException e) {
      return;
    }
    if (p.getEpoch() < 0) {
      return;
    }
    nodeEpochMap.merge(node, p.getEpoch(), Math::max);
  }

  private void onPersistedCheckpoint(PersistedCheckpoint p) {
    if (initialized) {
      throw new IllegalStateException("persisted checkpoint applied after Init");
    }
    StableCheckpoint sc = p.getCheckpoint();
    if (replayedCheckpoint == null || sc.getSn() > replayedCheckpoint.getSn()) {
      replayedCheckpoint = sc;
    }
  }

  /** Appends {@code sc} to the WAL, so that a restart begins there. */
  private void persistCheckpoint(StableCheckpoint sc) {
    dsl.emit(
        Events.walAppend(
            config.wal(),
            Event.of(config.self(), PersistedCheckpoint.newBuilder().setCheckpoint(sc).build()),
            RetentionIndex.of(StableCheckpoints.epoch(sc).value())));
  }

  // upon event <checkpoint, StableCheckpoint | sc> such that sc.sn > last.sn do
  private void onStableCheckpoint(StableCheckpoint sc) {
    if (sc.getSn() <= lastStableCheckpoint.getSn()) {
      LOG.debug("{}: ignoring outdated stable checkpoint at sn {}", self, sc.getSn());
      return;
    }
    LOG.info(
        "{}: new stable checkpoint of epoch {} at sn {}",
        self,
        StableCheckpoints.epoch(sc),
        sc.getSn());
    lastStableCheckpoint = sc;
    if (metrics != null) {
      metrics.checkpointStable(StableCheckpoints.epoch(sc).value(), sc.getSn());
    }
    persistCheckpoint(sc);
    dsl.emit(CheckpointEvents.stableCheckpoint(config.app(), sc));
    processCommitted();
    prune(StableCheckpoints.epoch(sc).value() - params.retainedEpochs());
  }

  private void prune(long pruneIndex) {
    if (pruneIndex <= 0) {
      return;
    }
    RetentionIndex ri = RetentionIndex.of(pruneIndex);
    dsl.emit(Events.walTruncate(config.wal(), ri));
    dsl.emit(Events.timerGarbageCollect(config.timer(), ri));
    dsl.emit(FactoryEvents.garbageCollect(config.checkpoint(), ri));
    dsl.emit(FactoryEvents.garbageCollect(config.availability(), ri));
    availabilityInstances.headMap(pruneIndex).clear();
    epochs.headMap(pruneIndex).clear();
    // Start (or replace) pushing the checkpoint to nodes that lag behind.
    dsl.emit(
        Events.timerRepeat(
            config.timer(),
            List.of(Event.of(config.self(), PushCheckpoint.getDefaultInstance())),
            params.catchUpTimerPeriod(),
            ri));
  }

  // upon timeout PushCheckpoint do send lastStable to members whose progress is too far behind
  private void onPushCheckpoint() {
    long chkpEpoch = StableCheckpoints.epoch(lastStableCheckpoint).value();
    List<NodeId> delayed = new ArrayList<>();
    for (NodeId n : epoch.nodeIds) {
      if (!n.equals(self)
          && chkpEpoch > nodeEpochMap.getOrDefault(n, 0L) + params.retainedEpochs()) {
        delayed.add(n);
      }
    }
    if (delayed.isEmpty()) {
      return;
    }
    LOG.debug("{}: pushing the checkpoint of epoch {} to {}", self, chkpEpoch, delayed);
    dsl.sendMessage(
        config.net(),
        config.self(),
        StableCheckpointMessage.newBuilder().setCheckpoint(lastStableCheckpoint).build(),
        delayed);
  }

  // upon event <net, Deliver | from, [SB, e, i, m]> do
  private void onSbMessage(NodeId from, SbMessage m) {
    if (m.getEpoch() < 0 || m.getMsg().getTypeCase() == PbftMessage.TypeCase.TYPE_NOT_SET) {
      reject(from, m, "malformed epoch or empty message");
      return;
    }
    if (m.getEpoch() > epoch.nr.value()) {
      MessageBuffer<SbMessage> buffer = messageBuffers.get(from);
      if (buffer == null) {
        reject(from, m, "future epoch from a node that was never a member");
        return;
      }
      buffer.store(m);
      return;
    }
    applySbMessage(from, m);
  }

  private void applySbMessage(NodeId from, SbMessage m) {
    EpochState e = epochs.get(m.getEpoch());
    if (e == null) {
      LOG.debug("{}: ignoring message from {} of pruned epoch {}", self, from, m.getEpoch());
      // The sender still works on an epoch this node has pruned (e.g. it restarted from an old
      // checkpoint): make sure the next push includes it. Mir only raised a node's epoch.
      if (epoch.nodeSet.contains(from)) {
        nodeEpochMap.merge(from, m.getEpoch(), Math::min);
      }
      return;
    }
    String problem = e.validate(m.getInstance(), from);
    if (problem != null) {
      reject(from, m, problem);
      return;
    }
    if (e.orderers.isEmpty()) {
      LOG.debug("{}: ignoring message of epoch {}, which this node is not part of", self, e.nr);
      return;
    }
    e.orderers.get((int) m.getInstance()).apply(PbftEvents.messageReceived(from, m.getMsg()));
  }

  private void reject(NodeId from, Message m, String why) {
    rejected++;
    io.github.mirframework.log.RateLimitedLog.shared(LOG)
        .warn(
            why,
            "{}: ignoring invalid {} from {}: {}",
            self,
            m.getDescriptorForType().getName(),
            from,
            why);
  }

  // upon event <net, Deliver | from, [STABLE-CHECKPOINT, sc]> do
  //     if sc well-formed: hash sc's snapshot (then verify its certificate)
  private void onStableCheckpointMessage(NodeId from, StableCheckpointMessage m) {
    if (!isKnownMember(from)) {
      reject(from, m, "sender is not a member of any epoch this node knows");
      return;
    }
    if (!m.getCheckpoint().hasSnapshot()
        || StableCheckpoints.checkSnapshot(m.getCheckpoint().getSnapshot()) != null) {
      reject(from, m, "malformed snapshot");
      return;
    }
    // Only the signatures of the nodes that certify the checkpoint's epoch count (and are kept).
    List<NodeId> signers =
        StableCheckpoints.nodeIds(certifyingMembership(StableCheckpoints.epoch(m.getCheckpoint())));
    StableCheckpoint sc = StableCheckpoints.restrictCert(m.getCheckpoint(), signers);
    String problem = StableCheckpoints.checkCertStructure(sc, signers);
    if (problem != null) {
      reject(from, m, problem);
      return;
    }
    if (StableCheckpoints.memberships(sc).size() != memberships.size() + 1) {
      reject(from, m, "wrong number of memberships");
      return;
    }
    if (StableCheckpoints.epoch(sc).value() <= epoch.nr.value() + 1) {
      LOG.debug("{}: ignoring pushed checkpoint of epoch {}", self, StableCheckpoints.epoch(sc));
      return;
    }
    dsl.emit(
        CryptoEvents.hashRequest(
            config.hasher(),
            List.of(CryptoEvents.hashData(SnapshotHashing.snapshotForHash(sc.getSnapshot()))),
            CryptoEvents.customOrigin(
                config.self(),
                CheckpointHashOrigin.newBuilder()
                    .setFrom(from.value())
                    .setCheckpoint(sc)
                    .build())));
  }

  /**
   * The membership whose nodes certify the checkpoint that starts epoch {@code e}: the checkpoint
   * instance of epoch e runs among the nodes of epoch e−1. If this node's membership pipeline
   * reaches e−1, that membership; if e−1 is beyond what it knows, its latest known membership, of
   * which a weak quorum must then have signed (see docs/iss-parts.md, "Verifying a pushed
   * checkpoint"); for e−1 at or before the current epoch, the current one.
   */
  private Membership certifyingMembership(EpochNr e) {
    long offset = e.value() - 1 - epoch.nr.value();
    if (offset <= 0) {
      return memberships.get(0);
    }
    if (offset < memberships.size()) {
      return memberships.get((int) offset);
    }
    return nextNewMembership != null ? nextNewMembership : memberships.get(memberships.size() - 1);
  }

  /** Whether {@code n} is a member of an epoch this node knows the membership of. */
  private boolean isKnownMember(NodeId n) {
    for (Membership m : memberships) {
      if (m.containsMembership(n.value())) {
        return true;
      }
    }
    return nextNewMembership != null && nextNewMembership.containsMembership(n.value());
  }

  // upon event <hasher, HashResult | h> for a pushed checkpoint do verify its certificate over h
  private void onCheckpointHash(ByteString hash, CheckpointHashOrigin o) {
    List<SigVerItem> items = StableCheckpoints.certSigVerItems(o.getCheckpoint(), hash);
    dsl.emit(
        CryptoEvents.verifyNodeSigs(
            config.crypto(),
            items,
            CryptoEvents.customOrigin(
                config.self(),
                CheckpointSigVerOrigin.newBuilder()
                    .setFrom(o.getFrom())
                    .setCheckpoint(o.getCheckpoint())
                    .build())));
  }

  // upon event <crypto, NodeSigsVerified | ok> for a pushed checkpoint such that ok and
  //     sc.epoch > epoch + 1 do install sc
  private void onCheckpointVerified(NodeSigsVerified r, CheckpointSigVerOrigin o) {
    StableCheckpoint sc = o.getCheckpoint();
    NodeId from = NodeId.of(o.getFrom());
    if (!r.getAllOk()) {
      reject(from, sc, "invalid certificate signatures: " + r.getErrorsList());
      return;
    }
    if (StableCheckpoints.epoch(sc).value() <= epoch.nr.value() + 1) {
      return; // Caught up in the meantime.
    }
    installCheckpoint(sc);
  }

  private void installCheckpoint(StableCheckpoint sc) {
    LOG.info(
        "{}: installing the stable checkpoint of epoch {} at sn {}",
        self,
        StableCheckpoints.epoch(sc),
        sc.getSn());
    resetTo(sc);
    if (metrics != null) {
      metrics.checkpointInstalled(StableCheckpoints.epoch(sc).value());
    }
    bootstrapAvailability();
    persistCheckpoint(sc);
    dsl.emit(config.app(), AppRestoreState.newBuilder().setCheckpoint(sc).build());
    initOrderers();
    applyBufferedMessages();
  }

  /** Drops the epochs and the commit log and starts over at {@code sc}, emitting nothing. */
  private void resetTo(StableCheckpoint sc) {
    epochs.clear();
    commitLog.clear();
    unhashedLogEntries.clear();
    if (proposedAt != null) {
      proposedAt.clear();
    }
    nextDeliveredSn = sc.getSn();
    newEpochSn = nextDeliveredSn;
    // The epoch's nodes are the checkpoint's first membership, and its leaders those the policy,
    // reconfigured for these nodes, chooses (Mir used the node's own stale pipeline head and the
    // initial policy: the same while the membership never changes, wrong after a reconfiguration).
    List<Membership> ms = StableCheckpoints.memberships(sc);
    List<NodeId> nodeIds = StableCheckpoints.nodeIds(ms.get(0));
    initEpoch(StableCheckpoints.epoch(sc), sc.getSn(), nodeIds, leaderPolicyOf(sc, nodeIds));
    memberships = new ArrayList<>(ms.subList(0, ms.size() - 1));
    nextNewMembership = ms.get(ms.size() - 1);
    lastStableCheckpoint = sc;
  }

  // ---------------------------------------------------------------------------------------------
  // Epochs and delivery

  /**
   * The leader policy of the epoch a checkpoint starts: the one it holds, or, for a stateless
   * policy, the configured one for the epoch's nodes (always a copy: the configured policy object
   * is never changed).
   */
  private LeaderSelectionPolicy leaderPolicyOf(StableCheckpoint sc, List<NodeId> nodeIds) {
    EpochConfig ec = sc.getSnapshot().getEpochData().getEpochConfig();
    if (ec.hasLeaderPolicy()) {
      return BlacklistLeaderPolicy.fromProto(ec.getLeaderPolicy()).reconfigure(nodeIds);
    }
    return params.leaderPolicy().reconfigure(nodeIds);
  }

  /** The leader policy part of the configuration of epoch {@code e}: its state at e's start. */
  private static EpochConfig leaderPolicyConfig(EpochState e) {
    return e.leaderPolicyAtStart == null
        ? EpochConfig.getDefaultInstance()
        : EpochConfig.newBuilder().setLeaderPolicy(e.leaderPolicyAtStart).build();
  }

  private void initEpoch(EpochNr nr, long firstSn, List<NodeId> nodeIds, LeaderSelectionPolicy p) {
    EpochState e = new EpochState(nr, SeqNr.of(firstSn), nodeIds, p);
    epochs.put(nr.value(), e);
    epoch = e;
    if (metrics != null) {
      metrics.epochStarted(nr.value());
    }
    for (NodeId n : nodeIds) {
      if (!n.equals(self)) {
        messageBuffers.computeIfAbsent(n, k -> MessageBuffer.create(perSenderBufferBytes));
      }
    }
    List<NodeId> leaders = p.leaders(nr);
    LOG.info(
        "{}: initializing epoch {} with {} nodes, leaders {}", self, nr, nodeIds.size(), leaders);
    PbftParams pp = params.pbftParams();
    for (int i = 0; i < leaders.size(); i++) {
      List<SeqNr> sns = new ArrayList<>(params.segmentLength());
      for (int k = 0; k < params.segmentLength(); k++) {
        sns.add(SeqNr.of(nextDeliveredSn + i + (long) k * leaders.size()));
      }
      newEpochSn += sns.size();
      Segment seg = new Segment(nr, i, leaders.get(i), nodeIds, sns);
      e.segments.add(seg);
      if (e.nodeSet.contains(self)) {
        e.orderers.add(new PbftOrderer(self, seg, pp, new Context(nr.value(), i)));
      }
    }
    if (!e.nodeSet.contains(self)) {
      LOG.warn("{}: not a member of epoch {}: taking no part in it", self, nr);
    }
  }

  private void initOrderers() {
    // Entries of epochs before this one are covered by the checkpoint it starts from.
    replayedEntries.headMap(epoch.nr.value()).clear();
    Map<Long, List<PbftEvent>> replayed = replayedEntries.remove(epoch.nr.value());
    for (int i = 0; i < epoch.orderers.size(); i++) {
      PbftOrderer o = epoch.orderers.get(i);
      if (replayed != null) {
        for (PbftEvent entry : replayed.getOrDefault((long) i, List.of())) {
          o.apply(entry);
        }
      }
      o.apply(PbftEvents.init());
    }
  }

  private void bootstrapAvailability() {
    for (int i = 0; i < memberships.size(); i++) {
      initAvailabilityModule(epoch.nr.value() + i, memberships.get(i));
    }
    initAvailabilityModule(epoch.nr.value() + params.configOffset(), nextNewMembership);
  }

  /**
   * Creates the availability instance of epoch {@code epochNr}, unless it exists. It exists when a
   * state transfer lands on an epoch that this node's pipeline already reached: the node created
   * the instance when that epoch's membership was decided, and may be serving other members'
   * requests with it; replacing it would deliver the answers of its pending requests (mempool,
   * batch DB, crypto) and its timer events to a new instance that never made them.
   */
  private void initAvailabilityModule(long epochNr, Membership m) {
    Membership existing = availabilityInstances.get(epochNr);
    if (existing != null) {
      if (existing.equals(m)) {
        LOG.debug("{}: keeping the availability instance of epoch {}", self, epochNr);
        return;
      }
      // Impossible while at most f nodes are faulty: the membership of an epoch is decided by the
      // ordered log, and the checkpoint is certified. Follow the certified checkpoint.
      LOG.error(
          "{}: the membership of epoch {} in the installed checkpoint differs from the one this"
              + " node decided; replacing the epoch's availability instance",
          self,
          epochNr);
    }
    availabilityInstances.put(epochNr, m);
    dsl.emit(
        FactoryEvents.newModule(
            config.availability(),
            config.availability().then(Long.toString(epochNr)),
            RetentionIndex.of(epochNr),
            InstanceParams.newBuilder().putAllMembership(m.getMembershipMap()).build()));
  }

  private boolean haveEpochCheckpoint() {
    return lastStableCheckpoint.getSn() == epoch.firstSn.value();
  }

  private boolean epochFinished() {
    return nextDeliveredSn == newEpochSn && haveEpochCheckpoint();
  }

  // upon hash of log entry sn = d do commitLog[sn] := entry; deliver in order
  private void onLogEntryHash(ByteString digest, long sn) {
    CommitLogEntry entry = unhashedLogEntries.remove(sn);
    if (entry == null) {
      return; // Dropped by a state transfer.
    }
    commitLog.put(
        sn,
        new CommitLogEntry(entry.sn(), entry.certData(), entry.aborted(), entry.suspect(), digest));
    processCommitted();
  }

  private void processCommitted() {
    if (!haveEpochCheckpoint()) {
      return;
    }
    CommitLogEntry entry;
    while ((entry = commitLog.remove(nextDeliveredSn)) != null) {
      if (entry.aborted()) {
        // The ordered log shows the segment's leader failed: every node suspects it alike.
        epoch.leaderPolicy.suspect(epoch.nr, entry.suspect());
      }
      Cert cert = Cert.getDefaultInstance();
      if (!entry.certData().isEmpty()) {
        try {
          cert = Cert.parseFrom(entry.certData());
        } catch (InvalidProtocolBufferException e) {
          LOG.warn(
              "{}: certificate ordered at sn {} does not parse; delivering it as empty",
              self,
              nextDeliveredSn);
        }
      }
      dsl.emit(IssEvents.deliverCert(config.app(), SeqNr.of(nextDeliveredSn), cert));
      if (metrics != null) {
        reportDelivered(nextDeliveredSn, entry.aborted());
      }
      nextDeliveredSn++;
    }
    if (epochFinished()) {
      advanceEpoch();
    }
  }

  private void reportDelivered(long sn, boolean aborted) {
    metrics.certificateDelivered(aborted);
    Long proposed = proposedAt.remove(sn);
    if (proposed != null && !aborted) {
      metrics.committed(metrics.nanoTime() - proposed);
    }
  }

  private void advanceEpoch() {
    EpochNr newEpochNr = epoch.nr.next();
    if (nextNewMembership == null) {
      LOG.warn(
          "{}: cannot advance to epoch {} yet: waiting for its configuration", self, newEpochNr);
      return;
    }
    if (metrics != null) {
      metrics.epochCompleted(epoch.nr.value());
    }
    List<NodeId> oldNodeIds = StableCheckpoints.nodeIds(memberships.get(0));
    memberships.remove(0);
    memberships.add(nextNewMembership);
    nextNewMembership = null;
    List<NodeId> nodeIds = StableCheckpoints.nodeIds(memberships.get(0));
    initEpoch(newEpochNr, nextDeliveredSn, nodeIds, epoch.leaderPolicy.reconfigure(nodeIds));
    dsl.emit(IssEvents.newEpoch(config.app(), newEpochNr));
    ModuleId chkp = CheckpointEvents.instanceId(config.checkpoint(), newEpochNr);
    dsl.emit(
        CheckpointEvents.newInstance(
            config.checkpoint(),
            oldNodeIds,
            newEpochNr,
            SeqNr.of(nextDeliveredSn),
            CheckpointProtocol.DEFAULT_RESEND_PERIOD));
    dsl.emit(CheckpointEvents.appSnapshotRequest(config.app(), chkp));
    initOrderers();
    applyBufferedMessages();
  }

  private void applyBufferedMessages() {
    long current = epoch.nr.value();
    for (Map.Entry<NodeId, MessageBuffer<SbMessage>> b : messageBuffers.entrySet()) {
      NodeId from = b.getKey();
      b.getValue()
          .iterate(
              m ->
                  m.getEpoch() < current
                      ? MessageBuffer.Applicable.PAST
                      : m.getEpoch() == current
                          ? MessageBuffer.Applicable.CURRENT
                          : MessageBuffer.Applicable.FUTURE,
              m -> applySbMessage(from, m));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Hosting orderers

  /** The digest data of a commit-log entry: [sn LE, suspect, aborted byte, cert data]. */
  static HashData logEntryHashData(CommitLogEntry e) {
    return CryptoEvents.hashData(
        ByteString.copyFrom(LittleEndian.u64(e.sn().value())),
        ByteString.copyFromUtf8(e.suspect().value()),
        ByteString.copyFrom(new byte[] {(byte) (e.aborted() ? 1 : 0)}),
        e.certData());
  }

  /** Mir's {@code sbEventService}: what one orderer does, as events of the node. */
  private final class Context implements OrdererContext {
    private final long epochNr;
    private final int instance;
    private List<Event> sink;

    Context(long epochNr, int instance) {
      this.epochNr = epochNr;
      this.instance = instance;
    }

    private void emit(Event e) {
      if (sink != null) {
        sink.add(e);
      } else {
        dsl.emit(e);
      }
    }

    private Event sbEvent(PbftEvent e) {
      return Event.of(
          config.self(),
          SbEvent.newBuilder().setEpoch(epochNr).setInstance(instance).setEvent(e).build());
    }

    @Override
    public void sendMessage(PbftMessage msg, List<NodeId> destinations) {
      emit(
          Events.sendMessage(
              config.net(),
              config.self(),
              SbMessage.newBuilder().setEpoch(epochNr).setInstance(instance).setMsg(msg).build(),
              destinations));
    }

    @Override
    public void hashRequest(List<HashData> data, PbftHashOrigin origin) {
      emit(
          CryptoEvents.hashRequest(
              config.hasher(),
              data,
              CryptoEvents.customOrigin(
                  config.self(),
                  SbHashOrigin.newBuilder()
                      .setEpoch(epochNr)
                      .setInstance(instance)
                      .setOrigin(origin)
                      .build())));
    }

    @Override
    public void signRequest(List<ByteString> data, PbftSignOrigin origin) {
      emit(
          CryptoEvents.signRequest(
              config.crypto(),
              data,
              CryptoEvents.customOrigin(
                  config.self(),
                  SbSignOrigin.newBuilder()
                      .setEpoch(epochNr)
                      .setInstance(instance)
                      .setOrigin(origin)
                      .build())));
    }

    @Override
    public void verifyNodeSigs(List<SigVerItem> items, PbftSigVerOrigin origin) {
      emit(
          CryptoEvents.verifyNodeSigs(
              config.crypto(),
              items,
              CryptoEvents.customOrigin(
                  config.self(),
                  SbSigVerOrigin.newBuilder()
                      .setEpoch(epochNr)
                      .setInstance(instance)
                      .setOrigin(origin)
                      .build())));
    }

    @Override
    public void walAppend(PbftEvent entry, Consumer<OrdererContext> afterPersisted) {
      List<Event> outer = sink;
      sink = new ArrayList<>();
      List<Event> followUps;
      try {
        afterPersisted.accept(this);
        followUps = sink;
      } finally {
        sink = outer;
      }
      emit(
          Events.walAppend(config.wal(), sbEvent(entry), RetentionIndex.of(epochNr))
              .withFollowUps(followUps));
    }

    @Override
    public void timerDelay(Duration delay, PbftEvent event) {
      emit(Events.timerDelay(config.timer(), List.of(sbEvent(event)), delay));
    }

    @Override
    public void timerRepeat(Duration period, PbftEvent event) {
      emit(
          Events.timerRepeat(
              config.timer(), List.of(sbEvent(event)), period, RetentionIndex.of(epochNr)));
    }

    @Override
    public void requestCert() {
      long id = certRequests.store(new CertRequest(epochNr, instance));
      emit(
          AvailabilityEvents.requestCert(
              config.availability().then(Long.toString(epochNr)),
              ContextStore.origin(config.self(), id)));
    }

    @Override
    public void proposed(SeqNr sn) {
      if (metrics != null) {
        proposedAt.put(sn.value(), metrics.nanoTime());
      }
    }

    @Override
    public void viewChangeStarted(String cause) {
      if (metrics != null) {
        metrics.viewChangeStarted(cause);
      }
    }

    @Override
    public void deliver(SeqNr sn, ByteString certData, boolean aborted) {
      EpochState e = epochs.get(epochNr);
      NodeId suspect = e.segments.get(instance).leader();
      CommitLogEntry entry = new CommitLogEntry(sn, certData, aborted, suspect, ByteString.EMPTY);
      unhashedLogEntries.put(sn.value(), entry);
      emit(
          CryptoEvents.hashRequest(
              config.hasher(),
              List.of(logEntryHashData(entry)),
              CryptoEvents.customOrigin(
                  config.self(), LogEntryHashOrigin.newBuilder().setSn(sn.value()).build())));
    }
  }
}
