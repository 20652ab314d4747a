package io.github.mirframework.factory;

import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.pb.Init;
import io.github.mirframework.event.pb.MessageReceived;
import io.github.mirframework.factory.pb.GarbageCollect;
import io.github.mirframework.factory.pb.NewModule;
import io.github.mirframework.log.RateLimitedLog;
import io.github.mirframework.messagebuffer.MessageBuffer;
import io.github.mirframework.messagebuffer.MessageBuffer.Applicable;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import io.github.mirframework.types.RetentionIndex;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A passive module that creates, feeds and garbage-collects passive submodules (Mir's {@code
 * FactoryModule}).
 *
 * <p>Events addressed to the factory's own ID must be {@code Init} (ignored), {@link NewModule} or
 * {@link GarbageCollect}; a {@code MessageReceived} (a peer chose the destination) is dropped; any
 * other type fails the batch. Every other event is forwarded, alone, to the submodule whose
 * <em>full</em> ID equals the event's destination. Events for a submodule that does not exist are
 * handled as follows: a {@code MessageReceived} is kept in a bounded {@link MessageBuffer} of its
 * sender (the submodule may be created soon, e.g. when another node entered a new epoch first) and
 * replayed, in arrival order, right after the submodule's {@code Init} when it is created; anything
 * else is dropped with an info-level log entry. Each sender has its own buffer of {@link
 * Params#msgBufSizeBytes()} bytes, so one member cannot evict the early messages of the others, and
 * at most {@link Params#maxSenders()} senders have buffered messages at a time (messages of further
 * senders are dropped and counted until a buffer empties). A submodule that does not {@linkplain
 * PassiveModule#receivesMessages() take messages} gets neither its early messages nor later ones.
 *
 * <p>{@code NewModule}: the ID must be {@code <factory ID>/<sub-ID>}, otherwise the batch fails; a
 * retention index below the factory's current one (the module would be garbage-collected at once)
 * makes the factory ignore the request with a warning. Otherwise the generator creates the
 * submodule, which is registered under its retention index and receives {@code Init}; its output is
 * the factory's output. Re-creating an existing ID replaces the old submodule (with a warning).
 *
 * <p><b>Creation on demand</b> (beyond Mir; {@link Params#withOnDemand}): for protocols whose
 * instances are learned from messages, a peer message for a submodule that does not exist is shown
 * to an {@link OnDemandCreation} policy, which may create the submodule from the message alone (it
 * then gets {@code Init}, the early messages of other senders in arrival order, then the message).
 * At most {@link Params#maxOnDemandSubmodules()} such submodules are alive at a time, none below
 * the retention index is created, and a declined or refused message is buffered as an early one. A
 * later {@code NewModule} for a submodule created on demand adopts it: the instance and its state
 * are kept (the event's parameters are not used), it moves to the event's retention index and no
 * longer counts toward the limit.
 *
 * <p>{@code GarbageCollect(r)}: deletes every submodule whose retention index is below {@code r}
 * and raises the factory's retention index to {@code r} (it never decreases). Retention indices are
 * unsigned on the wire; one of 2<sup>63</sup> or more fails the batch.
 *
 * <p>Not thread-safe; called by one thread at a time like every passive module. Submodules are
 * called on the same thread.
 */
public final class FactoryModule implements PassiveModule {
  private static final RateLimitedLog REJECTS =
      RateLimitedLog.shared(LoggerFactory.getLogger(FactoryModule.class));

  /** The default capacity of each sender's buffer for early messages: 1 MiB. */
  public static final int DEFAULT_MSG_BUF_SIZE_BYTES = 1024 * 1024;

  /** The default maximum number of senders with buffered early messages: 64. */
  public static final int DEFAULT_MAX_SENDERS = 64;

  /** The default maximum number of live submodules created on demand: 1024. */
  public static final int DEFAULT_MAX_ON_DEMAND_SUBMODULES = 1024;

  /**
   * The parameters of a factory.
   *
   * @param generator creates the submodules
   * @param msgBufSizeBytes capacity, per sender, of the buffer for messages to submodules that do
   *     not exist yet
   * @param maxSenders the most senders with buffered early messages at a time
   * @param onDemand creates submodules on their first peer message, or {@code null} (the default):
   *     submodules are created by {@code NewModule} events only
   * @param maxOnDemandSubmodules the most submodules created on demand that are alive at a time
   */
  public record Params(
      ModuleGenerator generator,
      int msgBufSizeBytes,
      int maxSenders,
      OnDemandCreation onDemand,
      int maxOnDemandSubmodules) {
    /** Validates the parameters. */
    public Params {
      Objects.requireNonNull(generator, "generator");
      if (msgBufSizeBytes < 0) {
        throw new IllegalArgumentException(
            "msgBufSizeBytes must not be negative, given: " + msgBufSizeBytes);
      }
      if (maxSenders < 0) {
        throw new IllegalArgumentException("maxSenders must not be negative, given: " + maxSenders);
      }
      if (maxOnDemandSubmodules < 0) {
        throw new IllegalArgumentException(
            "maxOnDemandSubmodules must not be negative, given: " + maxOnDemandSubmodules);
      }
    }

    /** Parameters without creation on demand. */
    public Params(ModuleGenerator generator, int msgBufSizeBytes, int maxSenders) {
      this(generator, msgBufSizeBytes, maxSenders, null, DEFAULT_MAX_ON_DEMAND_SUBMODULES);
    }

    /** Parameters with {@value #DEFAULT_MAX_SENDERS} senders at most. */
    public Params(ModuleGenerator generator, int msgBufSizeBytes) {
      this(generator, msgBufSizeBytes, DEFAULT_MAX_SENDERS);
    }

    /**
     * Parameters with the given generator and a {@value #DEFAULT_MSG_BUF_SIZE_BYTES}-byte buffer.
     */
    public static Params defaults(ModuleGenerator generator) {
      return new Params(generator, DEFAULT_MSG_BUF_SIZE_BYTES);
    }

    /** A copy with another buffer capacity per sender. */
    public Params withMsgBufSizeBytes(int bytes) {
      return new Params(generator, bytes, maxSenders, onDemand, maxOnDemandSubmodules);
    }

    /** A copy with another maximum number of senders. */
    public Params withMaxSenders(int senders) {
      return new Params(generator, msgBufSizeBytes, senders, onDemand, maxOnDemandSubmodules);
    }

    /**
     * A copy that creates submodules on their first peer message when {@code policy} approves, at
     * most {@code maxLive} of them alive at a time (see {@link OnDemandCreation}).
     */
    public Params withOnDemand(OnDemandCreation policy, int maxLive) {
      return new Params(
          generator,
          msgBufSizeBytes,
          maxSenders,
          Objects.requireNonNull(policy, "policy"),
          maxLive);
    }
  }

  private final ModuleId ownId;
  private final ModuleGenerator generator;
  private final Logger log;
  private final Map<ModuleId, PassiveModule> submodules = new HashMap<>();
  private final Map<ModuleId, Long> retentionOf = new HashMap<>();
  private final NavigableMap<Long, Set<ModuleId>> byRetention = new TreeMap<>();
  private final int msgBufSizeBytes;
  private final int maxSenders;
  private final OnDemandCreation onDemand;
  private final int maxOnDemand;
  // The live submodules that were created on demand (they count against maxOnDemand).
  private final Set<ModuleId> onDemandIds = new java.util.HashSet<>();
  private long refusedOnDemand;
  // Early messages by sender, in the order the senders first sent one; each tagged with its
  // arrival number so that replay keeps the arrival order across senders.
  private final Map<String, MessageBuffer<Early>> earlyMessages = new LinkedHashMap<>();
  private long arrivals;
  private long droppedEarly;
  private long droppedFromRemovedBuffers;
  private long retentionIndex;

  private record Early(long arrival, Event event) {}

  /** Creates a factory that logs through this class's logger. */
  public FactoryModule(ModuleId id, Params params) {
    this(id, params, LoggerFactory.getLogger(FactoryModule.class));
  }

  /**
   * Creates a factory that logs through {@code logger} (e.g. one decorated with the node's ID, or a
   * test's).
   *
   * @throws IllegalArgumentException if {@code id} is not a top-level module ID
   */
  public FactoryModule(ModuleId id, Params params, Logger logger) {
    this.ownId = Objects.requireNonNull(id, "id");
    if (!id.isTopLevel()) {
      throw new IllegalArgumentException("factory module ID must be top-level, given: " + id);
    }
    this.generator = params.generator();
    this.log = Objects.requireNonNull(logger, "logger");
    this.msgBufSizeBytes = params.msgBufSizeBytes();
    this.maxSenders = params.maxSenders();
    this.onDemand = params.onDemand();
    this.maxOnDemand = params.maxOnDemandSubmodules();
  }

  /** The IDs of the current submodules, sorted. */
  public Set<ModuleId> submoduleIds() {
    return new TreeSet<>(submodules.keySet());
  }

  /** The factory's retention index: submodules below it have been garbage-collected. */
  public RetentionIndex retentionIndex() {
    return RetentionIndex.of(retentionIndex);
  }

  /** The number of buffered messages for submodules that do not exist yet. */
  public int bufferedMessages() {
    int n = 0;
    for (MessageBuffer<Early> b : earlyMessages.values()) {
      n += b.messageCount();
    }
    return n;
  }

  /** The number of buffered messages from {@code sender} for submodules that do not exist yet. */
  public int bufferedMessages(String sender) {
    MessageBuffer<Early> b = earlyMessages.get(sender);
    return b == null ? 0 : b.messageCount();
  }

  /**
   * Early messages dropped so far: too large for a sender's buffer, evicted by the same sender's
   * newer ones, from a sender beyond {@link Params#maxSenders()}, or for a submodule that takes no
   * messages.
   */
  public long droppedEarlyMessages() {
    long n = droppedEarly;
    for (MessageBuffer<Early> b : earlyMessages.values()) {
      n += b.evictedCount() + b.rejectedCount();
    }
    return n + droppedFromRemovedBuffers;
  }

  /** The number of live submodules that were created on demand. */
  public int onDemandSubmodules() {
    return onDemandIds.size();
  }

  /**
   * Messages whose on-demand creation was approved by the policy but refused by the factory: the
   * limit of live on-demand submodules was reached or the retention index was below the factory's.
   * (Messages the policy declines are not counted here.)
   */
  public long refusedOnDemandCreations() {
    return refusedOnDemand;
  }

  /**
   * Forwards peer messages to its submodules (and buffers early ones); a submodule that does not
   * {@linkplain #receivesMessages() receive messages} gets none.
   */
  @Override
  public boolean receivesMessages() {
    return true;
  }

  @Override
  public EventList applyEvents(EventList events) throws Exception {
    EventList out = EventList.empty();
    for (Event event : events) {
      out.addAll(applyEvent(event));
    }
    return out;
  }

  private EventList applyEvent(Event event) throws Exception {
    if (event.destination().equals(ownId)) {
      return switch (event.payload()) {
        case Init init -> EventList.empty();
        case NewModule nm -> applyNewModule(nm);
        case GarbageCollect gc -> applyGarbageCollect(gc);
        case MessageReceived m -> {
          // A peer addressed the factory itself, which takes no messages.
          log.debug("Dropping a message addressed to the factory itself. from={}", m.getFrom());
          yield EventList.empty();
        }
        default ->
            throw new IllegalArgumentException(
                "unsupported event type for factory module: "
                    + event.payload().getDescriptorForType().getFullName());
      };
    }
    return forward(event);
  }

  private EventList applyNewModule(NewModule nm) throws Exception {
    ModuleId id = ModuleId.of(nm.getModuleId());
    long moduleRetIdx = RetentionIndex.of(nm.getRetentionIndex()).value();

    if (!isSubmoduleId(id)) {
      throw new IllegalArgumentException(
          "submodule (" + id + ") must have the factory's ID (" + ownId + ") as a prefix");
    }

    // A submodule below the retention index would have been garbage-collected already.
    if (moduleRetIdx < retentionIndex) {
      log.warn(
          "Ignoring new module instantiation with low retention index. moduleID={} currentRetIdx={}"
              + " moduleRetIdx={}",
          id,
          retentionIndex,
          moduleRetIdx);
      return EventList.empty();
    }
    if (onDemandIds.remove(id)) {
      // Created on demand by an earlier peer message: keep the instance and its state.
      forgetRetention(id);
      retentionOf.put(id, moduleRetIdx);
      byRetention.computeIfAbsent(moduleRetIdx, r -> new TreeSet<>()).add(id);
      log.debug("Adopting a submodule created on demand. moduleID={}", id);
      return EventList.empty();
    }
    return create(id, nm.getParams(), moduleRetIdx);
  }

  private boolean isSubmoduleId(ModuleId id) {
    return !id.isTopLevel() && id.topString().equals(ownId.value());
  }

  /** Creates and initializes a submodule and replays its early messages. */
  private EventList create(ModuleId id, com.google.protobuf.Any params, long moduleRetIdx)
      throws Exception {
    PassiveModule submodule =
        Objects.requireNonNull(generator.generate(id, params), "generated submodule");
    if (submodules.put(id, submodule) != null) {
      log.warn("Replacing existing submodule. moduleID={}", id);
      forgetRetention(id);
    }
    retentionOf.put(id, moduleRetIdx);
    byRetention.computeIfAbsent(moduleRetIdx, r -> new TreeSet<>()).add(id);

    EventList out = submodule.applyEvents(EventList.of(Events.init(id)));

    // Messages for the new submodule that arrived before it existed, in arrival order.
    List<Early> early = new ArrayList<>();
    for (var it = earlyMessages.values().iterator(); it.hasNext(); ) {
      MessageBuffer<Early> b = it.next();
      b.iterate(
          e -> e.event().destination().equals(id) ? Applicable.CURRENT : Applicable.FUTURE,
          early::add);
      if (b.isEmpty()) {
        droppedFromRemovedBuffers += b.evictedCount() + b.rejectedCount();
        it.remove();
      }
    }
    if (!early.isEmpty()) {
      if (!submodule.receivesMessages()) {
        droppedEarly += early.size();
        log.debug("Dropping early peer messages for a submodule that takes none. moduleID={}", id);
        return out;
      }
      early.sort(java.util.Comparator.comparingLong(Early::arrival));
      List<Event> events = new ArrayList<>(early.size());
      early.forEach(e -> events.add(e.event()));
      out.addAll(submodule.applyEvents(EventList.of(events)));
    }
    return out;
  }

  /**
   * Creates the destination of a peer message on demand if the policy approves and the limits
   * allow; returns null if the message is to be buffered instead.
   */
  private EventList createOnDemand(Event event, MessageReceived m) throws Exception {
    ModuleId id = event.destination();
    if (onDemand == null || !isSubmoduleId(id)) {
      return null;
    }
    NodeId from = NodeId.of(m.getFrom());
    Optional<OnDemandCreation.Creation> creation = onDemand.onFirstMessage(id, from, m.getMsg());
    if (creation.isEmpty()) {
      return null;
    }
    long moduleRetIdx = creation.get().retentionIndex();
    if (moduleRetIdx < retentionIndex || onDemandIds.size() >= maxOnDemand) {
      refusedOnDemand++;
      REJECTS.info(
          "on-demand refused",
          "{}: not creating {} on demand for a message from {}: {}",
          ownId,
          id,
          from,
          moduleRetIdx < retentionIndex
              ? "retention index " + moduleRetIdx + " below " + retentionIndex
              : maxOnDemand + " submodules created on demand are alive");
      return null;
    }
    onDemandIds.add(id);
    EventList out = create(id, creation.get().params(), moduleRetIdx);
    PassiveModule submodule = submodules.get(id);
    if (submodule.receivesMessages()) {
      out.addAll(submodule.applyEvents(EventList.of(event)));
    } else {
      log.debug("Dropping a peer message for a submodule that takes none. moduleID={}", id);
    }
    return out;
  }

  private EventList applyGarbageCollect(GarbageCollect gc) {
    long newRetIdx = RetentionIndex.of(gc.getRetentionIndex()).value();
    if (newRetIdx <= retentionIndex) {
      return EventList.empty();
    }
    NavigableMap<Long, Set<ModuleId>> collected = byRetention.headMap(newRetIdx, false);
    for (Set<ModuleId> ids : collected.values()) {
      for (ModuleId id : ids) {
        submodules.remove(id);
        retentionOf.remove(id);
        onDemandIds.remove(id);
      }
    }
    collected.clear();
    retentionIndex = newRetIdx;
    return EventList.empty();
  }

  private void forgetRetention(ModuleId id) {
    Long old = retentionOf.remove(id);
    if (old != null) {
      Set<ModuleId> ids = byRetention.get(old);
      ids.remove(id);
      if (ids.isEmpty()) {
        byRetention.remove(old);
      }
    }
  }

  private EventList forward(Event event) throws Exception {
    PassiveModule submodule = submodules.get(event.destination());
    if (submodule == null) {
      if (event.payload() instanceof MessageReceived m) {
        EventList created = createOnDemand(event, m);
        if (created != null) {
          return created;
        }
        storeEarly(m.getFrom(), event);
      } else {
        log.info(
            "Ignoring submodule event. Destination module not found. moduleID={} eventType={}",
            event.destination(),
            event.payload().getDescriptorForType().getFullName());
      }
      return EventList.empty();
    }
    if (event.payload() instanceof MessageReceived m && !submodule.receivesMessages()) {
      log.debug(
          "Dropping a peer message for a submodule that takes none. moduleID={} from={}",
          event.destination(),
          m.getFrom());
      return EventList.empty();
    }
    return submodule.applyEvents(EventList.of(event));
  }

  private void storeEarly(String sender, Event event) {
    MessageBuffer<Early> b = earlyMessages.get(sender);
    if (b == null) {
      if (earlyMessages.size() >= maxSenders) {
        droppedEarly++;
        REJECTS.info(
            "too many senders",
            "{}: dropping an early message from {}: {} senders already have buffered messages",
            ownId,
            sender,
            maxSenders);
        return;
      }
      b = new MessageBuffer<>(msgBufSizeBytes, e -> e.event().payload().getSerializedSize());
      earlyMessages.put(sender, b);
    }
    if (!b.store(new Early(arrivals++, event.stripped()))) {
      log.debug("Failed buffering incoming submodule message. moduleID={}", event.destination());
    }
    if (b.isEmpty()) {
      droppedFromRemovedBuffers += b.evictedCount() + b.rejectedCount();
      earlyMessages.remove(sender);
    }
  }

  @Override
  public String toString() {
    return "FactoryModule[" + ownId + ", " + submodules.size() + " submodules]";
  }
}
