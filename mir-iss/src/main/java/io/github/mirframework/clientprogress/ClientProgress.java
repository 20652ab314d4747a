package io.github.mirframework.clientprogress;

import io.github.mirframework.types.ClientId;
import io.github.mirframework.types.ReqNo;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tracks which requests of every client have been delivered (Mir's {@code ClientProgress}): per
 * client a {@link DeliveredReqs} (low watermark plus delivered numbers above it).
 *
 * <p>{@link #add} tells whether a request is delivered for the first time, {@link #garbageCollect}
 * advances every low watermark over its contiguous delivered prefix; the protobuf form is stored in
 * checkpoints (with every delivered list sorted, so that its hash is canonical).
 *
 * <p><b>What untrusted input can make it hold.</b> Request numbers are accepted only within a
 * window of {@link #window()} numbers above each client's low watermark (default {@value
 * #DEFAULT_WINDOW}; Mir has no limit), so one client costs at most about {@code window / 8} bytes
 * here and {@code window} numbers in a checkpoint, however it numbers its requests. The number of
 * clients is not bounded here: every client ID that ever had a request delivered keeps its low
 * watermark, which is what makes de-duplication work; limiting clients is the job of client
 * admission (authentication) before ordering. {@link #fromProto} rejects malformed input (delivered
 * numbers below the watermark, out of the window, unsorted or repeated; empty client IDs) instead
 * of loading it.
 *
 * <p>Not thread-safe.
 */
public final class ClientProgress {
  /** The default window of acceptable request numbers above a client's low watermark. */
  public static final long DEFAULT_WINDOW = 1L << 16;

  /** The largest allowed window: 2<sup>24</sup> numbers (a 2 MiB bit set per client). */
  public static final long MAX_WINDOW = 1L << 24;

  private static final Logger LOG = LoggerFactory.getLogger(ClientProgress.class);

  private final long window;
  private final SortedMap<ClientId, DeliveredReqs> clients = new TreeMap<>();

  /** Returns an empty tracker with the {@linkplain #DEFAULT_WINDOW default window}. */
  public ClientProgress() {
    this(DEFAULT_WINDOW);
  }

  /**
   * Returns an empty tracker with the given window.
   *
   * @throws IllegalArgumentException if {@code window} is not in 1..{@link #MAX_WINDOW}
   */
  public ClientProgress(long window) {
    this.window = checkWindow(window);
  }

  static long checkWindow(long window) {
    if (window < 1 || window > MAX_WINDOW) {
      throw new IllegalArgumentException(
          "window must be in 1.." + MAX_WINDOW + ", given: " + window);
    }
    return window;
  }

  /** The window of acceptable request numbers above each client's low watermark. */
  public long window() {
    return window;
  }

  /**
   * Marks request {@code reqNo} of {@code client} as delivered.
   *
   * @return true if it had not been delivered before and now is; false if it was delivered already,
   *     is below the client's low watermark, or is beyond the client's window (then it is not
   *     recorded, and the caller must not deliver it)
   */
  public boolean add(ClientId client, ReqNo reqNo) {
    Objects.requireNonNull(client, "client");
    Objects.requireNonNull(reqNo, "reqNo");
    DeliveredReqs dr = clients.computeIfAbsent(client, c -> new DeliveredReqs(window));
    boolean added = dr.add(reqNo);
    if (!added && LOG.isDebugEnabled()) {
      LOG.debug(
          "Not adding request {} of client {}: low watermark {}, window {}, already delivered: {}",
          reqNo,
          client,
          dr.lowWatermark(),
          window,
          dr.contains(reqNo));
    }
    return added;
  }

  /** Whether request {@code reqNo} of {@code client} counts as delivered. */
  public boolean contains(ClientId client, ReqNo reqNo) {
    DeliveredReqs dr = clients.get(client);
    return dr != null && dr.contains(reqNo);
  }

  /**
   * Advances every client's low watermark over its contiguous delivered prefix.
   *
   * @return the new low watermark of every client, by client ID
   */
  public SortedMap<ClientId, ReqNo> garbageCollect() {
    SortedMap<ClientId, ReqNo> lowWms = new TreeMap<>();
    clients.forEach((c, dr) -> lowWms.put(c, dr.garbageCollect()));
    return Collections.unmodifiableSortedMap(lowWms);
  }

  /** The tracked clients, sorted. */
  public SortedSet<ClientId> clients() {
    return Collections.unmodifiableSortedSet(new TreeSet<>(clients.keySet()));
  }

  /** The tracker of one client, if it has one. */
  public Optional<DeliveredReqs> client(ClientId client) {
    return Optional.ofNullable(clients.get(client));
  }

  /** The protobuf form, as stored in checkpoints; every delivered list is strictly ascending. */
  public io.github.mirframework.checkpoint.pb.ClientProgress toProto() {
    var b = io.github.mirframework.checkpoint.pb.ClientProgress.newBuilder();
    clients.forEach((c, dr) -> b.putProgress(c.value(), dr.toProto()));
    return b.build();
  }

  /**
   * Replaces this tracker's contents with those of {@code pb} (Mir's {@code LoadPb}).
   *
   * @throws IllegalArgumentException if {@code pb} is malformed (see {@link #check}); then nothing
   *     changes
   */
  public void loadProto(io.github.mirframework.checkpoint.pb.ClientProgress pb) {
    SortedMap<ClientId, DeliveredReqs> loaded = read(pb, window);
    clients.clear();
    clients.putAll(loaded);
  }

  /**
   * Reads the protobuf form with the default window.
   *
   * @throws IllegalArgumentException if it is malformed (see {@link #check})
   */
  public static ClientProgress fromProto(io.github.mirframework.checkpoint.pb.ClientProgress pb) {
    return fromProto(pb, DEFAULT_WINDOW);
  }

  /**
   * Reads the protobuf form.
   *
   * @throws IllegalArgumentException if it is malformed (see {@link #check})
   */
  public static ClientProgress fromProto(
      io.github.mirframework.checkpoint.pb.ClientProgress pb, long window) {
    ClientProgress cp = new ClientProgress(window);
    cp.clients.putAll(read(pb, window));
    return cp;
  }

  /**
   * Returns what is wrong with {@code pb} for a tracker with the given window, or null if it is
   * well-formed: client IDs non-empty; per client a low watermark below 2<sup>63</sup> and
   * delivered numbers strictly ascending, at or above the low watermark and within the window.
   */
  public static String check(io.github.mirframework.checkpoint.pb.ClientProgress pb, long window) {
    for (Map.Entry<String, io.github.mirframework.checkpoint.pb.DeliveredReqs> e :
        pb.getProgressMap().entrySet()) {
      if (e.getKey().isEmpty()) {
        return "empty client ID";
      }
      String problem = DeliveredReqs.check(e.getValue(), window);
      if (problem != null) {
        return "client " + e.getKey() + ": " + problem;
      }
    }
    return null;
  }

  private static SortedMap<ClientId, DeliveredReqs> read(
      io.github.mirframework.checkpoint.pb.ClientProgress pb, long window) {
    checkWindow(window);
    String problem = check(pb, window);
    if (problem != null) {
      throw new IllegalArgumentException("malformed ClientProgress: " + problem);
    }
    SortedMap<ClientId, DeliveredReqs> out = new TreeMap<>();
    pb.getProgressMap()
        .forEach((c, dr) -> out.put(ClientId.of(c), DeliveredReqs.fromProto(dr, window)));
    return out;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ClientProgress cp && cp.window == window && cp.clients.equals(clients);
  }

  @Override
  public int hashCode() {
    return Objects.hash(window, clients);
  }

  @Override
  public String toString() {
    return "ClientProgress[" + clients + "]";
  }
}
