package io.github.mirframework.samples.availabilitydemo;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.github.mirframework.availability.AvailabilityEvents;
import io.github.mirframework.availability.batchdb.FakeBatchDb;
import io.github.mirframework.availability.msc.MultisigCollector;
import io.github.mirframework.availability.pb.Cert;
import io.github.mirframework.availability.pb.CertVerified;
import io.github.mirframework.availability.pb.NewCert;
import io.github.mirframework.availability.pb.ProvideTransactions;
import io.github.mirframework.client.ClientEvents;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.crypto.CryptoEvents;
import io.github.mirframework.crypto.CryptoModule;
import io.github.mirframework.crypto.HasherModule;
import io.github.mirframework.crypto.PseudoCrypto;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.pb.Init;
import io.github.mirframework.event.pb.Origin;
import io.github.mirframework.mempool.MempoolEvents;
import io.github.mirframework.mempool.SimpleMempool;
import io.github.mirframework.mempool.pb.TransactionIDsResponse;
import io.github.mirframework.mempool.pb.TransactionsResponse;
import io.github.mirframework.module.ActiveModule;
import io.github.mirframework.module.Module;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.node.Node;
import io.github.mirframework.samples.TransportChoice;
import io.github.mirframework.testing.TransportProvider;
import io.github.mirframework.timer.TimerModule;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.LongFunction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Mir's availability-layer demo: 4 nodes run the mempool, a batch database and the multisig
 * collector. The user creates a batch of transactions on one node, gets the availability
 * certificate (f+1 signatures of nodes that stored the batch), and reads the batch back on another
 * node from that certificate alone.
 */
@Command(
    name = "availability",
    mixinStandardHelpOptions = true,
    description = {
      "4 nodes run Mir's availability layer (mempool, batch DB, multisig collector).",
      "Commands: 'batch [NODE]' then one transaction per line and 'send!' (prints the"
          + " certificate); 'read CERT|last [NODE]' (verifies the certificate, prints the"
          + " transactions); 'exit'."
    })
public final class AvailabilityDemoCommand implements Callable<Integer> {
  static final List<NodeId> NODES = NodeId.range(4);
  static final ModuleId NET = ModuleId.of("net");
  static final ModuleId CONTROL = ModuleId.of("control");
  private static final ByteString UID = ByteString.copyFromUtf8("availability-demo");

  /** The most transactions the mempool puts in one batch (Mir's default). */
  static final int MAX_TXS_IN_BATCH = SimpleMempool.Params.defaults().maxTransactionsInBatch();

  /** Pause between two checks whether a mempool holds new transactions. */
  private static final long HELD_CHECK_PAUSE_MS = 2;

  /** How often a wait for an answer checks whether a node has failed. */
  private static final long FAILURE_CHECK_NS = TimeUnit.MILLISECONDS.toNanos(200);

  @Option(
      names = "--transport",
      defaultValue = "GRPC",
      description =
          "GRPC (mutual TLS on 127.0.0.1), GRPC_PLAINTEXT or INPROCESS (default: ${DEFAULT-VALUE}).")
  TransportChoice transport = TransportChoice.GRPC;

  @Option(
      names = "--timeout-s",
      defaultValue = "30",
      description = "Seconds to wait for a certificate or a batch (default: ${DEFAULT-VALUE}).")
  long timeoutS = 30;

  /** Receives the availability layer's answers and completes the matching request. */
  static final class Control implements PassiveModule {
    final Map<Long, CompletableFuture<Event>> pending = new ConcurrentHashMap<>();

    @Override
    public EventList applyEvents(EventList events) {
      for (Event e : events) {
        long tag =
            switch (e.payload()) {
              case Init i -> -1;
              case NewCert c -> c.getOrigin().getContextStoreItem();
              case CertVerified v -> v.getOrigin().getContextStoreItem();
              case ProvideTransactions p -> p.getOrigin().getContextStoreItem();
              case TransactionIDsResponse r -> r.getOrigin().getContextStoreItem();
              case TransactionsResponse r -> r.getOrigin().getContextStoreItem();
              default -> throw new IllegalArgumentException("unexpected " + e.typeName());
            };
        CompletableFuture<Event> f = pending.remove(tag);
        if (f != null) {
          f.complete(e);
        }
      }
      return EventList.empty();
    }
  }

  @Override
  public Integer call() throws Exception {
    try (TransportProvider provider = transport.open(NODES)) {
      return run(System.in, System.out, provider::transport);
    }
  }

  private final AtomicLong nextTag = new AtomicLong();
  private final List<Node> nodes = new ArrayList<>();
  private final List<Control> controls = new ArrayList<>();
  private long nextReqNo;

  /** Runs the demo reading commands from {@code in}; returns the exit status. */
  int run(InputStream in, PrintStream out, Function<NodeId, ActiveModule> transports)
      throws Exception {
    if (timeoutS <= 0) {
      out.println("--timeout-s must be positive");
      return 2;
    }
    MultisigCollector.Params params = MultisigCollector.Params.withMaxFaults(UID, NODES);
    for (NodeId id : NODES) {
      Control control = new Control();
      Map<ModuleId, Module> m = new LinkedHashMap<>();
      m.put(NET, transports.apply(id));
      // The multisig collector asks the timer to wake it up to retransmit requests that are not
      // answered yet (signatures, batches); without a timer the first request fails the node.
      m.put(MultisigCollector.DEFAULT_TIMER, new TimerModule());
      m.put(CryptoModule.DEFAULT_ID, new CryptoModule(PseudoCrypto.create(NODES, id)));
      m.put(HasherModule.DEFAULT_ID, new HasherModule());
      m.put(
          SimpleMempool.DEFAULT_ID,
          new SimpleMempool(SimpleMempool.Config.defaults(), SimpleMempool.Params.defaults()));
      m.put(FakeBatchDb.DEFAULT_ID, new FakeBatchDb());
      m.put(
          MultisigCollector.DEFAULT_ID,
          new MultisigCollector(MultisigCollector.Config.defaults(), params, id));
      m.put(CONTROL, control);
      controls.add(control);
      nodes.add(Node.builder(id).modules(m).build());
    }
    try {
      nodes.forEach(Node::start);
      return console(new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)), out);
    } finally {
      nodes.forEach(Node::stop);
    }
  }

  private int console(BufferedReader in, PrintStream out) throws Exception {
    out.println(
        "Nodes 0-3 are up. Commands: 'batch [NODE]', then transactions, then 'send!';"
            + " 'read CERT|last [NODE]'; 'exit'.");
    Cert last = null;
    String line;
    while ((line = in.readLine()) != null) {
      String[] words = line.trim().split("\\s+");
      switch (words[0]) {
        case "" -> {}
        case "exit" -> {
          return 0;
        }
        case "batch" -> {
          Integer node = nodeArg(words, 1, 0, out);
          if (node == null) {
            continue;
          }
          List<String> txs = new ArrayList<>();
          out.println("Type one transaction per line, then 'send!':");
          while ((line = in.readLine()) != null && !line.trim().equals("send!")) {
            txs.add(line);
          }
          if (line == null) {
            out.println("input ended before 'send!'");
            return 2;
          }
          if (txs.size() > MAX_TXS_IN_BATCH) {
            out.println(
                "a batch holds at most "
                    + MAX_TXS_IN_BATCH
                    + " transactions (the mempool's limit); you typed "
                    + txs.size()
                    + ": no batch created");
            continue;
          }
          Cert cert = createBatch(node, txs, out);
          if (cert == null) {
            return 1;
          }
          last = cert;
        }
        case "read" -> {
          if (words.length < 2) {
            out.println("usage: read CERT|last [NODE]");
            continue;
          }
          Integer node = nodeArg(words, 2, 3, out);
          if (node == null) {
            continue;
          }
          Cert cert;
          if (words[1].equals("last")) {
            if (last == null) {
              out.println("no batch created yet");
              continue;
            }
            cert = last;
          } else {
            try {
              cert = Cert.parseFrom(Base64.getDecoder().decode(words[1]));
            } catch (IllegalArgumentException | InvalidProtocolBufferException e) {
              out.println("not a certificate (base64 of its protobuf bytes): " + e.getMessage());
              continue;
            }
          }
          if (!readBatch(node, cert, out)) {
            return 1;
          }
        }
        default -> out.println("unknown command '" + words[0] + "'");
      }
    }
    return 0;
  }

  private static Integer nodeArg(String[] words, int index, int dflt, PrintStream out) {
    if (words.length <= index) {
      return dflt;
    }
    try {
      int n = Integer.parseInt(words[index]);
      if (n >= 0 && n < NODES.size()) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    out.println("no node '" + words[index] + "' (0 to " + (NODES.size() - 1) + ")");
    return null;
  }

  /** Submits the transactions to a node's mempool and asks for a certificate of a batch. */
  private Cert createBatch(int node, List<String> txs, PrintStream out) throws Exception {
    List<Request> requests = new ArrayList<>();
    for (String tx : txs) {
      requests.add(
          Request.newBuilder()
              .setClientId("demo")
              .setReqNo(nextReqNo++)
              .setData(ByteString.copyFromUtf8(tx))
              .build());
    }
    // The mempool takes new transactions only once it has their IDs from the hasher, and a
    // certificate request before that would certify a batch without them. Its answer to our own
    // request for the IDs can come first (it is hashed in parallel), so we then look the
    // transactions up until the mempool holds them all.
    TransactionIDsResponse ids =
        ask(
            node,
            tag ->
                EventList.of(
                    ClientEvents.newRequests(SimpleMempool.DEFAULT_ID, requests),
                    MempoolEvents.requestTransactionIds(
                        SimpleMempool.DEFAULT_ID, requests, origin(tag))),
            "node " + node + "'s mempool",
            out);
    if (ids == null || !awaitHeld(node, ids.getTxIdsList(), out)) {
      return null;
    }
    NewCert nc =
        ask(
            node,
            tag ->
                EventList.of(
                    AvailabilityEvents.requestCert(MultisigCollector.DEFAULT_ID, origin(tag))),
            "a certificate from node " + node,
            out);
    if (nc == null) {
      return null;
    }
    Cert cert = nc.getCert();
    out.println(
        "node "
            + node
            + " certified a batch, signed by "
            + cert.getMsc().getSignersList()
            + ". Certificate:");
    out.println(Base64.getEncoder().encodeToString(cert.toByteArray()));
    return cert;
  }

  /**
   * Asks a node's mempool whether it holds the transactions with IDs {@code txIds} until it holds
   * them all; false (reported) if it does not within the timeout.
   */
  private boolean awaitHeld(int node, List<ByteString> txIds, PrintStream out) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutS);
    while (true) {
      TransactionsResponse r =
          ask(
              node,
              tag ->
                  EventList.of(
                      MempoolEvents.requestTransactions(
                          SimpleMempool.DEFAULT_ID, txIds, origin(tag))),
              "node " + node + "'s mempool",
              out);
      if (r == null) {
        return false;
      }
      long missing = r.getPresentList().stream().filter(p -> !p).count();
      if (missing == 0) {
        return true;
      }
      if (System.nanoTime() > deadline) {
        out.println(
            "node "
                + node
                + "'s mempool did not take "
                + missing
                + " of the transactions within "
                + timeoutS
                + " s");
        return false;
      }
      // Hashing a few transactions takes microseconds; a short pause keeps this loop cheap.
      Thread.sleep(HELD_CHECK_PAUSE_MS);
    }
  }

  /**
   * Verifies a certificate on a node and reads its batch there (fetched from a signer if need be).
   */
  private boolean readBatch(int node, Cert cert, PrintStream out) throws Exception {
    CertVerified v =
        ask(
            node,
            tag ->
                EventList.of(
                    AvailabilityEvents.verifyCert(MultisigCollector.DEFAULT_ID, cert, origin(tag))),
            "node " + node + " to verify the certificate",
            out);
    if (v == null) {
      return false;
    }
    if (!v.getValid()) {
      out.println("node " + node + " rejects the certificate: " + v.getErr());
      return true;
    }
    ProvideTransactions p =
        ask(
            node,
            tag ->
                EventList.of(
                    AvailabilityEvents.requestTransactions(
                        MultisigCollector.DEFAULT_ID, cert, origin(tag))),
            "the batch on node " + node,
            out);
    if (p == null) {
      return false;
    }
    out.println("node " + node + " read " + p.getTxsCount() + " transactions:");
    for (Request r : p.getTxsList()) {
      out.println("  " + r.getData().toStringUtf8());
    }
    return true;
  }

  /**
   * Injects the events {@code request} builds for a fresh tag into a node and waits for the answer
   * with that tag; null (reported) if none comes in time.
   */
  private <T> T ask(int node, LongFunction<EventList> request, String what, PrintStream out)
      throws Exception {
    long tag = nextTag.getAndIncrement();
    CompletableFuture<Event> answer = new CompletableFuture<>();
    controls.get(node).pending.put(tag, answer);
    nodes.get(node).injectEvents(request.apply(tag));
    return await(answer, what, out);
  }

  private static Origin origin(long tag) {
    return CryptoEvents.contextStoreOrigin(CONTROL, tag);
  }

  /**
   * Waits for the answer; gives up (null, reported) after the timeout or as soon as a node has
   * stopped with an error, since a failed node never answers.
   */
  @SuppressWarnings("unchecked")
  private <T> T await(CompletableFuture<Event> f, String what, PrintStream out) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutS);
    while (true) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        out.println("no answer within " + timeoutS + " s waiting for " + what);
        reportFailures(out);
        return null;
      }
      try {
        return (T) f.get(Math.min(left, FAILURE_CHECK_NS), TimeUnit.NANOSECONDS).payload();
      } catch (TimeoutException e) {
        if (reportFailures(out)) {
          out.println("gave up waiting for " + what);
          return null;
        }
      }
    }
  }

  /** Prints the error of every node that failed; whether there was one. */
  private boolean reportFailures(PrintStream out) {
    boolean any = false;
    for (Node n : nodes) {
      Optional<Throwable> t = n.failure();
      if (t.isPresent()) {
        out.println("node " + n.id() + " failed: " + t.get());
        any = true;
      }
    }
    return any;
  }
}
