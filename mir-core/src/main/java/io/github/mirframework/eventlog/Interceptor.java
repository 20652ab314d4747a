package io.github.mirframework.eventlog;

import io.github.mirframework.event.EventList;
import io.github.mirframework.types.ModuleId;

/**
 * Observes every batch of events just before a module processes it, e.g. to record an event log.
 *
 * <p>The node calls {@link #intercept} from its worker threads, concurrently for different modules,
 * so implementations must be thread-safe. The events are stripped of their follow-ups (each event
 * is seen exactly once, when it is processed). A node owns the interceptor it is given and closes
 * it after its last worker has stopped.
 */
public interface Interceptor extends AutoCloseable {

  /**
   * Observes a batch that {@code module} is about to process.
   *
   * @param module the top-level module that processes the batch
   * @param events the events; must not be changed or kept beyond the events themselves (which are
   *     immutable)
   * @throws Exception to stop the node
   */
  void intercept(ModuleId module, EventList events) throws Exception;

  /** Releases resources; called once by the owning node when it stops. */
  @Override
  default void close() throws java.io.IOException {}
}
