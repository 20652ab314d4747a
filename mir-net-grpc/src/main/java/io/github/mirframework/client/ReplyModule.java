package io.github.mirframework.client;

import io.github.mirframework.client.pb.ClientReplies;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.pb.Init;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.types.ModuleId;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The reply sink of a node (module {@link #DEFAULT_ID}): the node's application module emits {@code
 * ClientReplies} events to it, and it hands them to the {@link RequestReceiver} bound with {@link
 * RequestReceiver.Builder#replies}, which sends each reply to its client.
 *
 * <p>Only the node's own modules can make it send anything: it takes no network input ({@link
 * #receivesMessages()} is false), so a peer cannot address it, and it accepts no other event type.
 * Replies that arrive before a receiver is bound, or after it stopped, are counted and dropped
 * (clients resubmit, and other replicas answer).
 *
 * <p>Register one instance per node, e.g. {@code node.module(ReplyModule.DEFAULT_ID, replies)},
 * before building the request receiver. Thread-safe.
 */
public final class ReplyModule implements PassiveModule {
  /** The module ID Trantor's app module sends replies to by default. */
  public static final ModuleId DEFAULT_ID = ModuleId.of("replies");

  private volatile RequestReceiver receiver;
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong forwarded = new AtomicLong();

  /** A reply sink not yet bound to a receiver. */
  public ReplyModule() {}

  void bind(RequestReceiver r) {
    if (receiver != null && receiver != r) {
      throw new IllegalStateException("the reply module is already bound to a request receiver");
    }
    receiver = r;
  }

  @Override
  public EventList applyEvents(EventList events) {
    for (Event e : events) {
      switch (e.payload()) {
        case Init i -> {}
        case ClientReplies r -> {
          RequestReceiver rr = receiver;
          if (rr == null) {
            dropped.addAndGet(r.getRepliesCount());
          } else {
            rr.deliverReplies(r.getRepliesList());
            forwarded.addAndGet(r.getRepliesCount());
          }
        }
        default ->
            throw new IllegalArgumentException(
                "the reply module cannot handle events of type " + e.typeName());
      }
    }
    return EventList.empty();
  }

  /** Replies handed to the receiver so far. */
  public long forwardedCount() {
    return forwarded.get();
  }

  /** Replies dropped because no receiver was bound. */
  public long droppedCount() {
    return dropped.get();
  }

  /** Takes no network input: only the node's own modules can make it reply. */
  @Override
  public boolean receivesMessages() {
    return false;
  }
}
