package io.github.mirframework.iss.pbft;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.pb.WalAppend;
import io.github.mirframework.iss.pb.SbEvent;
import io.github.mirframework.iss.pbft.pb.PbftEvent;
import io.github.mirframework.iss.pbft.pb.PbftMessage;
import io.github.mirframework.iss.pbft.pb.Prepare;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.sim.SimWal;
import io.github.mirframework.wal.WriteAheadLog;
import java.util.HashSet;
import java.util.Set;

/**
 * A simulated WAL for tests that crashes its node right after a chosen append: it counts the
 * appends of a node over all its incarnations and, at append number {@link Counter#crashAt}, makes
 * the rest of that batch not durable (as if the process died in the middle of writing it) and calls
 * {@link Counter#onCrash}, which should schedule the crash of the node for the current virtual
 * time, i.e. before the node releases the follow-ups (the messages) of that batch.
 */
public final class CrashingWal implements PassiveModule, WriteAheadLog {

  /** The append counter of one node, shared by its incarnations. */
  public static final class Counter {
    /** Appends made durable so far. */
    public long appends;

    /** The append after which to crash (1-based); 0 for none. */
    public long crashAt;

    /** Called once when append {@link #crashAt} is durable. */
    public Runnable onCrash = () -> {};

    /**
     * The orderer messages made durable so far, in the keys of {@link SentVotes#key} (a NewView
     * entry covers its Preprepares too).
     */
    public final Set<String> persisted = new HashSet<>();

    private boolean dead;
  }

  private final SimWal inner;
  private final Counter counter;

  /** Wraps {@code inner} (the node's {@code env.wal()}); a new incarnation writes again. */
  public CrashingWal(SimWal inner, Counter counter) {
    this.inner = inner;
    this.counter = counter;
    counter.dead = false;
  }

  @Override
  public boolean receivesMessages() {
    return false;
  }

  @Override
  public EventList applyEvents(EventList events) throws Exception {
    EventList durable = EventList.empty();
    for (Event e : events) {
      if (counter.dead) {
        break;
      }
      durable.add(e);
      if (e.payload() instanceof WalAppend a) {
        counter.appends++;
        record(a.getEvent().getPayload());
        if (counter.appends == counter.crashAt) {
          counter.dead = true;
          counter.onCrash.run();
        }
      }
    }
    return inner.applyEvents(durable);
  }

  private void record(Any payload) throws InvalidProtocolBufferException {
    if (payload.is(SbEvent.class)) {
      SbEvent sb = payload.unpack(SbEvent.class);
      record(sb.getEpoch() + "/" + sb.getInstance(), sb.getEvent());
    } else if (payload.is(PbftEvent.class)) {
      record("-", payload.unpack(PbftEvent.class));
    }
  }

  private void record(String instance, PbftEvent e) {
    PbftMessage m =
        switch (e.getTypeCase()) {
          case PERSIST_PREPREPARE ->
              PbftMessage.newBuilder().setPreprepare(e.getPersistPreprepare()).build();
          case PERSIST_PREPARE ->
              PbftMessage.newBuilder()
                  .setPrepare(
                      Prepare.newBuilder()
                          .setSn(e.getPersistPrepare().getPreprepare().getSn())
                          .setView(e.getPersistPrepare().getPreprepare().getView())
                          .setDigest(e.getPersistPrepare().getDigest()))
                  .build();
          case PERSIST_COMMIT -> PbftMessage.newBuilder().setCommit(e.getPersistCommit()).build();
          case PERSIST_SIGNED_VIEW_CHANGE ->
              PbftMessage.newBuilder().setSignedViewChange(e.getPersistSignedViewChange()).build();
          case PERSIST_NEW_VIEW ->
              PbftMessage.newBuilder().setNewView(e.getPersistNewView()).build();
          default -> null;
        };
    if (m != null) {
      counter.persisted.addAll(SentVotes.keys(instance, m));
    }
  }

  @Override
  public EventList loadAll() throws java.io.IOException {
    return inner.loadAll();
  }

  /** Entries currently stored. */
  public int size() {
    return inner.size();
  }
}
