package io.github.mirframework.trantor;

import com.google.protobuf.ByteString;
import io.github.mirframework.batchfetcher.pb.NewOrderedBatch;
import io.github.mirframework.checkpoint.CheckpointEvents;
import io.github.mirframework.checkpoint.pb.AppSnapshotRequest;
import io.github.mirframework.checkpoint.pb.StableCheckpoint;
import io.github.mirframework.client.pb.ClientReplies;
import io.github.mirframework.client.pb.Reply;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.pb.Init;
import io.github.mirframework.iss.Iss;
import io.github.mirframework.iss.IssEvents;
import io.github.mirframework.iss.pb.AppRestoreState;
import io.github.mirframework.iss.pb.NewEpoch;
import io.github.mirframework.metrics.OrderingMetrics;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.net.Membership;
import io.github.mirframework.net.Transport;
import io.github.mirframework.types.EpochNr;
import io.github.mirframework.types.ModuleId;
import java.util.List;
import java.util.Objects;

/**
 * Connects an {@link AppLogic} to the system (Mir's Trantor app module, {@code "app"}): ordered
 * batches are applied, snapshot requests answered, states restored, and at every new epoch the
 * application's membership goes to ISS (and the transport is told to connect to it).
 *
 * <p>With a reply sink (e.g. a {@link io.github.mirframework.client.ReplyModule} registered as
 * {@code "replies"}), the result of every applied request ({@link AppLogic#applyTxsWithResults})
 * goes there as a {@code ClientReplies} event, from which the node's request receiver sends it to
 * the client. Only this module, inside the node, emits them.
 */
public final class AppModule implements PassiveModule {
  private final AppLogic logic;
  private final ModuleId iss;
  private final Transport transport;
  private final ModuleId replies;
  private final OrderingMetrics metrics;

  /**
   * An app module without replies to clients.
   *
   * @param logic the application
   * @param iss the ISS module that receives {@code NewConfig}
   * @param transport told to connect to each new membership; may be {@code null} (e.g. in a
   *     simulation)
   */
  public AppModule(AppLogic logic, ModuleId iss, Transport transport) {
    this(logic, iss, transport, null);
  }

  /**
   * @param logic the application
   * @param iss the ISS module that receives {@code NewConfig}
   * @param transport told to connect to each new membership; may be {@code null} (e.g. in a
   *     simulation)
   * @param replies the module that receives the results of applied requests ({@code
   *     ClientReplies}); {@code null} for none
   */
  public AppModule(AppLogic logic, ModuleId iss, Transport transport, ModuleId replies) {
    this(logic, iss, transport, replies, null);
  }

  /**
   * Like {@link #AppModule(AppLogic, ModuleId, Transport, ModuleId)}, reporting the number of
   * requests of every applied batch to {@code metrics} ({@link OrderingMetrics#requestsApplied}).
   *
   * @param metrics where to report; {@code null} for nowhere
   */
  public AppModule(
      AppLogic logic,
      ModuleId iss,
      Transport transport,
      ModuleId replies,
      OrderingMetrics metrics) {
    this.logic = Objects.requireNonNull(logic, "logic");
    this.iss = Objects.requireNonNull(iss, "iss");
    this.transport = transport;
    this.replies = replies;
    this.metrics = metrics;
  }

  /** An app module talking to ISS at {@link Iss#DEFAULT_ID}. */
  public AppModule(AppLogic logic, Transport transport) {
    this(logic, Iss.DEFAULT_ID, transport);
  }

  @Override
  public EventList applyEvents(EventList events) throws Exception {
    EventList out = EventList.empty();
    for (Event e : events) {
      switch (e.payload()) {
        case Init i -> {}
        case NewOrderedBatch b -> apply(b, out);
        case AppSnapshotRequest r ->
            out.add(CheckpointEvents.appSnapshot(ModuleId.of(r.getReplyTo()), logic.snapshot()));
        case AppRestoreState r -> logic.restoreState(r.getCheckpoint());
        case NewEpoch ne -> {
          EpochNr epoch = EpochNr.of(ne.getEpochNr());
          Membership next = logic.newEpoch(epoch);
          if (transport != null) {
            transport.connect(next);
          }
          out.add(IssEvents.newConfig(iss, epoch, Iss.membershipProto(next)));
        }
        case StableCheckpoint sc -> logic.checkpoint(sc);
        default ->
            throw new IllegalArgumentException(
                "the app module cannot handle events of type " + e.typeName());
      }
    }
    return out;
  }

  private void apply(NewOrderedBatch b, EventList out) throws Exception {
    if (metrics != null) {
      metrics.requestsApplied(b.getTxsCount());
    }
    if (replies == null) {
      logic.applyTxs(b.getTxsList());
      return;
    }
    List<Request> txs = b.getTxsList();
    List<ByteString> results = logic.applyTxsWithResults(txs);
    if (results == null || results.size() != txs.size()) {
      throw new IllegalStateException(
          "the application returned "
              + (results == null ? "no" : results.size())
              + " results for "
              + txs.size()
              + " transactions");
    }
    if (txs.isEmpty()) {
      return;
    }
    ClientReplies.Builder r = ClientReplies.newBuilder();
    for (int i = 0; i < txs.size(); i++) {
      Request tx = txs.get(i);
      r.addReplies(
          Reply.newBuilder()
              .setClientId(tx.getClientId())
              .setReqNo(tx.getReqNo())
              .setResult(Objects.requireNonNull(results.get(i), "result of a transaction")));
    }
    out.add(Event.of(replies, r.build()));
  }

  /** Takes no network input. */
  @Override
  public boolean receivesMessages() {
    return false;
  }
}
