package io.github.mirframework.examples.rbc;

import io.github.mirframework.dsl.DslModule;
import io.github.mirframework.event.EventList;
import io.github.mirframework.examples.rbc.pb.Deliver;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.types.ModuleId;
import java.util.ArrayList;
import java.util.List;

/**
 * The consumer of {@link ReliableBroadcast}: keeps every {@link Deliver} it gets, in order.
 *
 * <p>Thread-safe for readers: {@link #delivered()} may be called from any thread while the node
 * runs (the node's thread appends under the same lock).
 */
public final class DeliveryLog implements PassiveModule {
  private final DslModule dsl;
  private final List<Deliver> delivered = new ArrayList<>();

  /** Creates the consumer module {@code id}. */
  public DeliveryLog(ModuleId id) {
    dsl = new DslModule(id);
    dsl.upon(
        Deliver.class,
        d -> {
          synchronized (delivered) {
            delivered.add(d);
          }
        });
  }

  @Override
  public EventList applyEvents(EventList events) throws Exception {
    return dsl.applyEvents(events);
  }

  /** A copy of the deliveries so far, in order. */
  public List<Deliver> delivered() {
    synchronized (delivered) {
      return List.copyOf(delivered);
    }
  }
}
