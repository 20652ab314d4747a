package io.github.mirframework.availability.msc;

import io.github.mirframework.availability.batchdb.BatchDbEvents;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.pb.MessageReceived;
import io.github.mirframework.factory.FactoryModule;
import io.github.mirframework.factory.pb.GarbageCollect;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.RetentionIndex;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reconfigurable multisig collector (Mir's {@code NewReconfigurableModule}): a {@link
 * FactoryModule} of one {@link MultisigCollector} per epoch, made by {@link
 * MultisigCollector#reconfigurable}.
 *
 * <p>It is the factory with one guard in front: a message received from the network and addressed
 * to the factory's own ID (rather than to an instance, {@code <ID>/<epoch>}) is dropped and
 * counted. The factory itself accepts only {@code Init}, {@code NewModule} and {@code
 * GarbageCollect} at its own ID and fails the node on anything else, so without the guard any peer
 * could stop a node by sending a message to {@code "availability"}.
 *
 * <p>Not thread-safe; a passive module, called by one thread at a time.
 */
public final class MultisigCollectorFactory implements PassiveModule {
  private static final Logger LOG = LoggerFactory.getLogger(MultisigCollector.class);

  private final ModuleId id;
  private final FactoryModule factory;
  private final ModuleId batchDb;
  private long droppedMessages;

  MultisigCollectorFactory(ModuleId id, FactoryModule factory, ModuleId batchDb) {
    this.id = Objects.requireNonNull(id, "id");
    this.factory = Objects.requireNonNull(factory, "factory");
    this.batchDb = batchDb;
  }

  /** Forwards peer messages to its multisig-collector instances. */
  @Override
  public boolean receivesMessages() {
    return true;
  }

  @Override
  public EventList applyEvents(EventList events) throws Exception {
    EventList accepted = null;
    for (int i = 0; i < events.size(); i++) {
      Event e = events.get(i);
      boolean drop = e.payload() instanceof MessageReceived && e.destination().equals(id);
      if (drop && accepted == null) {
        accepted = EventList.withCapacity(events.size());
        for (int j = 0; j < i; j++) {
          accepted.add(events.get(j));
        }
      }
      if (drop) {
        droppedMessages++;
        if (LOG.isDebugEnabled()) {
          LOG.debug(
              "{}: dropping a message from {} addressed to the factory itself",
              id,
              ((MessageReceived) e.payload()).getFrom());
        }
      } else if (accepted != null) {
        accepted.add(e);
      }
    }
    EventList in = accepted == null ? events : accepted;
    EventList out = factory.applyEvents(in);
    if (batchDb != null) {
      // The stored batches of an epoch go with the epoch's instance.
      for (int i = 0; i < in.size(); i++) {
        Event e = in.get(i);
        if (e.destination().equals(id) && e.payload() instanceof GarbageCollect gc) {
          out.add(BatchDbEvents.garbageCollect(batchDb, RetentionIndex.of(gc.getRetentionIndex())));
        }
      }
    }
    return out;
  }

  /** The IDs of the current instances, sorted. */
  public Set<ModuleId> submoduleIds() {
    return factory.submoduleIds();
  }

  /** The number of buffered messages for instances that do not exist yet. */
  public int bufferedMessages() {
    return factory.bufferedMessages();
  }

  /** The number of received messages dropped because they were addressed to the factory itself. */
  public long droppedMessages() {
    return droppedMessages;
  }

  @Override
  public String toString() {
    return "MultisigCollectorFactory[" + factory + ", dropped=" + droppedMessages + "]";
  }
}
