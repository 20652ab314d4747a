package io.github.mirframework.samples.chatdemo;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.github.mirframework.checkpoint.StableCheckpoints;
import io.github.mirframework.checkpoint.pb.StableCheckpoint;
import io.github.mirframework.client.ClientEvents;
import io.github.mirframework.client.ClientRegistry;
import io.github.mirframework.client.ClientSigner;
import io.github.mirframework.client.MirClient;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.crypto.Crypto;
import io.github.mirframework.crypto.EcdsaCrypto;
import io.github.mirframework.crypto.EncodedKeyPair;
import io.github.mirframework.crypto.KeyFiles;
import io.github.mirframework.crypto.VerificationResult;
import io.github.mirframework.event.EventList;
import io.github.mirframework.mempool.SimpleMempool;
import io.github.mirframework.net.Membership;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.net.grpc.GrpcTransport;
import io.github.mirframework.net.grpc.NodeIdentity;
import io.github.mirframework.net.grpc.Security;
import io.github.mirframework.samples.MetricsServer;
import io.github.mirframework.samples.chatdemo.pb.ChatState;
import io.github.mirframework.samples.keygen.KeygenCommand;
import io.github.mirframework.trantor.ClientsFile;
import io.github.mirframework.trantor.MembershipFile;
import io.github.mirframework.trantor.Trantor;
import io.github.mirframework.trantor.TrantorSystem;
import io.github.mirframework.types.ClientId;
import io.github.mirframework.types.NodeId;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.InvalidKeyException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Mir's chat-demo over Trantor: every line typed is a client request; every replica orders it with
 * ISS/PBFT and appends it to its chat history, and all print the history in the same order.
 *
 * <p>Without options, 4 replicas run in this process on free ports of 127.0.0.1 with keys generated
 * for the run. With {@code --membership FILE}, the replicas of the file run on its fixed addresses:
 * all initial ones in this process, or only {@code --id N} (Mir's way: one terminal per replica).
 *
 * <p>Requests are signed, and replicas accept registered clients only: a client with a key made for
 * the run, or, with a membership file, {@code client-N} of the clients file keygen writes next to
 * it (docs/trantor-system.md).
 */
@Command(
    name = "chat",
    mixinStandardHelpOptions = true,
    description = {
      "Mir's chat-demo on Trantor (ISS + PBFT) over gRPC with mutual TLS and ECDSA signatures.",
      "Without options: 4 replicas in this process on 127.0.0.1. Every line you type is sent to"
          + " every replica as a client request; each replica prints the chat history, prefixed"
          + " with its ID, in the order the system agreed on.",
      "One replica per terminal: ./run-sample.sh keygen --nodes 4 --out keys, then"
          + " ./run-sample.sh chat --membership keys/membership --id 0 (and 1, 2, 3).",
      "Lines are signed by the chat's client (client-N of keys/clients with --id N; a key made for"
          + " the run without --membership); replicas accept registered clients only.",
      "Reconfiguration: type 'Config: add-node <id> <host:port>' (a spare node of the membership"
          + " file) or 'Config: remove-node <id>'.",
      "Quit with Ctrl-D (end of input) or Ctrl-C."
    })
public final class ChatCommand implements Callable<Integer> {
  /** The largest chat line accepted, in bytes of UTF-8. */
  static final int MAX_LINE_BYTES = 4096;

  @Option(
      names = "--membership",
      paramLabel = "FILE",
      description = "Membership file (see keygen and docs/trantor-system.md).")
  Path membershipFile;

  @Option(
      names = "--id",
      paramLabel = "N",
      description = "Run only replica N of the membership file (needs --membership).")
  String id;

  @Option(
      names = "--key",
      paramLabel = "FILE",
      description = "Private key of replica --id (default: node-<id>.key next to the membership).")
  Path keyFile;

  @Option(
      names = "--nodes",
      defaultValue = "4",
      description = "Number of replicas without --membership, 1..16 (default: ${DEFAULT-VALUE}).")
  int nodes;

  @Option(
      names = "--checkpoint-dir",
      paramLabel = "DIR",
      description = "Write every stable checkpoint to DIR/<replica ID>/checkpoint-<epoch>-<sn>.")
  Path checkpointDir;

  @Option(
      names = "--checkpoint",
      paramLabel = "FILE",
      description = "Start replica --id from this checkpoint file (written by --checkpoint-dir).")
  Path checkpointFile;

  @Option(
      names = "--propose-ms",
      defaultValue = "500",
      description =
          "Longest delay before a leader proposes a batch; ISS's timeouts scale with it"
              + " (default: ${DEFAULT-VALUE}).")
  long proposeMs;

  @Option(
      names = "--drain-timeout-s",
      defaultValue = "30",
      description =
          "At end of input, how long to wait for the lines already sent to be ordered"
              + " (default: ${DEFAULT-VALUE}).")
  long drainTimeoutS;

  @Option(
      names = "--metrics-port",
      paramLabel = "PORT",
      description =
          "Serve Prometheus metrics of this process's replicas at http://127.0.0.1:PORT/metrics"
              + " (0: a free port, printed at start).")
  Integer metricsPort;

  /** Serves the replicas' metrics while the chat runs (with --metrics-port). */
  private MetricsServer metrics;

  /** Adds the metrics of replica {@code n} to its builder, if metrics are served. */
  private TrantorSystem.Builder withMetrics(TrantorSystem.Builder b, NodeId n) {
    return metrics == null ? b : b.metrics(metrics.forNode(n));
  }

  /** Reads one line; null at end of input (or Ctrl-C). */
  interface LineSource {
    /** The next line, or null at the end. */
    String readLine() throws IOException;
  }

  @Override
  public Integer call() throws Exception {
    Terminal terminal = TerminalBuilder.builder().system(true).dumb(true).build();
    try {
      if (terminal.getType().startsWith(Terminal.TYPE_DUMB)) {
        terminal.close();
        terminal = null;
        PrintStream out = System.out;
        return runWithHook(pipeSource(System.in), line -> printLine(out, line));
      }
      LineReader reader =
          LineReaderBuilder.builder().terminal(terminal).appName("mir-chat").build();
      LineSource source =
          () -> {
            try {
              return reader.readLine("chat> ");
            } catch (UserInterruptException | EndOfFileException e) {
              return null;
            }
          };
      return runWithHook(source, reader::printAbove);
    } finally {
      if (terminal != null) {
        terminal.close();
      }
    }
  }

  /** Runs with a shutdown hook that stops everything on Ctrl-C outside JLine or on SIGTERM. */
  private int runWithHook(LineSource in, Consumer<String> out) throws Exception {
    List<AutoCloseable> owned = new ArrayList<>();
    Thread hook =
        new Thread(
            () -> {
              synchronized (owned) {
                closeAll(owned);
              }
            },
            "mir-chat-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      return run(in, out, owned);
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook runs or ran
      }
    }
  }

  /** Runs the chat reading lines from {@code in} and printing to {@code out} (tests use this). */
  int run(InputStream in, PrintStream out) throws Exception {
    return run(pipeSource(in), line -> printLine(out, line), new ArrayList<>());
  }

  private static LineSource pipeSource(InputStream in) {
    BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
    return r::readLine;
  }

  private static void printLine(PrintStream out, String line) {
    synchronized (out) {
      out.println(line);
      out.flush();
    }
  }

  /** What runs: the replicas of this process and how a client reaches the system. */
  private record Setup(
      List<ChatReplica> replicas,
      Map<NodeId, NodeAddress> clientAddresses,
      Map<NodeId, ByteString> keys,
      ChatClient client,
      String description) {}

  /**
   * Who this process chats as.
   *
   * @param signer the client's ID and signing key
   * @param registry the clients every replica accepts (this one among them)
   * @param firstReqNo the number of this run's first request
   * @param reqNoFile where the next request number is kept across runs, or null (a fresh client)
   */
  private record ChatClient(
      ClientSigner signer, ClientRegistry registry, long firstReqNo, Path reqNoFile) {
    ClientId id() {
      return signer.client();
    }
  }

  private int run(LineSource in, Consumer<String> out, List<AutoCloseable> owned) throws Exception {
    String problem = checkOptions();
    if (problem != null) {
      out.accept("chat: " + problem);
      return 2;
    }
    if (metricsPort != null) {
      try {
        metrics = MetricsServer.start(metricsPort);
      } catch (IllegalArgumentException | IOException e) {
        out.accept("chat: cannot serve metrics: " + e.getMessage());
        return 2;
      }
      MetricsServer m = metrics;
      synchronized (owned) {
        owned.add(m);
      }
      out.accept("metrics: " + m.url());
    }
    // This run's requests applied per local replica, to know when the input is "drained".
    Map<NodeId, Set<Long>> applied = new ConcurrentHashMap<>();
    Setup setup;
    try {
      setup =
          membershipFile == null
              ? generatedSetup(out, applied, owned)
              : fileSetup(out, applied, owned);
    } catch (ChatException e) {
      out.accept("chat: " + e.getMessage());
      synchronized (owned) {
        closeAll(owned);
      }
      return 2;
    }
    try {
      for (ChatReplica r : setup.replicas()) {
        r.start();
      }
      ChatClient me = setup.client();
      MirClient client =
          MirClient.builder(me.id())
              .nodes(setup.clientAddresses())
              .tls(setup.keys())
              .signer(me.signer())
              .firstRequestNumber(me.firstReqNo())
              .build();
      synchronized (owned) {
        owned.add(client);
      }
      client.start();
      banner(out, setup);
      Resubmitter resubmitter = new Resubmitter(me.signer(), setup.replicas(), applied);
      synchronized (owned) {
        owned.add(resubmitter);
      }
      long sent = 0;
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        if (line.isBlank()) {
          continue;
        }
        ByteString data = ByteString.copyFromUtf8(line);
        if (data.size() > MAX_LINE_BYTES) {
          out.accept("(not sent: longer than " + MAX_LINE_BYTES + " bytes)");
          continue;
        }
        if (me.reqNoFile() != null) {
          // Written before the request leaves, so that a crash cannot make the next run reuse
          // its number (a reused number is a duplicate, and its line would be dropped).
          try {
            writeRequestNumber(me.reqNoFile(), client.nextRequestNumber() + 1);
          } catch (IOException e) {
            out.accept("chat: cannot record the request number: " + e.getMessage());
            return 1;
          }
        }
        long reqNo = client.submit(data);
        resubmitter.submitted(reqNo, data);
        sent++;
        for (ChatReplica r : setup.replicas()) {
          if (r.system().failure().isPresent()) {
            out.accept("replica " + r.id() + " failed: " + r.system().failure().get());
            return 1;
          }
        }
      }
      drain(out, setup.replicas(), applied, sent, client);
      for (ChatReplica r : setup.replicas()) {
        if (r.system().failure().isPresent()) {
          out.accept("replica " + r.id() + " failed: " + r.system().failure().get());
          return 1;
        }
      }
      out.accept("(stopping)");
      return 0;
    } finally {
      synchronized (owned) {
        closeAll(owned);
      }
    }
  }

  private String checkOptions() {
    if (id != null && membershipFile == null) {
      return "--id needs --membership (see ./run-sample.sh keygen)";
    }
    if (keyFile != null && id == null) {
      return "--key needs --id";
    }
    if (checkpointFile != null && id == null) {
      return "--checkpoint needs --id";
    }
    if (nodes < 1 || nodes > 16) {
      return "--nodes must be in 1..16, got " + nodes;
    }
    if (proposeMs < 10 || proposeMs > 60_000) {
      return "--propose-ms must be in 10..60000, got " + proposeMs;
    }
    if (drainTimeoutS < 0) {
      return "--drain-timeout-s must not be negative";
    }
    return null;
  }

  private Trantor.Params params(Membership m) {
    return Trantor.Params.defaults(m).adjustSpeed(Duration.ofMillis(proposeMs));
  }

  /** Records the requests of this run of {@code me} that {@code replica} applies. */
  private static Consumer<Request> tracker(
      NodeId replica, ChatClient me, Map<NodeId, Set<Long>> applied) {
    Set<Long> mine = ConcurrentHashMap.newKeySet();
    applied.put(replica, mine);
    return r -> {
      if (r.getClientId().equals(me.id().value()) && r.getReqNo() >= me.firstReqNo()) {
        mine.add(r.getReqNo());
      }
    };
  }

  private Path checkpointDirOf(NodeId replica) {
    return checkpointDir == null ? null : checkpointDir.resolve(replica.value());
  }

  /**
   * No options: n replicas with fresh keys on free ports of 127.0.0.1, and a client with a fresh
   * key (a new client ID each run) that all of them accept.
   */
  private Setup generatedSetup(
      Consumer<String> out, Map<NodeId, Set<Long>> applied, List<AutoCloseable> owned)
      throws Exception {
    List<NodeId> ids = NodeId.range(nodes);
    SecureRandom random = new SecureRandom();
    ClientId clientId = ClientId.of("user-" + HexFormat.of().toHexDigits((short) random.nextInt()));
    EncodedKeyPair clientKeys = EcdsaCrypto.generateKeyPair(random);
    ChatClient me =
        new ChatClient(
            ClientSigner.of(clientId, clientKeys),
            ClientRegistry.of(Map.of(clientId, clientKeys.publicKey())),
            0,
            null);
    Map<NodeId, EncodedKeyPair> keyPairs = new LinkedHashMap<>();
    Map<NodeId, ByteString> keys = new LinkedHashMap<>();
    for (NodeId n : ids) {
      EncodedKeyPair kp = EcdsaCrypto.generateKeyPair(random);
      keyPairs.put(n, kp);
      keys.put(n, kp.publicKey());
    }
    Map<NodeId, NodeIdentity> identities = new LinkedHashMap<>();
    Map<NodeId, GrpcTransport> transports = new LinkedHashMap<>();
    Map<NodeId, NodeAddress> addresses = new LinkedHashMap<>();
    for (NodeId n : ids) {
      NodeIdentity identity = NodeIdentity.selfSigned(n, keyPairs.get(n));
      identities.put(n, identity);
      GrpcTransport t =
          GrpcTransport.builder(n, NodeAddress.loopback(0))
              .security(Security.mutualTls(identity, keys))
              .build();
      synchronized (owned) {
        owned.add(t::stop);
      }
      t.start(); // binds a free port, so that the membership can name it
      transports.put(n, t);
      addresses.put(n, t.listenAddress());
    }
    Membership membership = Membership.of(addresses);
    Trantor.Params params = params(membership);
    List<ChatReplica> replicas = new ArrayList<>();
    for (NodeId n : ids) {
      EcdsaCrypto crypto = EcdsaCrypto.fromPrivateKey(keyPairs.get(n).privateKey());
      for (Map.Entry<NodeId, ByteString> k : keys.entrySet()) {
        crypto.registerNodeKey(k.getKey(), k.getValue());
      }
      ChatReplica r =
          ChatReplica.create(
              n,
              params,
              me.registry(),
              keys,
              null,
              checkpointDirOf(n),
              out,
              tracker(n, me, applied),
              b ->
                  withMetrics(b, n)
                      .crypto(crypto)
                      .transport(transports.get(n))
                      .requestReceiver(NodeAddress.loopback(0), identities.get(n)));
      synchronized (owned) {
        owned.add(r);
      }
      replicas.add(r);
    }
    // The request receivers bind their free ports when the replicas start; the client needs them.
    for (ChatReplica r : replicas) {
      r.start();
    }
    Map<NodeId, NodeAddress> clients = new LinkedHashMap<>();
    for (ChatReplica r : replicas) {
      clients.put(r.id(), r.system().clientAddress().orElseThrow());
    }
    return new Setup(
        replicas,
        clients,
        keys,
        me,
        nodes
            + " replicas in this process ("
            + String.join(" ", NodeId.strings(ids))
            + "), talking gRPC with mutual TLS on 127.0.0.1 (transport ports "
            + addresses.values().stream().map(a -> Integer.toString(a.port())).toList()
            + "), with ECDSA P-256 keys generated for this run");
  }

  /**
   * --membership: the file's initial replicas, or only --id, accepting the clients of the clients
   * file next to it; this process chats as the client of the first of its replicas.
   */
  private Setup fileSetup(
      Consumer<String> out, Map<NodeId, Set<Long>> applied, List<AutoCloseable> owned)
      throws Exception {
    MembershipFile mf;
    try {
      mf = MembershipFile.load(membershipFile);
    } catch (IOException e) {
      throw new ChatException(e.getMessage());
    }
    List<NodeId> mine = new ArrayList<>();
    if (id == null) {
      mine.addAll(mf.initialMembership().ids());
    } else {
      NodeId self;
      try {
        self = NodeId.of(id);
      } catch (IllegalArgumentException e) {
        throw new ChatException("--id: " + e.getMessage());
      }
      if (mf.entry(self).isEmpty()) {
        throw new ChatException(
            membershipFile + " has no node " + self + " (keygen --spare adds nodes to join later)");
      }
      mine.add(self);
    }
    ChatClient me = fileClient(mf, mine.get(0));
    Trantor.Params params = params(mf.initialMembership());
    StableCheckpoint start = null;
    if (checkpointFile != null) {
      Path key = keyFile != null ? keyFile : mf.defaultPrivateKeyFile(mine.get(0));
      start = loadCheckpoint(checkpointFile, mf.crypto(KeyFiles.readPrivateKey(key)));
    }
    List<ChatReplica> replicas = new ArrayList<>();
    for (NodeId n : mine) {
      Path key = keyFile != null ? keyFile : mf.defaultPrivateKeyFile(n);
      if (!Files.isReadable(key)) {
        throw new ChatException("cannot read the private key of node " + n + ": " + key);
      }
      ChatReplica r;
      try {
        r =
            ChatReplica.create(
                n,
                params,
                me.registry(),
                mf.publicKeys(),
                start,
                checkpointDirOf(n),
                out,
                tracker(n, me, applied),
                b -> withMetrics(b, n).membershipFile(mf, key));
      } catch (IOException e) {
        throw new ChatException(e.getMessage());
      }
      synchronized (owned) {
        owned.add(r);
      }
      replicas.add(r);
    }
    Map<NodeId, NodeAddress> clients = new LinkedHashMap<>(mf.clientAddresses());
    for (NodeId n : mine) {
      clients.put(n, mf.entry(n).orElseThrow().client());
    }
    String what =
        id == null
            ? replicas.size()
                + " replicas of "
                + membershipFile
                + " in this process ("
                + String.join(" ", NodeId.strings(mine))
                + ")"
            : "replica "
                + id
                + " of "
                + membershipFile
                + " (transport "
                + mf.entry(mine.get(0)).orElseThrow().transport()
                + ", clients "
                + mf.entry(mine.get(0)).orElseThrow().client()
                + (start == null ? "" : ", from checkpoint " + checkpointFile)
                + ")";
    return new Setup(
        replicas,
        clients,
        mf.publicKeys(),
        me,
        what + ", gRPC with mutual TLS and ECDSA P-256 keys");
  }

  /**
   * The client of node {@code node}'s terminal ({@link KeygenCommand#clientOf}), with its key from
   * the clients file next to the membership file and its next request number from the file next to
   * its key.
   */
  private static ChatClient fileClient(MembershipFile mf, NodeId node) throws ChatException {
    Path clientsFile = mf.defaultClientsFile();
    ClientsFile cf;
    try {
      cf = ClientsFile.load(clientsFile);
    } catch (IOException e) {
      throw new ChatException(
          "cannot load the clients: "
              + e.getMessage()
              + " (keygen writes the clients file next to the membership file)");
    }
    ClientId clientId = KeygenCommand.clientOf(node);
    if (cf.entry(clientId).isEmpty()) {
      throw new ChatException(
          cf.file()
              + " has no client "
              + clientId
              + ", the client of node "
              + node
              + "'s terminal");
    }
    Path keyFile = cf.defaultPrivateKeyFile(clientId);
    try {
      ClientSigner signer = ClientSigner.of(clientId, cf.keyPair(clientId, keyFile));
      Path reqNoFile = KeygenCommand.requestNumberFile(keyFile);
      return new ChatClient(signer, cf.registry(), readRequestNumber(reqNoFile), reqNoFile);
    } catch (IOException | InvalidKeyException e) {
      throw new ChatException("client " + clientId + ": " + e.getMessage());
    }
  }

  /** The largest request number file accepted, in bytes. */
  private static final int MAX_REQNO_FILE_BYTES = 64;

  /**
   * The next request number recorded in {@code file}, or 0 if there is none yet.
   *
   * @throws ChatException naming the file if it is not one number in 0..2^63-1
   */
  static long readRequestNumber(Path file) throws ChatException {
    String text;
    try {
      if (!Files.exists(file)) {
        return 0;
      }
      if (Files.size(file) > MAX_REQNO_FILE_BYTES) {
        throw new ChatException(file + ": not a request number (too large)");
      }
      text = Files.readString(file, StandardCharsets.US_ASCII).strip();
    } catch (IOException e) {
      throw new ChatException("cannot read " + file + ": " + e);
    }
    try {
      long n = Long.parseLong(text);
      if (n < 0) {
        throw new NumberFormatException("negative");
      }
      return n;
    } catch (NumberFormatException e) {
      throw new ChatException(
          file + ": not a request number: '" + text + "' (delete it only with the client's keys)");
    }
  }

  /** Records {@code next} in {@code file}, durably and atomically (never half a number). */
  static void writeRequestNumber(Path file, long next) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (FileChannel ch =
        FileChannel.open(
            tmp,
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
      ch.write(ByteBuffer.wrap((next + "\n").getBytes(StandardCharsets.US_ASCII)));
      ch.force(true);
    }
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private static void banner(Consumer<String> out, Setup setup) {
    out.accept("Mir-Java chat-demo: Trantor (ISS with PBFT) running " + setup.description() + ".");
    out.accept(
        "Type a message and press Enter: it goes to every replica as a request of client "
            + setup.client().id()
            + ", signed with its key (replicas accept registered clients only); each replica"
            + " prints the chat history as it orders it, prefixed with its ID.");
    out.accept(
        "'Config: add-node <id> <host:port>' / 'Config: remove-node <id>' change the membership."
            + " Quit with Ctrl-D or Ctrl-C.");
  }

  /**
   * Works around requests lost in aborted batches (Mir's simple mempool hands a request out once;
   * if the batch it went into is aborted by a view change, the request is gone, although the client
   * saw it acknowledged): a request that no local replica has applied after a while is injected
   * again, with the same client ID and request number, into the local replicas' mempools. The batch
   * fetcher de-duplicates by (client, request number), so a request is applied once even if both
   * copies are ordered. One daemon thread, ended by {@link #close()}.
   */
  private final class Resubmitter implements AutoCloseable {
    private final ClientSigner signer;
    private final List<ChatReplica> replicas;
    private final Map<NodeId, Set<Long>> applied;
    private final Map<Long, ByteString> pending = new ConcurrentHashMap<>();
    private final java.util.concurrent.ScheduledExecutorService timer;

    Resubmitter(ClientSigner signer, List<ChatReplica> replicas, Map<NodeId, Set<Long>> applied) {
      this.signer = signer;
      this.replicas = replicas;
      this.applied = applied;
      this.timer =
          java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "mir-chat-resubmit");
                t.setDaemon(true);
                return t;
              });
      long periodMs = Math.max(5_000, 10 * proposeMs);
      timer.scheduleWithFixedDelay(this::resubmit, periodMs, periodMs, TimeUnit.MILLISECONDS);
    }

    void submitted(long reqNo, ByteString data) {
      pending.put(reqNo, data);
    }

    private void resubmit() {
      List<Request> again = new ArrayList<>();
      for (Map.Entry<Long, ByteString> e : pending.entrySet()) {
        long reqNo = e.getKey();
        if (applied.values().stream().anyMatch(set -> set.contains(reqNo))) {
          pending.remove(reqNo);
        } else {
          again.add(signer.sign(reqNo, e.getValue()));
        }
      }
      if (again.isEmpty()) {
        return;
      }
      for (ChatReplica r : replicas) {
        try {
          r.system()
              .node()
              .injectEvents(
                  EventList.of(ClientEvents.newRequests(SimpleMempool.DEFAULT_ID, again)));
        } catch (RuntimeException stopped) {
          // the replica is stopping
        }
      }
    }

    @Override
    public void close() {
      timer.shutdownNow();
      try {
        timer.awaitTermination(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Waits until every local replica that is still a member applied all our requests. */
  private void drain(
      Consumer<String> out,
      List<ChatReplica> replicas,
      Map<NodeId, Set<Long>> applied,
      long sent,
      MirClient client)
      throws InterruptedException {
    if (sent == 0) {
      return;
    }
    long end = System.nanoTime() + Duration.ofSeconds(drainTimeoutS).toNanos();
    while (true) {
      boolean done = true;
      for (ChatReplica r : replicas) {
        boolean member = r.app().nextMembership().contains(r.id());
        if (member && applied.get(r.id()).size() < sent && r.system().failure().isEmpty()) {
          done = false;
        }
      }
      if (done) {
        return;
      }
      if (System.nanoTime() - end > 0) {
        StringBuilder acks = new StringBuilder();
        for (long reqNo = client.nextRequestNumber() - sent;
            reqNo < client.nextRequestNumber();
            reqNo++) {
          acks.append(' ').append(client.acknowledgements(reqNo));
        }
        out.accept(
            "(end of input: not every message was ordered within "
                + drainTimeoutS
                + " s; stopping anyway. Replicas that took each message in:"
                + acks
                + ")");
        return;
      }
      Thread.sleep(50);
    }
  }

  /**
   * Loads a checkpoint file and checks it: a stable checkpoint, well-formed, its certificate signed
   * by enough members of its epoch whose keys {@code verifier} knows, with a chat state.
   *
   * @throws ChatException naming the file and the problem
   */
  static StableCheckpoint loadCheckpoint(Path file, Crypto verifier) throws ChatException {
    byte[] bytes;
    try {
      long size = Files.size(file);
      if (size > 256L << 20) {
        throw new ChatException(file + ": " + size + " bytes is too large for a checkpoint");
      }
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new ChatException("cannot read checkpoint " + file + ": " + e);
    }
    StableCheckpoint sc;
    try {
      sc = StableCheckpoint.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new ChatException(file + ": not a checkpoint file (" + e.getMessage() + ")");
    }
    String problem = StableCheckpoints.checkSnapshot(sc.getSnapshot());
    if (problem != null) {
      throw new ChatException(file + ": not a valid checkpoint: " + problem);
    }
    List<NodeId> members;
    try {
      members = StableCheckpoints.nodeIds(StableCheckpoints.memberships(sc).get(0));
      Trantor.membership(StableCheckpoints.memberships(sc).get(0));
    } catch (IllegalArgumentException e) {
      throw new ChatException(file + ": not a valid checkpoint: " + e.getMessage());
    }
    VerificationResult v = StableCheckpoints.verifyCert(sc, verifier, members);
    if (!v.valid()) {
      throw new ChatException(file + ": the checkpoint's certificate is not valid: " + v.error());
    }
    try {
      ChatState.parseFrom(sc.getSnapshot().getAppData());
    } catch (InvalidProtocolBufferException e) {
      throw new ChatException(file + ": not a chat-demo checkpoint");
    }
    return sc;
  }

  /** A problem the user can fix, reported without a stack trace. */
  static final class ChatException extends Exception {
    private static final long serialVersionUID = 1L;

    ChatException(String message) {
      super(message);
    }
  }

  /** Closes in reverse order of acquisition: client, replicas, then bare transports. */
  private static void closeAll(List<AutoCloseable> owned) {
    for (AutoCloseable c : owned.reversed()) {
      try {
        c.close();
      } catch (Exception e) {
        System.err.println("chat: stopping " + c + " failed: " + e);
      }
    }
    owned.clear();
  }
}
