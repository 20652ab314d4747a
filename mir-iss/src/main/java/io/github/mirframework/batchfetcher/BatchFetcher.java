package io.github.mirframework.batchfetcher;

import com.google.protobuf.Message;
import io.github.mirframework.availability.AvailabilityDsl;
import io.github.mirframework.availability.msc.MultisigCollector;
import io.github.mirframework.availability.pb.Cert;
import io.github.mirframework.batchfetcher.pb.NewOrderedBatch;
import io.github.mirframework.checkpoint.CheckpointEvents;
import io.github.mirframework.checkpoint.pb.AppSnapshotRequest;
import io.github.mirframework.client.ClientRegistry;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.clientprogress.ClientProgress;
import io.github.mirframework.dsl.DslModule;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.iss.pb.AppRestoreState;
import io.github.mirframework.iss.pb.DeliverCert;
import io.github.mirframework.iss.pb.NewEpoch;
import io.github.mirframework.mempool.MempoolEvents;
import io.github.mirframework.mempool.SimpleMempool;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.types.ClientId;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import io.github.mirframework.types.ReqNo;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mir's batch fetcher, ISS's "application": it receives ordered certificates ({@code DeliverCert})
 * and epoch, snapshot and checkpoint events from ISS, and passes them on to the real application
 * strictly in the order it received them.
 *
 * <ul>
 *   <li>{@code DeliverCert}: an empty certificate (an aborted sequence number) becomes an empty
 *       {@link NewOrderedBatch}; otherwise the transactions are requested from {@code
 *       availability/<epoch>} and become a {@code NewOrderedBatch} without the transactions already
 *       delivered (same client and request number).
 *   <li>{@code NewEpoch}: remembered, and passed on; in its turn the client progress is
 *       garbage-collected and sent to the mempool ({@code mempool.NewEpoch}), which drops the
 *       delivered requests and offers the others again (Mir's later versions).
 *   <li>{@code AppSnapshotRequest}: when its turn comes, the client progress is garbage-collected
 *       and sent to {@code checkpoint/<epoch>}, and the request is passed on.
 *   <li>{@code AppRestoreState}: the client progress is loaded from the checkpoint, everything
 *       still waiting is discarded, the mempool is told the checkpoint's epoch and progress, and
 *       the event is passed on at once.
 *   <li>Any other event (e.g. a {@code StableCheckpoint}) is passed on in its turn.
 * </ul>
 *
 * <p>Unlike Mir, which filtered each batch when its transactions arrived, the filtering happens
 * when the batch's turn comes: transactions arrive from the availability layer in any order, and
 * filtering in arrival order could make two nodes keep a duplicated request in different batches. A
 * transaction whose client ID or request number is not valid is left out (the same way on every
 * node).
 */
public final class BatchFetcher implements PassiveModule {
  private static final Logger LOG = LoggerFactory.getLogger(BatchFetcher.class);

  /** The module ID Mir uses. */
  public static final ModuleId DEFAULT_ID = ModuleId.of("batchfetcher");

  /**
   * IDs of the modules the batch fetcher talks to.
   *
   * @param self this module (default {@code "batchfetcher"})
   * @param availability the availability layer; requests go to its per-epoch submodule (default
   *     {@code "availability"})
   * @param checkpoint the checkpoint factory; client progress goes to its per-epoch submodule
   *     (default {@code "checkpoint"})
   * @param destination the application (default {@code "app"})
   * @param mempool the mempool, told the client progress at the start of every epoch so that it
   *     drops delivered requests and offers the others again (default {@code "mempool"}); {@code
   *     null} for none
   */
  public record Config(
      ModuleId self,
      ModuleId availability,
      ModuleId checkpoint,
      ModuleId destination,
      ModuleId mempool) {
    /** Checks that no ID is missing. */
    public Config {
      Objects.requireNonNull(self, "self");
      Objects.requireNonNull(availability, "availability");
      Objects.requireNonNull(checkpoint, "checkpoint");
      Objects.requireNonNull(destination, "destination");
    }

    /** Mir's IDs, without a mempool to tell about epochs. */
    public Config(ModuleId self, ModuleId availability, ModuleId checkpoint, ModuleId destination) {
      this(self, availability, checkpoint, destination, null);
    }

    /** Mir's IDs, with the mempool {@code "mempool"} (Mir's later versions). */
    public static Config defaults() {
      return new Config(
          DEFAULT_ID,
          MultisigCollector.DEFAULT_ID,
          ModuleId.of("checkpoint"),
          ModuleId.of("app"),
          SimpleMempool.DEFAULT_ID);
    }
  }

  /** One item of the output queue; filled when its output is known. */
  private static final class Slot {
    private Supplier<List<Event>> output;
    private boolean discarded;
  }

  private final Config config;
  private final NodeId self;
  private final ClientRegistry clients;
  private final DslModule dsl;
  private final ArrayDeque<Slot> queue = new ArrayDeque<>();
  private ClientProgress progress = new ClientProgress();
  private long epoch;
  private long droppedDuplicates;
  private long droppedInvalid;
  private long droppedUnauthentic;

  /**
   * Creates the batch fetcher of node {@code self} (used in log lines) that does not authenticate
   * clients: any client ID with any request number below the window is delivered.
   */
  public BatchFetcher(Config config, NodeId self) {
    this(config, self, null);
  }

  /**
   * Creates the batch fetcher of node {@code self} that delivers only authentic requests of the
   * clients in {@code clients} (see {@link ClientRegistry}); others are left out before they count
   * as delivered, the same way on every node, so nobody can occupy another client's request numbers
   * and unknown client IDs never enter the client progress. {@code null}: no checks.
   */
  public BatchFetcher(Config config, NodeId self, ClientRegistry clients) {
    this.config = Objects.requireNonNull(config, "config");
    this.self = Objects.requireNonNull(self, "self");
    this.clients = clients;
    dsl = new DslModule(config.self());

    dsl.uponInit(() -> {});

    // upon DeliverCert(sn, cert): queue a slot; an empty cert fills it at once, otherwise fetch
    dsl.upon(DeliverCert.class, this::onDeliverCert);

    // upon ProvideTransactions(txs) for slot s: fill s with the batch, filtered in its turn
    AvailabilityDsl.uponProvideTransactions(
        dsl,
        Slot.class,
        (txs, slot) -> {
          List<Request> copy = List.copyOf(txs);
          slot.output = () -> List.of(Event.of(config.destination(), filter(copy)));
          flush();
        });

    // upon NewEpoch(e): epoch := e; pass it on in its turn
    dsl.upon(
        NewEpoch.class,
        ne -> {
          epoch = ne.getEpochNr();
          Slot slot = new Slot();
          slot.output =
              () -> {
                List<Event> out = new ArrayList<>(2);
                out.add(Event.of(config.destination(), ne));
                if (config.mempool() != null) {
                  progress.garbageCollect();
                  out.add(
                      MempoolEvents.newEpoch(
                          config.mempool(), ne.getEpochNr(), progress.toProto()));
                }
                return out;
              };
          queue.add(slot);
          flush();
        });

    // upon AppSnapshotRequest: in its turn, send the collected client progress to the checkpoint
    dsl.upon(AppSnapshotRequest.class, this::onSnapshotRequest);

    // upon AppRestoreState(checkpoint): load the client progress, drop the queue, pass it on now
    dsl.upon(AppRestoreState.class, this::onRestoreState);

    // upon any other event: pass it on in its turn
    dsl.uponOtherEvent((event, payload) -> enqueueForward(payload));
  }

  private void onDeliverCert(DeliverCert d) {
    Slot slot = new Slot();
    queue.add(slot);
    Cert cert = d.getCert();
    if (cert.getTypeCase() == Cert.TypeCase.TYPE_NOT_SET) {
      slot.output =
          () -> List.of(Event.of(config.destination(), NewOrderedBatch.getDefaultInstance()));
      flush();
      return;
    }
    AvailabilityDsl.requestTransactions(dsl, perEpoch(config.availability()), cert, slot);
  }

  private void onSnapshotRequest(AppSnapshotRequest r) {
    long requestEpoch = epoch;
    Slot slot = new Slot();
    slot.output =
        () -> {
          progress.garbageCollect();
          return List.of(
              CheckpointEvents.clientProgress(
                  config.checkpoint().then(Long.toString(requestEpoch)), progress.toProto()),
              Event.of(config.destination(), r));
        };
    queue.add(slot);
    flush();
  }

  private void onRestoreState(AppRestoreState r) {
    ClientProgress restored;
    try {
      restored =
          ClientProgress.fromProto(
              r.getCheckpoint().getSnapshot().getEpochData().getClientProgress());
    } catch (IllegalArgumentException e) {
      // ISS hands over only checkpoints with a verified certificate: this is not a network input.
      throw new IllegalStateException(
          "cannot restore the client progress of checkpoint at sn "
              + r.getCheckpoint().getSn()
              + ": "
              + e.getMessage(),
          e);
    }
    progress = restored;
    epoch = r.getCheckpoint().getSnapshot().getEpochData().getEpochConfig().getEpochNr();
    for (Slot s : queue) {
      s.discarded = true;
    }
    queue.clear();
    if (config.mempool() != null) {
      dsl.emit(MempoolEvents.newEpoch(config.mempool(), epoch, progress.toProto()));
    }
    dsl.emit(Event.of(config.destination(), r));
  }

  private void enqueueForward(Message payload) {
    Slot slot = new Slot();
    slot.output = () -> List.of(Event.of(config.destination(), payload));
    queue.add(slot);
    flush();
  }

  private ModuleId perEpoch(ModuleId factory) {
    return factory.then(Long.toString(epoch));
  }

  /** Emits the outputs of the filled slots at the head of the queue, in order. */
  private void flush() {
    while (!queue.isEmpty() && queue.peekFirst().output != null) {
      Slot s = queue.pollFirst();
      if (!s.discarded) {
        s.output.get().forEach(dsl::emit);
      }
    }
  }

  /** The transactions of a batch not delivered before, in order. */
  private NewOrderedBatch filter(List<Request> txs) {
    NewOrderedBatch.Builder out = NewOrderedBatch.newBuilder();
    for (Request r : txs) {
      ClientId client;
      ReqNo reqNo;
      try {
        client = ClientId.of(r.getClientId());
        reqNo = ReqNo.of(r.getReqNo());
      } catch (IllegalArgumentException e) {
        droppedInvalid++;
        LOG.warn("{}: leaving out an ordered transaction: {}", self, e.getMessage());
        continue;
      }
      if (clients != null) {
        String problem = clients.check(r);
        if (problem != null) {
          droppedUnauthentic++;
          LOG.debug("{}: leaving out an ordered transaction: {}", self, problem);
          continue;
        }
      }
      if (progress.add(client, reqNo)) {
        out.addTxs(r);
      } else {
        droppedDuplicates++;
      }
    }
    return out.build();
  }

  /** Transactions left out because they were delivered before (or fell outside the window). */
  public long droppedDuplicates() {
    return droppedDuplicates;
  }

  /** Transactions left out because their client ID or request number was not valid. */
  public long droppedInvalid() {
    return droppedInvalid;
  }

  /** Transactions left out because they were not authentic requests of a registered client. */
  public long droppedUnauthentic() {
    return droppedUnauthentic;
  }

  /** Items waiting for their turn (for tests and monitoring). */
  public int queued() {
    return queue.size();
  }

  /** Takes no network input. */
  @Override
  public boolean receivesMessages() {
    return false;
  }

  @Override
  public EventList applyEvents(EventList events) throws Exception {
    return dsl.applyEvents(events);
  }
}
