package io.github.mirframework.sim;

import io.github.mirframework.event.DecodeResult;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventCodec;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.pb.EventRecord;
import io.github.mirframework.event.pb.Init;
import io.github.mirframework.event.pb.WalAppend;
import io.github.mirframework.event.pb.WalTruncate;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.wal.WriteAheadLog;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The simulated write-ahead log of one node: a passive module handling {@code WalAppend}/{@code
 * WalTruncate} and the {@link WriteAheadLog} the simulation replays when the node restarts. Its
 * contents live in the simulation, so they survive crashes of the node; an append is durable as
 * soon as the module has applied it (a crash can only happen between batches). Not thread-safe (the
 * simulation is single-threaded).
 */
public final class SimWal implements PassiveModule, WriteAheadLog {
  /** Never takes network input: received messages addressed here are dropped by the node. */
  @Override
  public boolean receivesMessages() {
    return false;
  }

  /** The contents of a node's WAL, kept by the simulation across restarts. */
  static final class Store {
    final List<long[]> retention = new ArrayList<>();
    final List<EventRecord> records = new ArrayList<>();
    long truncatedBelow;
    long appended;
  }

  private final Store store;

  SimWal(Store store) {
    this.store = store;
  }

  @Override
  public EventList applyEvents(EventList events) throws IOException {
    for (Event e : events) {
      switch (e.payload()) {
        case WalAppend a -> {
          if (a.getRetentionIndex() >= store.truncatedBelow) {
            store.retention.add(new long[] {a.getRetentionIndex()});
            store.records.add(a.getEvent());
            store.appended++;
          }
        }
        case WalTruncate t -> truncate(t.getRetentionIndex());
        case Init i -> {}
        default ->
            throw new IllegalArgumentException(
                "the WAL module cannot handle events of type " + e.typeName());
      }
    }
    return EventList.empty();
  }

  private void truncate(long below) {
    if (below <= store.truncatedBelow) {
      return;
    }
    store.truncatedBelow = below;
    for (int i = store.records.size() - 1; i >= 0; i--) {
      if (store.retention.get(i)[0] < below) {
        store.retention.remove(i);
        store.records.remove(i);
      }
    }
  }

  @Override
  public EventList loadAll() throws IOException {
    EventList out = EventList.withCapacity(store.records.size());
    for (EventRecord r : store.records) {
      DecodeResult<Event> d = EventCodec.shared().fromRecord(r);
      if (d instanceof DecodeResult.Error<Event> err) {
        throw new IOException("simulated WAL holds an undecodable event: " + err.reason());
      }
      out.add(d.orElseThrow());
    }
    return out;
  }

  /** Number of entries currently stored. */
  public int size() {
    return store.records.size();
  }
}
