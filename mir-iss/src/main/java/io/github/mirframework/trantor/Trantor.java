package io.github.mirframework.trantor;

import com.google.protobuf.ByteString;
import io.github.mirframework.availability.batchdb.FakeBatchDb;
import io.github.mirframework.availability.msc.MultisigCollector;
import io.github.mirframework.batchfetcher.BatchFetcher;
import io.github.mirframework.checkpoint.CheckpointProtocol;
import io.github.mirframework.checkpoint.pb.StableCheckpoint;
import io.github.mirframework.client.ClientRegistry;
import io.github.mirframework.client.ReplyModule;
import io.github.mirframework.crypto.Crypto;
import io.github.mirframework.crypto.CryptoModule;
import io.github.mirframework.crypto.HasherModule;
import io.github.mirframework.factory.FactoryModule;
import io.github.mirframework.iss.Iss;
import io.github.mirframework.mempool.SimpleMempool;
import io.github.mirframework.metrics.OrderingMetrics;
import io.github.mirframework.module.Module;
import io.github.mirframework.net.Membership;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.net.Transport;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.slf4j.LoggerFactory;

/**
 * Assembles the modules of a Trantor node (Mir's {@code trantor.New}) under Mir's module IDs:
 * {@code iss}, {@code batchfetcher}, {@code app}, {@code availability} (a factory of per-epoch
 * multisig collectors), {@code checkpoint} (a factory of per-epoch checkpoint instances), {@code
 * mempool}, {@code batchdb}, {@code crypto}, {@code hasher}, and {@code net}. A timer ({@code
 * "timer"}) and, for crash recovery, a write-ahead log ({@code "wal"}) are added by the caller,
 * which can so use a simulated timer and WAL.
 */
public final class Trantor {
  private Trantor() {}

  /** The module ID of the transport. */
  public static final ModuleId NET = ModuleId.of("net");

  /** The module ID of the application. */
  public static final ModuleId APP = ModuleId.of("app");

  /** The module ID of the reply sink (see {@link Clients}). */
  public static final ModuleId REPLIES = ReplyModule.DEFAULT_ID;

  /**
   * How a Trantor node treats clients.
   *
   * @param registry the clients whose authentic requests are delivered (every replica must use the
   *     same); {@code null} delivers requests of any client ID, unsigned (tests only)
   * @param replies the reply sink, registered as {@link #REPLIES}, to which the app module sends
   *     the results of applied requests; bind it to the node's request receiver with {@code
   *     RequestReceiver.Builder.replies}; {@code null} for no replies
   */
  public record Clients(ClientRegistry registry, ReplyModule replies) {
    /** Authenticated clients, with replies through a new reply sink. */
    public static Clients authenticated(ClientRegistry registry) {
      return new Clients(Objects.requireNonNull(registry, "registry"), new ReplyModule());
    }

    /**
     * For tests only: any client ID, unsigned, with replies through a new reply sink. Anyone who
     * can submit requests can then use another client's request numbers.
     */
    public static Clients insecureUnauthenticatedForTesting() {
      return new Clients(null, new ReplyModule());
    }
  }

  /**
   * Parameters of a Trantor system.
   *
   * <p>With a mempool {@linkplain SimpleMempool.Params#batchTimeout() batch timeout}, an idle
   * leader proposes an empty batch only once per timeout, so the PBFT view-change timeouts must
   * leave room for it: the timeout may be at most half the "no new commit" timeout, and a segment
   * of empty batches ({@code segmentLength} × the timeout) at most half the segment timeout.
   *
   * @param mempool the mempool's parameters
   * @param iss ISS's parameters (membership, segment length, timeouts); an {@link
   *     IllegalArgumentException} tells if the batch timeout does not fit its view-change timeouts
   */
  public record Params(SimpleMempool.Params mempool, Iss.Params iss) {
    /** Checks that nothing is missing and that the batch timeout fits the view-change timeouts. */
    public Params {
      Objects.requireNonNull(mempool, "mempool");
      Objects.requireNonNull(iss, "iss");
      Duration t = mempool.batchTimeout();
      if (t.multipliedBy(2).compareTo(iss.pbftViewChangeSnTimeout()) > 0) {
        throw new IllegalArgumentException(
            "the mempool's batch timeout ("
                + t
                + ") must be at most half the PBFT view-change SN timeout ("
                + iss.pbftViewChangeSnTimeout()
                + "): an idle leader waits that long before each proposal");
      }
      if (t.multipliedBy(2L * iss.segmentLength()).compareTo(iss.pbftViewChangeSegmentTimeout())
          > 0) {
        throw new IllegalArgumentException(
            "the mempool's batch timeout ("
                + t
                + ") times the segment length ("
                + iss.segmentLength()
                + ") must be at most half the PBFT view-change segment timeout ("
                + iss.pbftViewChangeSegmentTimeout()
                + "): an idle segment takes that long to fill");
      }
    }

    /** Mir's defaults for {@code membership}. */
    public static Params defaults(Membership membership) {
      return new Params(SimpleMempool.Params.defaults(), Iss.Params.defaults(membership));
    }

    /**
     * Scales ISS's timeouts to a proposal period of {@code maxProposeDelay} (Mir's AdjustSpeed).
     */
    public Params adjustSpeed(Duration maxProposeDelay) {
      return new Params(mempool, iss.adjustSpeed(maxProposeDelay));
    }

    /** Returns a copy with other mempool parameters. */
    public Params withMempool(SimpleMempool.Params p) {
      return new Params(p, iss);
    }

    /** Returns a copy with other ISS parameters. */
    public Params withIss(Iss.Params p) {
      return new Params(mempool, p);
    }

    /**
     * The settings of the per-epoch multisig collectors: retransmission after half the PBFT "no new
     * commit" timeout (between 10 and 500 ms), so that a lost signature request is asked again
     * before it costs a view change; and per-sender limits that a correct leader, proposing at most
     * a segment of batches per epoch, stays well below.
     */
    public MultisigCollector.InstanceSettings availabilitySettings() {
      long half = iss.pbftViewChangeSnTimeout().toMillis() / 2;
      Duration retry = Duration.ofMillis(Math.max(10, Math.min(500, half)));
      int requests =
          Math.max(
              MultisigCollector.Params.DEFAULT_MAX_REQUESTS_PER_SENDER, 4 * iss.segmentLength());
      long bytes =
          Math.max(
              MultisigCollector.Params.DEFAULT_MAX_BYTES_PER_SENDER,
              2L * iss.segmentLength() * mempool.maxBatchBytes());
      return new MultisigCollector.InstanceSettings(retry, requests, bytes);
    }
  }

  /** The stable checkpoint a new system starts from: sequence number 0, {@code appState}. */
  public static StableCheckpoint genesisCheckpoint(ByteString appState, Params params) {
    return Iss.genesisCheckpoint(appState, params.iss());
  }

  /**
   * The membership of a checkpoint's epoch config (Mir's {@code types.Membership}), with parsed
   * addresses.
   *
   * @throws IllegalArgumentException naming the node if an ID or address is invalid
   */
  public static Membership membership(io.github.mirframework.checkpoint.pb.Membership proto) {
    Map<NodeId, NodeAddress> m = new java.util.TreeMap<>();
    proto
        .getMembershipMap()
        .forEach(
            (id, addr) -> {
              try {
                m.put(NodeId.of(id), NodeAddress.parse(addr));
              } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(
                    "membership entry of node '" + id + "': " + e.getMessage(), e);
              }
            });
    return Membership.of(m);
  }

  /**
   * The modules of node {@code self}, without timer and WAL.
   *
   * @param transport the transport, registered as {@code "net"} and told about new memberships; may
   *     be {@code null} if {@code net} is added by the caller (e.g. a simulation)
   * @param startingCheckpoint the genesis checkpoint, or a stable checkpoint to restart from
   * @param crypto this node's signing key and the other nodes' public keys
   * @param app the application
   */
  public static Map<ModuleId, Module> modules(
      NodeId self,
      Transport transport,
      StableCheckpoint startingCheckpoint,
      Crypto crypto,
      AppLogic app,
      Params params) {
    return modules(
        self, transport, startingCheckpoint, crypto, app, params, new Clients(null, null));
  }

  /**
   * The modules of node {@code self}, without timer and WAL, with client authentication and replies
   * as given by {@code clients} (its reply sink, if any, is registered as {@link #REPLIES}).
   *
   * @param transport the transport, registered as {@code "net"} and told about new memberships; may
   *     be {@code null} if {@code net} is added by the caller (e.g. a simulation)
   * @param startingCheckpoint the genesis checkpoint, or a stable checkpoint to restart from
   * @param crypto this node's signing key and the other nodes' public keys
   * @param app the application
   */
  public static Map<ModuleId, Module> modules(
      NodeId self,
      Transport transport,
      StableCheckpoint startingCheckpoint,
      Crypto crypto,
      AppLogic app,
      Params params,
      Clients clients) {
    return modules(self, transport, startingCheckpoint, crypto, app, params, clients, null);
  }

  /**
   * The modules of node {@code self}, without timer and WAL, as {@link #modules(NodeId, Transport,
   * StableCheckpoint, Crypto, AppLogic, Params, Clients)}, with ISS and the app module reporting
   * ordering progress to {@code metrics} (see {@link OrderingMetrics}).
   *
   * @param metrics where ISS and the app module report; {@code null} for nowhere (e.g. from {@code
   *     NodeMetrics.ordering})
   */
  public static Map<ModuleId, Module> modules(
      NodeId self,
      Transport transport,
      StableCheckpoint startingCheckpoint,
      Crypto crypto,
      AppLogic app,
      Params params,
      Clients clients,
      OrderingMetrics metrics) {
    Objects.requireNonNull(clients, "clients");
    Objects.requireNonNull(self, "self");
    Objects.requireNonNull(startingCheckpoint, "startingCheckpoint");
    Objects.requireNonNull(crypto, "crypto");
    Objects.requireNonNull(app, "app");
    Objects.requireNonNull(params, "params");
    Map<ModuleId, Module> m = new LinkedHashMap<>();
    if (transport != null) {
      m.put(NET, transport);
    }
    m.put(
        Iss.DEFAULT_ID,
        new Iss(self, Iss.Config.defaults(), params.iss(), startingCheckpoint, metrics));
    m.put(
        BatchFetcher.DEFAULT_ID,
        new BatchFetcher(BatchFetcher.Config.defaults(), self, clients.registry()));
    m.put(
        APP,
        new AppModule(
            app, Iss.DEFAULT_ID, transport, clients.replies() == null ? null : REPLIES, metrics));
    if (clients.replies() != null) {
      m.put(REPLIES, clients.replies());
    }
    m.put(
        MultisigCollector.DEFAULT_ID,
        MultisigCollector.reconfigurable(
            MultisigCollector.Config.defaults(),
            self,
            params.availabilitySettings(),
            LoggerFactory.getLogger(FactoryModule.class)));
    m.put(
        CheckpointProtocol.DEFAULT_ID,
        CheckpointProtocol.factory(CheckpointProtocol.Config.defaults(), self));
    m.put(
        SimpleMempool.DEFAULT_ID,
        new SimpleMempool(SimpleMempool.Config.defaults(), params.mempool()));
    m.put(FakeBatchDb.DEFAULT_ID, new FakeBatchDb());
    m.put(CryptoModule.DEFAULT_ID, new CryptoModule(crypto));
    m.put(HasherModule.DEFAULT_ID, new HasherModule());
    return m;
  }
}
