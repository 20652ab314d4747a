package io.github.mirframework.wal.file;

import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventCodec;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.PayloadRegistry;
import io.github.mirframework.event.pb.EventRecord;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.types.RetentionIndex;
import io.github.mirframework.wal.WriteAheadLog;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A write-ahead log kept in memory, with the contract of {@link FileWal}: for tests and
 * simulations, where a "crash" drops the node but keeps the {@link Store}, and a "restart" opens a
 * new {@code InMemoryWal} over it.
 *
 * <p>As a module it handles {@code WalAppend}, {@code WalTruncate} and {@code Init}, refuses other
 * event types and appends of payload types missing from its {@link PayloadRegistry} (which a {@code
 * FileWal} could not replay), and returns no events. {@link #loadAll()} returns the entries at or
 * above the retention index in append order. An append below the retention index is dropped.
 * Durability is that of the {@code Store} object.
 *
 * <p>Thread-safe; no method blocks except to wait for the store's lock.
 */
public final class InMemoryWal implements WriteAheadLog, PassiveModule, AutoCloseable {
  /** Never takes network input: received messages addressed here are dropped by the node. */
  @Override
  public boolean receivesMessages() {
    return false;
  }

  /**
   * The contents of an in-memory log, shared by the successive {@code InMemoryWal}s opened over it.
   * Thread-safe.
   */
  public static final class Store {
    private record Entry(RetentionIndex retentionIndex, Event event) {}

    private final List<Entry> entries = new ArrayList<>();
    private RetentionIndex retention = RetentionIndex.ZERO;

    /** Creates an empty store. */
    public Store() {}

    synchronized void append(Event event, RetentionIndex ri) {
      if (ri.compareTo(retention) >= 0) {
        entries.add(new Entry(ri, event));
      }
    }

    synchronized void truncate(RetentionIndex ri) {
      if (ri.compareTo(retention) > 0) {
        retention = ri;
        entries.removeIf(e -> e.retentionIndex().compareTo(ri) < 0);
      }
    }

    synchronized EventList load() {
      EventList out = EventList.withCapacity(entries.size());
      for (Entry e : entries) {
        out.add(e.event());
      }
      return out;
    }

    synchronized RetentionIndex retention() {
      return retention;
    }

    /** The number of entries currently kept. */
    public synchronized int size() {
      return entries.size();
    }
  }

  private final Store store;
  private final EventCodec codec;
  private volatile boolean closed;

  private final WalCommands.Target target =
      new WalCommands.Target() {
        @Override
        public void append(EventRecord record, Event event, RetentionIndex ri) {
          store.append(event, ri);
        }

        @Override
        public void truncate(RetentionIndex ri) {
          store.truncate(ri);
        }
      };

  private InMemoryWal(Store store, PayloadRegistry registry) {
    this.store = Objects.requireNonNull(store, "store");
    this.codec = new EventCodec(Objects.requireNonNull(registry, "registry"));
  }

  /** Returns a log over a new, empty store. */
  public static InMemoryWal create(PayloadRegistry registry) {
    return new InMemoryWal(new Store(), registry);
  }

  /** Returns a new log over an existing store: what a restarted node sees. */
  public static InMemoryWal open(Store store, PayloadRegistry registry) {
    return new InMemoryWal(store, registry);
  }

  /** The store this log reads and writes. */
  public Store store() {
    return store;
  }

  /**
   * The current retention index.
   *
   * @throws IllegalStateException if this log is closed
   */
  public RetentionIndex retentionIndex() {
    ensureOpen();
    return store.retention();
  }

  /**
   * Returns the events of the entries at or above the retention index, in append order.
   *
   * @throws IllegalStateException if this log is closed
   */
  @Override
  public EventList loadAll() {
    ensureOpen();
    return store.load();
  }

  /**
   * Applies {@code WalAppend}, {@code WalTruncate} and {@code Init} events in order; returns an
   * empty list.
   *
   * @throws IllegalArgumentException for another event type, or a {@code WalAppend} without an
   *     event or with an event of an unregistered payload type; the events before it were applied
   * @throws IllegalStateException if this log is closed
   */
  @Override
  public EventList applyEvents(EventList events) {
    ensureOpen();
    try {
      WalCommands.apply(events, codec, target);
    } catch (java.io.IOException e) {
      throw new AssertionError("the in-memory target does not throw", e);
    }
    return EventList.empty();
  }

  /** Closes this view; the store is kept. Idempotent. */
  @Override
  public void close() {
    closed = true;
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("in-memory write-ahead log is closed");
    }
  }
}
