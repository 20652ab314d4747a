package io.github.mirframework.availability.msc;

import com.google.protobuf.ByteString;
import io.github.mirframework.availability.batchdb.FakeBatchDb;
import io.github.mirframework.availability.msc.pb.InstanceParams;
import io.github.mirframework.availability.msc.pb.RetryTick;
import io.github.mirframework.crypto.CryptoModule;
import io.github.mirframework.dsl.DslModule;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.factory.FactoryModule;
import io.github.mirframework.mempool.SimpleMempool;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.net.Membership;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.time.Duration;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The multisig collector (Mir's {@code multisigcollector}), the simplest availability layer: a
 * certificate for a batch is a set of signatures of f+1 members that stored the batch, so at least
 * one correct member has it and can hand it out.
 *
 * <p><b>Protocol.</b> Three parts share this DSL module, as in Mir:
 *
 * <ul>
 *   <li><i>Certificate creation.</i> On {@code RequestCert} the node gets a batch from the mempool
 *       ({@code RequestBatch}), has its ID computed ({@code RequestBatchID}) and sends {@code
 *       RequestSigMessage{txs}} to all members, itself included. A member recomputes the
 *       transaction IDs and the batch ID with its mempool, stores the batch in its batch database
 *       and signs {@link MscMessages#sigData [instance UID, "BATCH_STORED", batch ID]}; it sends
 *       the signature back ({@code SigMessage}). The requester checks each member's first
 *       signature; once f+1 are valid it answers {@code NewCert} with the batch ID and the
 *       signatures, signers sorted by node ID.
 *   <li><i>Certificate verification.</i> {@code VerifyCert} → {@code CertVerified}: the structure
 *       is checked first (type, at least f+1 signers, each a member and none twice, as many
 *       signatures as signers, sizes), then every signature.
 *   <li><i>Batch reconstruction.</i> {@code RequestTransactions{cert}} → the batch from the local
 *       batch database, or else {@code RequestBatchMessage} to the certificate's signers; a signer
 *       that has the batch answers {@code ProvideBatchMessage{txs}}; the node recomputes the batch
 *       ID from the received transactions and accepts them only if it matches the certificate's,
 *       then stores the batch and answers {@code ProvideTransactions}.
 * </ul>
 *
 * <p><b>Untrusted input.</b> Every received message is validated before it causes work, and an
 * invalid one is dropped, logged at debug level and counted in {@link #droppedMessages()}, never an
 * exception: messages from non-members; signatures for unknown, completed or not yet started
 * requests, a member's second signature, empty or oversized signatures, invalid signatures (they do
 * not count); batch requests with an empty or oversized batch ID; batches from nodes that were not
 * asked, a node's second answer, unknown or completed requests, and batches whose recomputed ID
 * differs from the certified one (never stored).
 *
 * <p><b>Bounded work for other members</b> (beyond Mir): a member serves each {@code (requester,
 * request ID)} once; a repeated {@code RequestSigMessage} (a retransmission) is answered with the
 * signature already made, without hashing, storing or signing again. Each requester can make an
 * instance serve at most {@link Params#maxRequestsPerSender()} requests and store at most {@link
 * Params#maxBytesPerSender()} bytes; more are refused and counted ({@link #refusedOverLimit()}).
 * Stored batches carry the instance's epoch as retention index and are deleted when ISS
 * garbage-collects the epoch (see {@link #reconfigurable(Config, NodeId, InstanceSettings,
 * Logger)}).
 *
 * <p><b>Retransmission</b> (beyond Mir, which relied on reliable links): while a certificate
 * request lacks signatures or a batch fetch lacks a correct batch, the instance asks again every
 * {@link Params#retryPeriod()} (through the timer {@link Config#timer()}), and only the members
 * that have not answered.
 *
 * <p>Mir-Java fixes three things of Mir's implementation: certificate verification accepts
 * certificates with exactly f+1 signatures (Mir demanded more, rejecting its own certificates);
 * certificates list signers in sorted order (Mir: random map order); and {@code
 * RequestTransactions} with an ill-formed certificate is answered with no transactions instead of
 * failing the node, since an ordered certificate may come from a Byzantine proposer.
 *
 * <p>Not thread-safe; a passive module, called by one thread at a time.
 */
public final class MultisigCollector implements PassiveModule {
  /** Mir's default ID of the availability module. */
  public static final ModuleId DEFAULT_ID = ModuleId.of("availability");

  /** The default ID of the timer module. */
  public static final ModuleId DEFAULT_TIMER = ModuleId.of("timer");

  /**
   * Largest accepted signature in a received message or certificate, in bytes: more than any scheme
   * in {@code mir-crypto} produces (ECDSA P-256: at most 72; RSA-4096: 512).
   */
  public static final int MAX_SIGNATURE_BYTES = 1024;

  /** Largest accepted batch ID in a received message or certificate: a SHA-512 digest. */
  public static final int MAX_BATCH_ID_BYTES = 64;

  /**
   * The IDs of the modules the multisig collector talks to. All nodes must use the same
   * configuration.
   *
   * @param self this module's ID (Mir's default {@code "availability"}; {@code
   *     "availability/<epoch>"} for instances of the reconfigurable module)
   * @param mempool the mempool (default {@code "mempool"})
   * @param batchDb the batch database (default {@code "batchdb"})
   * @param net the transport (default {@code "net"})
   * @param crypto the crypto module that signs and checks signatures (default {@code "crypto"})
   * @param timer the timer that schedules retransmissions (default {@code "timer"})
   */
  public record Config(
      ModuleId self,
      ModuleId mempool,
      ModuleId batchDb,
      ModuleId net,
      ModuleId crypto,
      ModuleId timer) {
    /** Checks that no ID is missing. */
    public Config {
      Objects.requireNonNull(self, "self");
      Objects.requireNonNull(mempool, "mempool");
      Objects.requireNonNull(batchDb, "batchDb");
      Objects.requireNonNull(net, "net");
      Objects.requireNonNull(crypto, "crypto");
      Objects.requireNonNull(timer, "timer");
    }

    /** The given IDs and the timer {@code "timer"}. */
    public Config(
        ModuleId self, ModuleId mempool, ModuleId batchDb, ModuleId net, ModuleId crypto) {
      this(self, mempool, batchDb, net, crypto, DEFAULT_TIMER);
    }

    /**
     * Mir's default IDs: {@code "availability"}, {@code "mempool"}, {@code "batchdb"}, {@code
     * "net"}, {@code "crypto"}, and {@code "timer"}.
     */
    public static Config defaults() {
      return new Config(
          DEFAULT_ID,
          SimpleMempool.DEFAULT_ID,
          FakeBatchDb.DEFAULT_ID,
          ModuleId.of("net"),
          CryptoModule.DEFAULT_ID,
          DEFAULT_TIMER);
    }

    /** Returns a copy with another ID of this module. */
    public Config withSelf(ModuleId id) {
      return new Config(id, mempool, batchDb, net, crypto, timer);
    }

    /** Returns a copy with another mempool. */
    public Config withMempool(ModuleId id) {
      return new Config(self, id, batchDb, net, crypto, timer);
    }

    /** Returns a copy with another batch database. */
    public Config withBatchDb(ModuleId id) {
      return new Config(self, mempool, id, net, crypto, timer);
    }

    /** Returns a copy with another transport. */
    public Config withNet(ModuleId id) {
      return new Config(self, mempool, batchDb, id, crypto, timer);
    }

    /** Returns a copy with another crypto module. */
    public Config withCrypto(ModuleId id) {
      return new Config(self, mempool, batchDb, net, id, timer);
    }

    /** Returns a copy with another timer. */
    public Config withTimer(ModuleId id) {
      return new Config(self, mempool, batchDb, net, crypto, id);
    }
  }

  /**
   * The parameters of one instance. All nodes must use the same {@code instanceUid}, {@code
   * allNodes} and {@code f}; the others are local.
   *
   * @param instanceUid identifies this instance; it is part of every signature so that signatures
   *     of one instance are useless in another. Must be unique per instance (the reconfigurable
   *     module uses the instance's module ID, e.g. {@code availability/3}); as the signed data is a
   *     plain concatenation (as in Mir), no UID should be a prefix of another followed by {@code
   *     "BATCH_STORED"}
   * @param allNodes the members, without duplicates
   * @param f the number of faulty members tolerated; n ≥ 2f+1 is required, and a certificate holds
   *     f+1 signatures
   * @param epoch the epoch of this instance, or {@link #NO_EPOCH}: names the epoch in batch
   *     requests to the mempool and is the retention index of the batches it stores
   * @param retryPeriod how long to wait for missing signatures or batches before asking again
   * @param maxRequestsPerSender the most signature requests of one member this instance serves;
   *     more are refused (counted)
   * @param maxBytesPerSender the most bytes of transactions one member can make this instance
   *     store; more are refused (counted). A correct leader needs up to its segment length times
   *     the mempool's batch size
   */
  public record Params(
      ByteString instanceUid,
      List<NodeId> allNodes,
      int f,
      long epoch,
      Duration retryPeriod,
      int maxRequestsPerSender,
      long maxBytesPerSender) {
    /** {@link #epoch()} of an instance not bound to an epoch. */
    public static final long NO_EPOCH = -1;

    /** Default {@link #retryPeriod()}: 500 ms. */
    public static final Duration DEFAULT_RETRY_PERIOD = Duration.ofMillis(500);

    /** Default {@link #maxRequestsPerSender()}. */
    public static final int DEFAULT_MAX_REQUESTS_PER_SENDER = 1024;

    /** Default {@link #maxBytesPerSender()}: 32 MiB. */
    public static final long DEFAULT_MAX_BYTES_PER_SENDER = 32L << 20;

    /** Validates the parameters; messages name the bad value. */
    public Params {
      Objects.requireNonNull(instanceUid, "instanceUid");
      Objects.requireNonNull(allNodes, "allNodes");
      Objects.requireNonNull(retryPeriod, "retryPeriod");
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
      if (f < 0) {
        throw new IllegalArgumentException("f must not be negative: " + f);
      }
      if (allNodes.size() < 2 * f + 1) {
        throw new IllegalArgumentException(
            "cannot tolerate " + f + " failures among " + allNodes.size() + " nodes (n < 2f+1)");
      }
      if (epoch < NO_EPOCH) {
        throw new IllegalArgumentException("epoch must be -1 (none) or not negative: " + epoch);
      }
      if (retryPeriod.isNegative() || retryPeriod.isZero()) {
        throw new IllegalArgumentException("retryPeriod must be positive: " + retryPeriod);
      }
      if (maxRequestsPerSender < 1) {
        throw new IllegalArgumentException(
            "maxRequestsPerSender must be at least 1: " + maxRequestsPerSender);
      }
      if (maxBytesPerSender < 1) {
        throw new IllegalArgumentException(
            "maxBytesPerSender must be at least 1: " + maxBytesPerSender);
      }
    }

    /** An instance without epoch, with the default retry period and limits. */
    public Params(ByteString instanceUid, List<NodeId> allNodes, int f) {
      this(
          instanceUid,
          allNodes,
          f,
          NO_EPOCH,
          DEFAULT_RETRY_PERIOD,
          DEFAULT_MAX_REQUESTS_PER_SENDER,
          DEFAULT_MAX_BYTES_PER_SENDER);
    }

    /**
     * Parameters with the largest f the nodes allow, (n−1)/2, as Mir's reconfigurable module uses.
     */
    public static Params withMaxFaults(ByteString instanceUid, List<NodeId> allNodes) {
      return new Params(instanceUid, allNodes, (allNodes.size() - 1) / 2);
    }

    /** Returns a copy with another f. */
    public Params withF(int newF) {
      return new Params(
          instanceUid, allNodes, newF, epoch, retryPeriod, maxRequestsPerSender, maxBytesPerSender);
    }

    /** Returns a copy bound to epoch {@code e} (or {@link #NO_EPOCH}). */
    public Params withEpoch(long e) {
      return new Params(
          instanceUid, allNodes, f, e, retryPeriod, maxRequestsPerSender, maxBytesPerSender);
    }

    /** Returns a copy with another retry period. */
    public Params withRetryPeriod(Duration period) {
      return new Params(
          instanceUid, allNodes, f, epoch, period, maxRequestsPerSender, maxBytesPerSender);
    }

    /** Returns a copy with other per-sender limits. */
    public Params withSenderLimits(int maxRequests, long maxBytes) {
      return new Params(instanceUid, allNodes, f, epoch, retryPeriod, maxRequests, maxBytes);
    }

    /** The number of members. */
    public int n() {
      return allNodes.size();
    }

    /** The number of signatures in a certificate: f+1. */
    public int certificateSize() {
      return f + 1;
    }

    /** Whether {@code node} is a member. */
    public boolean isMember(NodeId node) {
      return allNodes.contains(node);
    }
  }

  /**
   * The local settings the reconfigurable module gives each instance it creates (on top of the
   * membership, f and epoch, which come from the instance's ID and parameters).
   *
   * @param retryPeriod see {@link Params#retryPeriod()}
   * @param maxRequestsPerSender see {@link Params#maxRequestsPerSender()}
   * @param maxBytesPerSender see {@link Params#maxBytesPerSender()}
   */
  public record InstanceSettings(
      Duration retryPeriod, int maxRequestsPerSender, long maxBytesPerSender) {
    /** Validates the settings (as {@link Params} does). */
    public InstanceSettings {
      new Params(
          ByteString.copyFromUtf8("x"),
          List.of(NodeId.of("0")),
          0,
          Params.NO_EPOCH,
          retryPeriod,
          maxRequestsPerSender,
          maxBytesPerSender);
    }

    /** The defaults of {@link Params}. */
    public static InstanceSettings defaults() {
      return new InstanceSettings(
          Params.DEFAULT_RETRY_PERIOD,
          Params.DEFAULT_MAX_REQUESTS_PER_SENDER,
          Params.DEFAULT_MAX_BYTES_PER_SENDER);
    }
  }

  private final Config config;
  private final Params params;
  private final NodeId self;
  private final DslModule dsl;
  private final Rejections rejections;
  private final CertCreation certCreation;
  private final BatchReconstruction batchReconstruction;
  private boolean retryScheduled;

  /**
   * Returns the multisig collector of node {@code self}. The node need not be a member: a
   * non-member can still verify certificates and fetch batches, but its certificate requests never
   * complete, since members drop its requests for signatures.
   */
  public MultisigCollector(Config config, Params params, NodeId self) {
    this.config = Objects.requireNonNull(config, "config");
    this.params = Objects.requireNonNull(params, "params");
    this.self = Objects.requireNonNull(self, "self");
    dsl = new DslModule(config.self());
    rejections = new Rejections(config.self());
    KnownSignatures known = new KnownSignatures();
    certCreation =
        new CertCreation(dsl, config, params, rejections, known, self, this::scheduleRetry);
    new CertVerification(dsl, config, params);
    batchReconstruction =
        new BatchReconstruction(dsl, config, params, self, rejections, known, this::scheduleRetry);

    // upon event <self, RetryTick> do ask the silent members again; schedule the next tick if
    // needed
    dsl.upon(RetryTick.class, t -> onRetryTick());
  }

  /** Schedules a {@code RetryTick} after the retry period, unless one is scheduled already. */
  private void scheduleRetry() {
    if (!retryScheduled) {
      retryScheduled = true;
      dsl.emit(
          Events.timerDelay(
              config.timer(),
              List.of(Event.of(config.self(), RetryTick.getDefaultInstance())),
              params.retryPeriod()));
    }
  }

  private void onRetryTick() {
    retryScheduled = false;
    certCreation.retry();
    batchReconstruction.retry();
    if (certCreation.pendingRequests() > 0 || batchReconstruction.pendingFetches() > 0) {
      scheduleRetry();
    }
  }

  /**
   * Returns the reconfigurable multisig collector of node {@code self} (Mir's {@code
   * NewReconfigurableModule}): a {@link FactoryModule} with ID {@code config.self()} (behind a
   * guard against messages addressed to the factory itself) that, on a {@code NewModule} event for
   * {@code <config.self()>/<sub-ID>} whose parameters are an {@link InstanceParams}, creates a
   * multisig collector for that membership with instance UID = the UTF-8 bytes of the full
   * submodule ID, allNodes = the membership's node IDs sorted, and f = (n−1)/2. ISS creates one per
   * epoch, {@code availability/<epoch>}.
   *
   * <p>Parameters of another type, a malformed node ID or an empty membership fail the factory's
   * batch (they come from the local node).
   */
  public static MultisigCollectorFactory reconfigurable(Config config, NodeId self) {
    return reconfigurable(
        config, self, InstanceSettings.defaults(), LoggerFactory.getLogger(FactoryModule.class));
  }

  /** As {@link #reconfigurable(Config, NodeId)}, with the factory logging to {@code logger}. */
  public static MultisigCollectorFactory reconfigurable(Config config, NodeId self, Logger logger) {
    return reconfigurable(config, self, InstanceSettings.defaults(), logger);
  }

  /**
   * As {@link #reconfigurable(Config, NodeId)}, with {@code settings} for every instance. An
   * instance whose ID ends in a number (ISS's {@code availability/<epoch>}) is bound to that epoch:
   * it names it in batch requests and stores its batches with it as retention index. The factory
   * also forwards its garbage collection to the batch database ({@code GarbageCollect} with the
   * same retention index), so stored batches go with their epoch's instance.
   */
  public static MultisigCollectorFactory reconfigurable(
      Config config, NodeId self, InstanceSettings settings, Logger logger) {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(self, "self");
    Objects.requireNonNull(settings, "settings");
    FactoryModule factory =
        new FactoryModule(
            config.self(),
            FactoryModule.Params.defaults(
                (id, any) -> {
                  InstanceParams p = any.unpack(InstanceParams.class);
                  Set<NodeId> sorted = new TreeSet<>();
                  for (String node : p.getMembershipMap().keySet()) {
                    sorted.add(NodeId.of(node));
                  }
                  return new MultisigCollector(
                      config.withSelf(id),
                      Params.withMaxFaults(ByteString.copyFromUtf8(id.value()), List.copyOf(sorted))
                          .withEpoch(epochOf(id))
                          .withRetryPeriod(settings.retryPeriod())
                          .withSenderLimits(
                              settings.maxRequestsPerSender(), settings.maxBytesPerSender()),
                      self);
                }),
            logger);
    return new MultisigCollectorFactory(config.self(), factory, config.batchDb());
  }

  /** The epoch named by the last part of an instance ID, or {@link Params#NO_EPOCH}. */
  static long epochOf(ModuleId id) {
    String v = id.value();
    String last = v.substring(v.lastIndexOf('/') + 1);
    if (last.isEmpty() || last.length() > 18 || !last.chars().allMatch(Character::isDigit)) {
      return Params.NO_EPOCH;
    }
    return Long.parseLong(last);
  }

  /** The parameters for a new instance of the reconfigurable module with membership {@code m}. */
  public static InstanceParams instanceParams(Membership m) {
    InstanceParams.Builder b = InstanceParams.newBuilder();
    m.nodes().forEach((id, addr) -> b.putMembership(id.value(), addr.toString()));
    return b.build();
  }

  /**
   * The parameters for a new instance of the reconfigurable module whose members are {@code nodes}
   * (with empty addresses, which the module does not use).
   */
  public static InstanceParams instanceParams(Collection<NodeId> nodes) {
    InstanceParams.Builder b = InstanceParams.newBuilder();
    for (NodeId id : nodes) {
      b.putMembership(id.value(), "");
    }
    return b.build();
  }

  /** Takes signature and batch messages from peers. */
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

  /**
   * The number of received messages this module discarded without acting on them: undecodable,
   * invalid (see the class documentation), duplicates, too late, or carrying invalid signatures or
   * wrong batches.
   */
  public long droppedMessages() {
    return dsl.droppedMessages() + rejections.count();
  }

  /** The number of this node's certificate requests still collecting signatures. */
  public int pendingCertRequests() {
    return certCreation.pendingRequests();
  }

  /** Signature requests this instance refused because their sender was over its limits. */
  public long refusedOverLimit() {
    return certCreation.refusedOverLimit();
  }

  /** Bytes of transactions other members made this instance store, over all members. */
  public long storedBytesForOthers() {
    return certCreation.storedBytesForOthers();
  }

  /** Retransmitted signature requests and batch requests (one per message sent again). */
  public long retransmissions() {
    return certCreation.retransmissions() + batchReconstruction.retransmissions();
  }

  /** The number of this node's batch fetches from other nodes still waiting for a correct batch. */
  public int pendingFetches() {
    return batchReconstruction.pendingFetches();
  }

  /** A summary of the module's state, for logs and debugging. */
  @Override
  public String toString() {
    return "MultisigCollector["
        + config.self()
        + ", node="
        + self
        + ", n="
        + params.n()
        + ", f="
        + params.f()
        + ", pendingCerts="
        + pendingCertRequests()
        + ", pendingFetches="
        + pendingFetches()
        + ", dropped="
        + droppedMessages()
        + ", contexts="
        + dsl.storedContexts()
        + "]";
  }
}
