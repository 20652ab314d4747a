package io.github.mirframework.messagebuffer;

import com.google.protobuf.Message;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.ToIntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A first-in-first-out backlog of messages whose total size is bounded by a capacity in bytes
 * (Mir's {@code MessageBuffer}). The size of a protobuf message is its serialized size; buffers of
 * other items take a size function.
 *
 * <p>{@link #store} never exceeds the capacity: it evicts the oldest messages to make room for a
 * new one, and rejects (without touching the buffer) a message larger than the whole capacity.
 * Hence the buffer keeps the most recently stored messages that fit together. Eviction and
 * rejection are counted and logged at debug level only, as they are driven by input from peers.
 *
 * <p>Use one buffer per sender (see {@link MessageBuffers#split}): then a flood from one sender
 * evicts only that sender's messages.
 *
 * <p>Not thread-safe: meant to be owned by one module.
 *
 * @param <T> the type of the buffered messages
 */
public final class MessageBuffer<T> {
  private static final Logger LOG = LoggerFactory.getLogger(MessageBuffer.class);

  /** What {@link #iterate} does with a message, as decided by its filter. */
  public enum Applicable {
    /** Outdated: remove it without applying it. */
    PAST,
    /** Ready: remove it and apply it. */
    CURRENT,
    /** Not ready yet: keep it. */
    FUTURE,
    /** Can never be processed: remove it without applying it. */
    INVALID
  }

  /** A buffered message and its list links. */
  private static final class Entry<T> {
    final T msg;
    final int sizeBytes;
    Entry<T> prev;
    Entry<T> next;
    boolean linked;

    Entry(T msg, int sizeBytes) {
      this.msg = msg;
      this.sizeBytes = sizeBytes;
    }
  }

  private final ToIntFunction<? super T> sizeOf;
  private int capacityBytes;
  private int sizeBytes;
  private int count;
  private Entry<T> oldest;
  private Entry<T> newest;
  private long evicted;
  private long rejected;

  /**
   * Creates an empty buffer of items whose size in bytes is given by {@code sizeOf}.
   *
   * @throws IllegalArgumentException if {@code capacityBytes} is negative
   */
  public MessageBuffer(int capacityBytes, ToIntFunction<? super T> sizeOf) {
    this.capacityBytes = checkCapacity(capacityBytes);
    this.sizeOf = Objects.requireNonNull(sizeOf, "sizeOf");
  }

  /**
   * Returns an empty buffer of protobuf messages, sized by their serialized size.
   *
   * @throws IllegalArgumentException if {@code capacityBytes} is negative
   */
  public static <M extends Message> MessageBuffer<M> create(int capacityBytes) {
    return new MessageBuffer<>(capacityBytes, Message::getSerializedSize);
  }

  private static int checkCapacity(int capacityBytes) {
    if (capacityBytes < 0) {
      throw new IllegalArgumentException(
          "buffer capacity must not be negative, given: " + capacityBytes);
    }
    return capacityBytes;
  }

  /** The maximum total size of the buffered messages, in bytes. */
  public int capacityBytes() {
    return capacityBytes;
  }

  /** The total size of the buffered messages, in bytes. */
  public int sizeBytes() {
    return sizeBytes;
  }

  /** The number of buffered messages. */
  public int messageCount() {
    return count;
  }

  /** Whether the buffer holds no message. */
  public boolean isEmpty() {
    return count == 0;
  }

  /** How many messages were evicted to make room for newer ones or by shrinking the buffer. */
  public long evictedCount() {
    return evicted;
  }

  /** How many messages were rejected by {@link #store} for being larger than the capacity. */
  public long rejectedCount() {
    return rejected;
  }

  /**
   * Stores {@code msg} after evicting as many of the oldest messages as needed to make it fit.
   * Stored messages may thus be evicted by later ones before they are consumed.
   *
   * @return true if stored; false, with the buffer unchanged, if {@code msg} alone is larger than
   *     the capacity
   */
  public boolean store(T msg) {
    Objects.requireNonNull(msg, "msg");
    int msgSize = sizeOf.applyAsInt(msg);
    if (msgSize < 0) {
      throw new IllegalArgumentException("message size must not be negative, got: " + msgSize);
    }
    // if |m| > capacity then reject m
    if (msgSize > capacityBytes) {
      rejected++;
      LOG.debug(
          "Ignoring message larger than the buffer capacity: {} > {} bytes",
          msgSize,
          capacityBytes);
      return false;
    }
    // while size + |m| > capacity do evict the oldest message
    while (sizeBytes + msgSize > capacityBytes) {
      evictOldest("to store a newer message");
    }
    append(new Entry<>(msg, msgSize));
    return true;
  }

  /**
   * Changes the capacity, evicting the oldest messages until the buffered ones fit. Shrinking below
   * the size of the newest message empties the buffer.
   *
   * @throws IllegalArgumentException if {@code newCapacityBytes} is negative
   */
  public void resize(int newCapacityBytes) {
    capacityBytes = checkCapacity(newCapacityBytes);
    while (sizeBytes > capacityBytes) {
      evictOldest("when shrinking the buffer");
    }
  }

  /**
   * Goes through the buffered messages from oldest to newest and handles each according to {@code
   * filter}: {@link Applicable#PAST PAST} and {@link Applicable#INVALID INVALID} messages are
   * removed, {@link Applicable#CURRENT CURRENT} ones are removed and then passed to {@code apply},
   * {@link Applicable#FUTURE FUTURE} ones stay.
   *
   * <p>{@code filter} and {@code apply} may store into or iterate this buffer; messages stored
   * during the iteration are not visited by it, and messages evicted during it are skipped. An
   * exception from either function ends the iteration; the messages handled so far stay handled.
   */
  public void iterate(Function<? super T, Applicable> filter, Consumer<? super T> apply) {
    Objects.requireNonNull(filter, "filter");
    Objects.requireNonNull(apply, "apply");
    List<Entry<T>> snapshot = new ArrayList<>(count);
    for (Entry<T> e = oldest; e != null; e = e.next) {
      snapshot.add(e);
    }
    for (Entry<T> e : snapshot) {
      if (!e.linked) {
        continue;
      }
      Applicable a = filter.apply(e.msg);
      switch (Objects.requireNonNull(a, "filter result")) {
        case PAST, INVALID -> unlink(e);
        case CURRENT -> {
          unlink(e);
          apply.accept(e.msg);
        }
        case FUTURE -> {}
      }
    }
  }

  /** Removes all messages. */
  public void clear() {
    while (oldest != null) {
      unlink(oldest);
    }
  }

  private void evictOldest(String why) {
    unlink(oldest);
    evicted++;
    LOG.debug("Dropped the oldest buffered message {}", why);
  }

  private void append(Entry<T> e) {
    e.prev = newest;
    if (newest == null) {
      oldest = e;
    } else {
      newest.next = e;
    }
    newest = e;
    e.linked = true;
    sizeBytes += e.sizeBytes;
    count++;
  }

  private void unlink(Entry<T> e) {
    if (e.prev == null) {
      oldest = e.next;
    } else {
      e.prev.next = e.next;
    }
    if (e.next == null) {
      newest = e.prev;
    } else {
      e.next.prev = e.prev;
    }
    e.prev = null;
    e.next = null;
    e.linked = false;
    sizeBytes -= e.sizeBytes;
    count--;
  }

  @Override
  public String toString() {
    return "MessageBuffer[" + count + " messages, " + sizeBytes + "/" + capacityBytes + " bytes]";
  }
}
