package io.github.mirframework.trantor;

import io.github.mirframework.availability.AvailabilityEvents;
import io.github.mirframework.availability.batchdb.BatchDbEvents;
import io.github.mirframework.availability.msc.MscMessages;
import io.github.mirframework.checkpoint.CheckpointEvents;
import io.github.mirframework.checkpoint.StableCheckpoints;
import io.github.mirframework.checkpoint.pb.StableCheckpoint;
import io.github.mirframework.client.ReplyModule;
import io.github.mirframework.client.RequestReceiver;
import io.github.mirframework.crypto.Crypto;
import io.github.mirframework.crypto.CryptoEvents;
import io.github.mirframework.event.EventCodec;
import io.github.mirframework.event.PayloadRegistry;
import io.github.mirframework.eventlog.Recorder;
import io.github.mirframework.eventmangler.EventMangler;
import io.github.mirframework.iss.IssEvents;
import io.github.mirframework.mempool.MempoolEvents;
import io.github.mirframework.mempool.SimpleMempool;
import io.github.mirframework.module.Module;
import io.github.mirframework.module.Modules;
import io.github.mirframework.net.Membership;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.net.Transport;
import io.github.mirframework.net.grpc.GrpcTransport;
import io.github.mirframework.net.grpc.NodeIdentity;
import io.github.mirframework.net.grpc.Security;
import io.github.mirframework.node.Node;
import io.github.mirframework.node.NodeConfig;
import io.github.mirframework.timer.TimerModule;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import io.github.mirframework.wal.file.FileWal;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * A runnable Trantor replica (Mir's {@code trantor.System}, plus what Mir leaves to its caller):
 * one object that builds and owns the {@link Node} with all of {@link Trantor#modules}, a {@link
 * TimerModule}, a write-ahead log ({@link FileWal} or none), the transport (normally a {@link
 * GrpcTransport} on a fixed or free address), the client port ({@link RequestReceiver}) and an
 * optional event {@link Recorder}.
 *
 * <pre>{@code
 * MembershipFile mf = MembershipFile.load(Path.of("keys/membership"));
 * try (TrantorSystem sys =
 *     TrantorSystem.builder(self, app, Trantor.Params.defaults(mf.initialMembership()))
 *         .membershipFile(mf, mf.defaultPrivateKeyFile(self))
 *         .build()) {
 *   sys.start();     // binds the ports, connects to the other nodes, starts the node
 *   ...
 * }                  // stops the node, the transport and the request receiver
 * }</pre>
 *
 * <p>Threads: those of the node, the transport and the request receiver, all ended by {@link
 * #stop()}. Thread-safety: {@link #start()}, {@link #stop()} and {@link #close()} may be called
 * from any thread; {@code stop()} and {@code close()} are idempotent and may be called without
 * {@code start()}.
 */
public final class TrantorSystem implements AutoCloseable {
  /** The module ID of the timer. */
  public static final ModuleId TIMER = ModuleId.of("timer");

  /** The module ID of the write-ahead log. */
  public static final ModuleId WAL = ModuleId.of("wal");

  /** Where the real transport goes when messages are perturbed (Mir's {@code truenet}). */
  public static final ModuleId TRUE_NET = ModuleId.of("truenet");

  private final NodeId self;
  private final Node node;
  private final Transport transport;
  private final RequestReceiver requestReceiver;
  private final FileWal wal;
  private final List<Membership> initialMemberships;
  private final Object lock = new Object();
  private boolean started;
  private boolean stopped;

  private TrantorSystem(
      NodeId self,
      Node node,
      Transport transport,
      RequestReceiver requestReceiver,
      FileWal wal,
      List<Membership> initialMemberships) {
    this.self = self;
    this.node = node;
    this.transport = transport;
    this.requestReceiver = requestReceiver;
    this.wal = wal;
    this.initialMemberships = initialMemberships;
  }

  /**
   * Returns a builder of replica {@code self} running {@code app} with {@code params}.
   *
   * @param params the system's parameters; their initial membership is the genesis membership,
   *     which need not contain {@code self} (a node that joins later)
   */
  public static Builder builder(NodeId self, AppLogic app, Trantor.Params params) {
    return new Builder(self, app, params);
  }

  /**
   * Binds the transport's and the request receiver's ports, connects to the nodes of the starting
   * checkpoint's memberships and starts the node (which replays the WAL, if any). Idempotent.
   *
   * @throws IOException if a port cannot be bound; everything started so far is stopped again
   * @throws IllegalStateException if the system was stopped
   */
  public void start() throws IOException {
    synchronized (lock) {
      if (stopped) {
        throw new IllegalStateException("Trantor system of node " + self + " was stopped");
      }
      if (started) {
        return;
      }
      started = true;
      try {
        if (transport instanceof GrpcTransport g) {
          g.start();
        }
        node.start();
        for (Membership m : initialMemberships) {
          transport.connect(m);
        }
        if (requestReceiver != null) {
          requestReceiver.start();
        }
      } catch (IOException | RuntimeException e) {
        stopLocked();
        throw e;
      }
    }
  }

  /**
   * Stops the request receiver, the node (and with it the transport and the recorder) and closes
   * the WAL; joins every thread they started. Idempotent.
   */
  public void stop() {
    synchronized (lock) {
      stopLocked();
    }
  }

  private void stopLocked() {
    if (stopped) {
      return;
    }
    stopped = true;
    if (requestReceiver != null) {
      requestReceiver.stop();
    }
    node.stop();
    if (transport instanceof GrpcTransport g) {
      g.stop();
    }
    if (wal != null) {
      try {
        wal.close();
      } catch (IOException e) {
        throw new UncheckedIOException("closing the WAL of node " + self + " failed", e);
      }
    }
  }

  /** Same as {@link #stop()}. */
  @Override
  public void close() {
    stop();
  }

  /** This replica's node ID. */
  public NodeId id() {
    return self;
  }

  /**
   * The node, e.g. to inject requests directly ({@link Node#injectEvents}) or to check failures.
   */
  public Node node() {
    return node;
  }

  /** The transport (the real one, also when messages are perturbed). */
  public Transport transport() {
    return transport;
  }

  /**
   * Where the gRPC transport listens (the bound port if it was 0), or empty for another transport.
   *
   * @throws IllegalStateException if the gRPC transport is not started
   */
  public Optional<NodeAddress> transportAddress() {
    return transport instanceof GrpcTransport g ? Optional.of(g.listenAddress()) : Optional.empty();
  }

  /**
   * Where the request receiver listens (the bound port if it was 0), or empty without one.
   *
   * @throws IllegalStateException if the receiver is not started
   */
  public Optional<NodeAddress> clientAddress() {
    return requestReceiver == null
        ? Optional.empty()
        : Optional.of(requestReceiver.listenAddress());
  }

  /** The request receiver (the client port), if the system has one, e.g. for its counters. */
  public Optional<RequestReceiver> requestReceiver() {
    return Optional.ofNullable(requestReceiver);
  }

  /** Why the node failed, if it did. */
  public Optional<Throwable> failure() {
    return node.failure();
  }

  /** The payload types of every event and message of a Trantor node (e.g. to read event logs). */
  public static PayloadRegistry payloadRegistry() {
    PayloadRegistry r = PayloadRegistry.withCoreTypes();
    r.registerAll(IssEvents.payloadTypes());
    r.registerAll(MempoolEvents.payloadTypes());
    r.registerAll(CheckpointEvents.payloadTypes());
    r.registerAll(BatchDbEvents.payloadTypes());
    r.registerAll(AvailabilityEvents.payloadTypes());
    r.registerAll(MscMessages.payloadTypes());
    r.registerAll(CryptoEvents.payloadTypes());
    return r;
  }

  @Override
  public String toString() {
    return "TrantorSystem[" + self + "]";
  }

  /**
   * Builds a {@link TrantorSystem}. Required: {@link #crypto} and a transport ({@link #transport}
   * or {@link #grpcTransport}), or {@link #membershipFile}, which sets all of them. Not
   * thread-safe.
   */
  public static final class Builder {
    private final NodeId self;
    private final AppLogic app;
    private final Trantor.Params params;
    private Crypto crypto;
    private Transport transport;
    private NodeAddress grpcAddress;
    private Security grpcSecurity;
    private GrpcTransport.Params grpcParams = GrpcTransport.Params.defaults();
    private NodeAddress clientAddress;
    private NodeIdentity clientTls;
    private boolean clientPlaintext;
    private io.github.mirframework.client.ClientRegistry clientRegistry;
    private boolean unauthenticatedClients;
    private StableCheckpoint startingCheckpoint;
    private Path walDirectory;
    private Path recordDirectory;
    private EventMangler.Params perturbation;
    private long perturbationSeed;
    private NodeConfig nodeConfig = NodeConfig.defaults();
    private io.github.mirframework.metrics.NodeMetrics metrics;
    private final Map<ModuleId, Module> extraModules = new LinkedHashMap<>();

    private Builder(NodeId self, AppLogic app, Trantor.Params params) {
      this.self = Objects.requireNonNull(self, "self");
      this.app = Objects.requireNonNull(app, "app");
      this.params = Objects.requireNonNull(params, "params");
    }

    /** This node's signing key and the other nodes' public keys (required). */
    public Builder crypto(Crypto crypto) {
      this.crypto = Objects.requireNonNull(crypto, "crypto");
      return this;
    }

    /**
     * Uses {@code transport} (any transport, e.g. an in-process one or a {@link GrpcTransport}
     * built by the caller, possibly already started to learn its port). The system owns it from now
     * on and stops it.
     */
    public Builder transport(Transport transport) {
      this.transport = Objects.requireNonNull(transport, "transport");
      this.grpcAddress = null;
      return this;
    }

    /**
     * Uses a {@link GrpcTransport} listening on {@code listenAddress} (a fixed address, or port 0
     * for any free port) secured by {@code security}.
     */
    public Builder grpcTransport(NodeAddress listenAddress, Security security) {
      this.grpcAddress = Objects.requireNonNull(listenAddress, "listenAddress");
      this.grpcSecurity = Objects.requireNonNull(security, "security");
      this.transport = null;
      return this;
    }

    /** Parameters of the gRPC transport (default {@link GrpcTransport.Params#defaults()}). */
    public Builder grpcParams(GrpcTransport.Params p) {
      this.grpcParams = Objects.requireNonNull(p, "params");
      return this;
    }

    /**
     * Adds a request receiver (the client port) on {@code listenAddress} serving TLS with {@code
     * identity}; requests go to the mempool, and the application's result for each applied request
     * goes back to its client ({@link AppLogic#applyTxsWithResults}), so that a {@code MirClient}
     * future completes once f+1 replicas sent the same result.
     */
    public Builder requestReceiver(NodeAddress listenAddress, NodeIdentity identity) {
      this.clientAddress = Objects.requireNonNull(listenAddress, "listenAddress");
      this.clientTls = Objects.requireNonNull(identity, "identity");
      this.clientPlaintext = false;
      return this;
    }

    /**
     * The clients the request receiver accepts: each request must be signed with its client's
     * registered key, and the batch fetcher checks the same again for every request of an ordered
     * batch. A request receiver needs this or {@link #insecureUnauthenticatedClientsForTesting()}.
     * With a request receiver, the results of applied requests go back to their clients (module
     * {@link Trantor#REPLIES}).
     */
    public Builder clients(io.github.mirframework.client.ClientRegistry registry) {
      this.clientRegistry = Objects.requireNonNull(registry, "registry");
      this.unauthenticatedClients = false;
      return this;
    }

    /**
     * Accepts unsigned requests under any client ID on the request receiver. Anyone who can reach
     * the client port can then use another client's request numbers: for tests only.
     */
    public Builder insecureUnauthenticatedClientsForTesting() {
      this.clientRegistry = null;
      this.unauthenticatedClients = true;
      return this;
    }

    /** Adds a plaintext request receiver on {@code listenAddress} (tests, trusted networks). */
    public Builder plaintextRequestReceiver(NodeAddress listenAddress) {
      this.clientAddress = Objects.requireNonNull(listenAddress, "listenAddress");
      this.clientTls = null;
      this.clientPlaintext = true;
      return this;
    }

    /**
     * Configures node {@code self} from a membership file: ECDSA crypto with its private key and
     * every node's public key, a gRPC transport with mutual TLS on its transport address, and a TLS
     * request receiver on its client address. If the file does not list {@code self} (a node that
     * is not in the file cannot get its keys from it), use the other methods.
     *
     * @throws IOException if the private key cannot be read or does not match the certificate
     * @throws IllegalArgumentException if the file has no node {@code self}
     */
    public Builder membershipFile(MembershipFile file, Path privateKeyFile) throws IOException {
      MembershipFile.Entry e =
          file.entry(self)
              .orElseThrow(
                  () ->
                      new IllegalArgumentException(
                          file.file() + " has no node " + self + " (add it, e.g. as spare)"));
      NodeIdentity identity = file.identity(self, privateKeyFile);
      try {
        crypto(file.crypto(io.github.mirframework.crypto.KeyFiles.readPrivateKey(privateKeyFile)));
      } catch (java.security.InvalidKeyException ex) {
        throw new IOException(privateKeyFile + ": " + ex.getMessage(), ex);
      }
      grpcTransport(e.transport(), file.security(identity));
      requestReceiver(e.client(), identity);
      return this;
    }

    /**
     * The stable checkpoint to start from (e.g. loaded from a file). Default: the genesis
     * checkpoint, made from the application's initial {@link AppLogic#snapshot()}.
     */
    public Builder startingCheckpoint(StableCheckpoint checkpoint) {
      this.startingCheckpoint = Objects.requireNonNull(checkpoint, "checkpoint");
      return this;
    }

    /**
     * Keeps a durable write-ahead log in {@code directory} ({@link FileWal}); default: no WAL. A
     * replica started again over the same directory resumes from the newest stable checkpoint in it
     * and replays its orderers' votes since, so it never contradicts what it sent before a crash
     * (see docs/iss-parts.md, "Crash recovery from the WAL").
     */
    public Builder walDirectory(Path directory) {
      this.walDirectory = Objects.requireNonNull(directory, "directory");
      return this;
    }

    /** Records every event into {@code directory} (a {@link Recorder}); default: no recording. */
    public Builder recordTo(Path directory) {
      this.recordDirectory = Objects.requireNonNull(directory, "directory");
      return this;
    }

    /**
     * For tests (Mir's {@code PerturbMessages}): every event for the transport first goes through
     * an {@link EventMangler} that drops, delays and duplicates it as {@code params} say, with
     * randomness from {@code seed}. The real transport moves to {@link #TRUE_NET}.
     */
    public Builder perturbMessages(EventMangler.Params params, long seed) {
      this.perturbation = Objects.requireNonNull(params, "params");
      this.perturbationSeed = seed;
      return this;
    }

    /**
     * Where the node reports its metrics (see {@code io.github.mirframework.metrics}): the node's
     * per-module and transport metrics, and ISS's and the app module's ordering progress ({@code
     * NodeMetrics.ordering}, timed with {@code System.nanoTime}); default none.
     */
    public Builder metrics(io.github.mirframework.metrics.NodeMetrics metrics) {
      this.metrics = metrics;
      return this;
    }

    /** The node's configuration (default {@link NodeConfig#defaults()}). */
    public Builder nodeConfig(NodeConfig config) {
      this.nodeConfig = Objects.requireNonNull(config, "config");
      return this;
    }

    /**
     * Adds module {@code id}, or replaces the module Trantor would put there (Mir's {@code
     * WithModule}), e.g. a simulated timer.
     */
    public Builder module(ModuleId id, Module module) {
      extraModules.put(Objects.requireNonNull(id, "id"), Objects.requireNonNull(module, "module"));
      return this;
    }

    /**
     * Builds the system (nothing is started; opening the WAL reads it).
     *
     * @throws IllegalStateException if the crypto or the transport is missing
     * @throws IllegalArgumentException if the starting checkpoint is malformed
     * @throws IOException if the WAL or the recording directory cannot be opened
     * @throws Exception if the application fails to produce its initial snapshot
     */
    public TrantorSystem build() throws Exception {
      if (crypto == null) {
        throw new IllegalStateException("no crypto: call crypto(...) or membershipFile(...)");
      }
      if (transport == null && grpcAddress == null) {
        throw new IllegalStateException(
            "no transport: call transport(...), grpcTransport(...) or membershipFile(...)");
      }
      StableCheckpoint start = startingCheckpoint;
      if (start == null) {
        start = Trantor.genesisCheckpoint(app.snapshot(), params);
      } else {
        String problem = StableCheckpoints.checkSnapshot(start.getSnapshot());
        if (problem != null) {
          throw new IllegalArgumentException("malformed starting checkpoint: " + problem);
        }
      }
      Transport net =
          transport != null
              ? transport
              : GrpcTransport.builder(self, grpcAddress)
                  .security(grpcSecurity)
                  .params(grpcParams)
                  .build();
      FileWal fileWal = null;
      Recorder recorder = null;
      try {
        // With a client port, the application's results go back to the clients (replies), and
        // registered clients' signatures are checked again when their requests are ordered.
        Trantor.Clients clients =
            new Trantor.Clients(clientRegistry, clientAddress == null ? null : new ReplyModule());
        Map<ModuleId, Module> m =
            Trantor.modules(
                self,
                net,
                start,
                crypto,
                app,
                params,
                clients,
                metrics == null ? null : metrics.ordering(System::nanoTime));
        // The timer must decode every event it delays, e.g. the mangler's messages.
        m.put(TIMER, new TimerModule(new EventCodec(payloadRegistry())));
        if (walDirectory != null) {
          fileWal = FileWal.open(walDirectory, payloadRegistry());
          m.put(WAL, fileWal);
        } else {
          m.put(WAL, Modules.nullPassive());
        }
        if (perturbation != null) {
          m.put(TRUE_NET, m.get(Trantor.NET));
          m.put(
              Trantor.NET,
              new EventMangler(
                  new EventMangler.Config(Trantor.NET, TRUE_NET, TIMER),
                  perturbation,
                  new SplittableRandom(perturbationSeed)));
        }
        m.putAll(extraModules);
        Node.Builder nb = Node.builder(self).config(nodeConfig).modules(m).metrics(metrics);
        if (fileWal != null) {
          nb.wal(fileWal);
        }
        if (recordDirectory != null) {
          recorder = Recorder.builder(self, recordDirectory).build();
          nb.interceptor(recorder);
        }
        Node node = nb.build();
        RequestReceiver rr = null;
        if (clientAddress != null) {
          RequestReceiver.Builder rb =
              RequestReceiver.builder(node, SimpleMempool.DEFAULT_ID, clientAddress);
          if (clientRegistry != null) {
            rb.clients(clientRegistry);
          } else if (unauthenticatedClients) {
            rb.insecureUnauthenticatedClientsForTesting();
          } else {
            throw new IllegalStateException(
                "the request receiver needs clients(registry), or"
                    + " insecureUnauthenticatedClientsForTesting() in tests");
          }
          if (clients.replies() != null) {
            rb.replies(clients.replies());
          }
          rr = (clientPlaintext ? rb.plaintext() : rb.tls(clientTls)).build();
        }
        List<Membership> memberships =
            StableCheckpoints.memberships(start).stream().map(Trantor::membership).toList();
        return new TrantorSystem(self, node, net, rr, fileWal, memberships);
      } catch (Exception | Error e) {
        if (recorder != null) {
          recorder.close();
        }
        if (fileWal != null) {
          fileWal.close();
        }
        if (net instanceof GrpcTransport g) {
          g.stop();
        }
        throw e;
      }
    }
  }
}
