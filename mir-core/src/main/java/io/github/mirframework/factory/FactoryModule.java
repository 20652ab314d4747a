package io.github.mirframework.factory;

import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.pb.Init;
import io.github.mirframework.event.pb.MessageReceived;
import io.github.mirframework.factory.pb.GarbageCollect;
import io.github.mirframework.factory.pb.NewModule;
import io.github.mirframework.messagebuffer.MessageBuffer;
import io.github.mirframework.messagebuffer.MessageBuffer.Applicable;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.RetentionIndex;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
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
 * handled as follows: a {@code MessageReceived} is kept in a bounded {@link MessageBuffer} (the
 * submodule may be created soon, e.g. when another node entered a new epoch first) and replayed
 * right after the submodule's {@code Init} when it is created; anything else is dropped with an
 * info-level log entry.
 *
 * <p>{@code NewModule}: the ID must be {@code <factory ID>/<sub-ID>}, otherwise the batch fails; a
 * retention index below the factory's current one (the module would be garbage-collected at once)
 * makes the factory ignore the request with a warning. Otherwise the generator creates the
 * submodule, which is registered under its retention index and receives {@code Init}; its output is
 * the factory's output. Re-creating an existing ID replaces the old submodule (with a warning).
 *
 * <p>{@code GarbageCollect(r)}: deletes every submodule whose retention index is below {@code r}
 * and raises the factory's retention index to {@code r} (it never decreases). Retention indices are
 * unsigned on the wire; one of 2<sup>63</sup> or more fails the batch.
 *
 * <p>Not thread-safe; called by one thread at a time like every passive module. Submodules are
 * called on the same thread.
 */
public final class FactoryModule implements PassiveModule {
  /** The default capacity of the buffer for early messages: 1 MiB. */
  public static final int DEFAULT_MSG_BUF_SIZE_BYTES = 1024 * 1024;

  /**
   * The parameters of a factory.
   *
   * @param generator creates the submodules
   * @param msgBufSizeBytes capacity of the buffer for messages to submodules that do not exist yet
   */
  public record Params(ModuleGenerator generator, int msgBufSizeBytes) {
    /** Validates the parameters. */
    public Params {
      Objects.requireNonNull(generator, "generator");
      if (msgBufSizeBytes < 0) {
        throw new IllegalArgumentException(
            "msgBufSizeBytes must not be negative, given: " + msgBufSizeBytes);
      }
    }

    /**
     * Parameters with the given generator and a {@value #DEFAULT_MSG_BUF_SIZE_BYTES}-byte buffer.
     */
    public static Params defaults(ModuleGenerator generator) {
      return new Params(generator, DEFAULT_MSG_BUF_SIZE_BYTES);
    }

    /** A copy with another buffer capacity. */
    public Params withMsgBufSizeBytes(int bytes) {
      return new Params(generator, bytes);
    }
  }

  private final ModuleId ownId;
  private final ModuleGenerator generator;
  private final Logger log;
  private final Map<ModuleId, PassiveModule> submodules = new HashMap<>();
  private final Map<ModuleId, Long> retentionOf = new HashMap<>();
  private final NavigableMap<Long, Set<ModuleId>> byRetention = new TreeMap<>();
  private final MessageBuffer<Event> earlyMessages;
  private long retentionIndex;

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
    this.earlyMessages =
        new MessageBuffer<>(params.msgBufSizeBytes(), e -> e.payload().getSerializedSize());
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
    return earlyMessages.messageCount();
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

    if (id.isTopLevel() || !id.topString().equals(ownId.value())) {
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

    PassiveModule submodule =
        Objects.requireNonNull(generator.generate(id, nm.getParams()), "generated submodule");
    if (submodules.put(id, submodule) != null) {
      log.warn("Replacing existing submodule. moduleID={}", id);
      forgetRetention(id);
    }
    retentionOf.put(id, moduleRetIdx);
    byRetention.computeIfAbsent(moduleRetIdx, r -> new TreeSet<>()).add(id);

    EventList out = submodule.applyEvents(EventList.of(Events.init(id)));

    // Messages for the new submodule that arrived before it existed, in arrival order.
    List<Event> early = new ArrayList<>();
    earlyMessages.iterate(
        e -> e.destination().equals(id) ? Applicable.CURRENT : Applicable.FUTURE, early::add);
    if (!early.isEmpty()) {
      out.addAll(submodule.applyEvents(EventList.of(early)));
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
      if (event.payload() instanceof MessageReceived) {
        if (!earlyMessages.store(event.stripped())) {
          log.debug(
              "Failed buffering incoming submodule message. moduleID={}", event.destination());
        }
      } else {
        log.info(
            "Ignoring submodule event. Destination module not found. moduleID={} eventType={}",
            event.destination(),
            event.payload().getDescriptorForType().getFullName());
      }
      return EventList.empty();
    }
    return submodule.applyEvents(EventList.of(event));
  }

  @Override
  public String toString() {
    return "FactoryModule[" + ownId + ", " + submodules.size() + " submodules]";
  }
}
