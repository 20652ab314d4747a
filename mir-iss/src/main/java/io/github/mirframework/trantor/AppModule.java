package io.github.mirframework.trantor;

import io.github.mirframework.batchfetcher.pb.NewOrderedBatch;
import io.github.mirframework.checkpoint.CheckpointEvents;
import io.github.mirframework.checkpoint.pb.AppSnapshotRequest;
import io.github.mirframework.checkpoint.pb.StableCheckpoint;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.pb.Init;
import io.github.mirframework.iss.Iss;
import io.github.mirframework.iss.IssEvents;
import io.github.mirframework.iss.pb.AppRestoreState;
import io.github.mirframework.iss.pb.NewEpoch;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.net.Membership;
import io.github.mirframework.net.Transport;
import io.github.mirframework.types.EpochNr;
import io.github.mirframework.types.ModuleId;
import java.util.Objects;

/**
 * Connects an {@link AppLogic} to the system (Mir's Trantor app module, {@code "app"}): ordered
 * batches are applied, snapshot requests answered, states restored, and at every new epoch the
 * application's membership goes to ISS (and the transport is told to connect to it).
 */
public final class AppModule implements PassiveModule {
  private final AppLogic logic;
  private final ModuleId iss;
  private final Transport transport;

  /**
   * @param logic the application
   * @param iss the ISS module that receives {@code NewConfig}
   * @param transport told to connect to each new membership; may be {@code null} (e.g. in a
   *     simulation)
   */
  public AppModule(AppLogic logic, ModuleId iss, Transport transport) {
    this.logic = Objects.requireNonNull(logic, "logic");
    this.iss = Objects.requireNonNull(iss, "iss");
    this.transport = transport;
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
        case NewOrderedBatch b -> logic.applyTxs(b.getTxsList());
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

  /** Takes no network input. */
  @Override
  public boolean receivesMessages() {
    return false;
  }
}
