package io.github.mirframework.dsl;

import com.google.protobuf.Internal;
import com.google.protobuf.Message;
import io.github.mirframework.contextstore.ContextStore;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.NetMessages;
import io.github.mirframework.event.pb.Init;
import io.github.mirframework.event.pb.MessageReceived;
import io.github.mirframework.event.pb.NetMessage;
import io.github.mirframework.event.pb.Origin;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A passive module built from handler registrations (Mir's {@code dsl.Module}).
 *
 * <p><b>Dispatch.</b> {@link #applyEvents} processes a batch as follows:
 *
 * <ol>
 *   <li>For each event, in order: run <em>all</em> handlers registered for the exact class of its
 *       payload, in registration order. If there are none, the event is accepted silently when its
 *       type was declared with {@link #ignore}; otherwise it goes to the handler set with {@link
 *       #uponOtherEvent}, or, without one, {@code Init} is accepted, a {@code MessageReceived} is
 *       dropped and counted (see below) and any other type fails the batch with an {@link
 *       IllegalArgumentException} naming the type.
 *   <li>After the last event, the conditions run in registration order, also after an empty batch:
 *       each plain condition ({@link #uponCondition}) once, and each keyed condition ({@link
 *       #uponKeyedCondition}) once for every key marked since it last ran, in marking order.
 *   <li>The contexts recovered during the batch with {@link #recoverAndCleanupContext} are disposed
 *       of.
 *   <li>The events emitted since the previous batch are returned.
 * </ol>
 *
 * If a handler or condition throws, the remaining ones are skipped, the events emitted so far are
 * discarded and the exception propagates; the node then stops. Handlers may throw checked
 * exceptions.
 *
 * <p><b>Network messages are untrusted.</b> {@link #uponMessage} dispatches {@code MessageReceived}
 * events by the protobuf type inside the message. A received message whose type no handler was
 * registered for, whose bytes do not parse as that type or whose sender ID is malformed is dropped,
 * counted in {@link #droppedMessages()} and logged at debug level; it never fails the batch. So is
 * a message that a member-only handler ({@link #uponMemberMessage}) receives from a non-member.
 * Handlers themselves must check a message's content before acting on it, and drop an invalid one
 * with one call to {@link #reject}, which counts and logs it the same way.
 *
 * <p><b>Keyed conditions.</b> A protocol with many instances (one per broadcast, per sequence
 * number...) should not re-check all of them after every batch. A handler that changes the state of
 * instance {@code k} calls {@link KeyedCondition#mark mark(k)} on a condition registered with
 * {@link #uponKeyedCondition}; after the batch the condition runs for the marked keys only.
 *
 * <p><b>Request contexts.</b> {@link #origin(Object)} stores an arbitrary context object and
 * returns an {@link Origin} to put into a request to another module; the responder copies the
 * origin into its response, and {@link #uponResponse} recovers the context and passes it to the
 * handler whose context class matches. Several handlers may inspect the same response: a recovered
 * context is disposed of only at the end of the batch.
 *
 * <p>Not thread-safe. Like every passive module it is called by one thread at a time; handlers must
 * not block. Registration normally happens in the owning module's constructor but is allowed at any
 * time from the thread that applies events.
 */
public final class DslModule implements PassiveModule {
  private static final Logger LOG = LoggerFactory.getLogger(DslModule.class);

  /**
   * Handles the payload of an event.
   *
   * @param <T> the payload type
   */
  @FunctionalInterface
  public interface Handler<T> {
    /**
     * Handles one payload.
     *
     * @throws Exception to fail the batch (and stop the node)
     */
    void handle(T payload) throws Exception;
  }

  /**
   * Handles a whole event (envelope and payload).
   *
   * @param <T> the payload type
   */
  @FunctionalInterface
  public interface EventHandler<T> {
    /**
     * Handles one event.
     *
     * @param event the event, with destination and follow-ups
     * @param payload its payload, already cast
     * @throws Exception to fail the batch (and stop the node)
     */
    void handle(Event event, T payload) throws Exception;
  }

  /**
   * Handles a message received from another node.
   *
   * @param <T> the message type
   */
  @FunctionalInterface
  public interface MessageHandler<T> {
    /**
     * Handles one message.
     *
     * @param from the authenticated sender
     * @param msg the message, well-formed as a protobuf message but otherwise unchecked
     * @throws Exception to fail the batch (and stop the node); never do this because of what a peer
     *     sent
     */
    void handle(NodeId from, T msg) throws Exception;
  }

  /**
   * Handles a response to a request made with a context from {@link #origin(Object)}.
   *
   * @param <R> the response type
   * @param <C> the context type
   */
  @FunctionalInterface
  public interface ResponseHandler<R, C> {
    /**
     * Handles one response.
     *
     * @throws Exception to fail the batch (and stop the node)
     */
    void handle(R response, C context) throws Exception;
  }

  /** An action without arguments: an init handler or a condition. */
  @FunctionalInterface
  public interface Action {
    /**
     * Runs the action.
     *
     * @throws Exception to fail the batch (and stop the node)
     */
    void run() throws Exception;
  }

  /**
   * A condition checked for one key (for example, one protocol instance) at a time.
   *
   * @param <K> the key type
   */
  @FunctionalInterface
  public interface KeyedAction<K> {
    /**
     * Checks the condition for {@code key} and acts if it holds.
     *
     * @throws Exception to fail the batch (and stop the node)
     */
    void run(K key) throws Exception;
  }

  /**
   * A condition registered with {@link #uponKeyedCondition}: handlers {@linkplain #mark mark} the
   * keys whose state changed, and after the batch the condition runs once for each marked key.
   *
   * <p>Not thread-safe, like its module.
   *
   * @param <K> the key type; keys are compared with {@code equals}
   */
  public static final class KeyedCondition<K> {
    private final KeyedAction<? super K> action;
    private LinkedHashSet<K> marked = new LinkedHashSet<>();

    private KeyedCondition(KeyedAction<? super K> action) {
      this.action = action;
    }

    /**
     * Makes the condition run for {@code key} after the current batch (once, however often the key
     * is marked). A key marked while the conditions run is checked in the same pass if this
     * condition has not run yet, otherwise after the next batch.
     */
    public void mark(K key) {
      marked.add(Objects.requireNonNull(key, "key"));
    }

    /** The number of keys marked and not yet checked. */
    public int pending() {
      return marked.size();
    }

    private void runMarked() throws Exception {
      if (marked.isEmpty()) {
        return;
      }
      LinkedHashSet<K> keys = marked;
      marked = new LinkedHashSet<>();
      for (K key : keys) {
        action.run(key);
      }
    }

    private void clear() {
      marked.clear();
    }
  }

  /** An event handler as stored internally: the payload class was already checked. */
  @FunctionalInterface
  private interface Dispatch {
    void accept(Event event) throws Exception;
  }

  /** The handlers of one message type. */
  private static final class MessageDispatch<T extends Message> {
    final Class<T> type;
    final List<MessageHandler<? super T>> handlers = new ArrayList<>();

    MessageDispatch(Class<T> type) {
      this.type = type;
    }

    /** Returns false if the payload does not parse as {@link #type}. */
    boolean dispatch(NodeId from, NetMessage msg) throws Exception {
      Optional<T> payload = NetMessages.unpack(msg, type);
      if (payload.isEmpty()) {
        return false;
      }
      T m = payload.get();
      for (MessageHandler<? super T> h : handlers) {
        h.handle(from, m);
      }
      return true;
    }
  }

  private final ModuleId id;
  private final ModuleId transport;
  private final Map<Class<?>, List<Dispatch>> handlers = new HashMap<>();
  private final Map<String, MessageDispatch<?>> messageHandlers = new HashMap<>();
  private final Set<Class<?>> ignored = new HashSet<>();
  private final List<Action> conditions = new ArrayList<>();
  private final List<KeyedCondition<?>> keyedConditions = new ArrayList<>();
  private final ContextStore<Object> contexts = new ContextStore<>();
  private final Set<Long> contextsToDispose = new LinkedHashSet<>();
  private EventHandler<Message> otherEventHandler;
  private EventList output = EventList.empty();
  private long droppedMessages;

  /**
   * Creates a module with the given ID and no handlers. Messages are sent with the four-argument
   * {@link #sendMessage(ModuleId, ModuleId, Message, Collection)}.
   */
  public DslModule(ModuleId id) {
    this.id = Objects.requireNonNull(id, "module ID");
    this.transport = null;
  }

  /**
   * Creates a module with the given ID and no handlers that sends its messages through the
   * transport module {@code transport}, which allows the short {@link #sendMessage(Message,
   * Collection)}.
   */
  public DslModule(ModuleId id, ModuleId transport) {
    this.id = Objects.requireNonNull(id, "module ID");
    this.transport = Objects.requireNonNull(transport, "transport module ID");
  }

  /** The ID of this module (the full ID, if it is a submodule). */
  public ModuleId id() {
    return id;
  }

  // ---------------------------------------------------------------------------------------------
  // Registration

  /**
   * Registers {@code handler} for events whose payload is exactly of class {@code type}.
   *
   * @return this module
   */
  public <T extends Message> DslModule upon(Class<T> type, Handler<? super T> handler) {
    Objects.requireNonNull(handler, "handler");
    return addDispatch(type, e -> handler.handle(type.cast(e.payload())));
  }

  /**
   * Registers {@code handler} for events whose payload is exactly of class {@code type}; the
   * handler sees the whole event.
   *
   * @return this module
   */
  public <T extends Message> DslModule uponEvent(Class<T> type, EventHandler<? super T> handler) {
    Objects.requireNonNull(handler, "handler");
    return addDispatch(type, e -> handler.handle(e, type.cast(e.payload())));
  }

  /**
   * Registers {@code handler} for the {@code Init} event a node sends at start-up.
   *
   * @return this module
   */
  public DslModule uponInit(Action handler) {
    Objects.requireNonNull(handler, "handler");
    return upon(Init.class, init -> handler.run());
  }

  /**
   * Registers {@code handler} for received network messages whose payload is of type {@code type}.
   * Handlers of the same message type run in registration order. The first registration installs
   * the message dispatcher as a {@code MessageReceived} handler, at that position among any
   * handlers registered with {@code upon(MessageReceived.class, ...)}.
   *
   * @return this module
   */
  public <T extends Message> DslModule uponMessage(
      Class<T> type, MessageHandler<? super T> handler) {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(handler, "handler");
    if (messageHandlers.isEmpty()) {
      addDispatch(MessageReceived.class, this::dispatchMessage);
    }
    String typeName = Internal.getDefaultInstance(type).getDescriptorForType().getFullName();
    messageDispatch(typeName, type).handlers.add(handler);
    return this;
  }

  /**
   * Like {@link #uponMessage}, but only for messages from {@code members}: a message of this type
   * from any other node is dropped, counted in {@link #droppedMessages()} and logged at debug level
   * without reaching the handler. The set is copied.
   *
   * @return this module
   */
  public <T extends Message> DslModule uponMemberMessage(
      Class<T> type, Collection<NodeId> members, MessageHandler<? super T> handler) {
    Objects.requireNonNull(handler, "handler");
    Set<NodeId> allowed = Set.copyOf(members);
    return uponMessage(
        type,
        (from, msg) -> {
          if (allowed.contains(from)) {
            handler.handle(from, msg);
          } else {
            reject(from, msg, "sender is not a member");
          }
        });
  }

  @SuppressWarnings("unchecked") // the map holds a MessageDispatch<T> under T's full name
  private <T extends Message> MessageDispatch<T> messageDispatch(String typeName, Class<T> type) {
    MessageDispatch<?> d =
        messageHandlers.computeIfAbsent(typeName, n -> new MessageDispatch<>(type));
    if (d.type != type) {
      throw new IllegalArgumentException(
          "two classes for message type " + typeName + ": " + d.type + " and " + type);
    }
    return (MessageDispatch<T>) d;
  }

  /**
   * Registers {@code handler} for responses of type {@code responseType} to requests whose origin
   * was created by {@link #origin(Object)} with a context of class {@code contextType}.
   *
   * <p>For each such response the handler registered here: takes the origin with {@code originOf};
   * ignores the response unless the origin is a DSL origin addressed to this module; recovers the
   * context (throwing {@link IllegalStateException} if it is unknown or was already disposed of)
   * and marks it for disposal at the end of the batch; and calls {@code handler} only if the
   * context is an instance of {@code contextType}. Hence several handlers with different context
   * types may be registered for one response type, and each request reaches the handler for its
   * context type.
   *
   * @param originOf extracts the origin from a response (e.g. {@code SignResult::getOrigin})
   * @return this module
   */
  public <R extends Message, C> DslModule uponResponse(
      Class<R> responseType,
      Function<? super R, Origin> originOf,
      Class<C> contextType,
      ResponseHandler<? super R, ? super C> handler) {
    Objects.requireNonNull(originOf, "originOf");
    Objects.requireNonNull(contextType, "contextType");
    Objects.requireNonNull(handler, "handler");
    return upon(
        responseType,
        response -> {
          Origin origin = originOf.apply(response);
          if (origin == null
              || origin.getContextCase() != Origin.ContextCase.DSL_CONTEXT_ID
              || !origin.getModule().equals(id.value())) {
            return;
          }
          Object context = recoverAndCleanupContext(origin.getDslContextId());
          if (contextType.isInstance(context)) {
            handler.handle(response, contextType.cast(context));
          }
        });
  }

  /**
   * Registers a condition: an action run once after each batch, after all event handlers, in
   * registration order. A condition typically checks a predicate on the module's state and acts if
   * it holds.
   *
   * @return this module
   */
  public DslModule uponCondition(Action condition) {
    Objects.requireNonNull(condition, "condition");
    conditions.add(condition);
    return this;
  }

  /**
   * Registers a keyed condition: {@code action} runs after a batch once for each key {@linkplain
   * KeyedCondition#mark marked} since it last ran, at this condition's position among all
   * conditions. Use it instead of {@link #uponCondition} when the state has many independent parts
   * (protocol instances) and a batch touches few of them.
   *
   * @return the condition, on which handlers mark keys
   */
  public <K> KeyedCondition<K> uponKeyedCondition(KeyedAction<? super K> action) {
    KeyedCondition<K> c = new KeyedCondition<>(Objects.requireNonNull(action, "action"));
    keyedConditions.add(c);
    conditions.add(c::runMarked);
    return c;
  }

  /**
   * Sets the handler for events of types that have no handler and are not ignored, replacing the
   * default (which accepts {@code Init}, drops received messages and rejects anything else). Mir's
   * {@code UponOtherEvent}.
   *
   * @return this module
   */
  @SuppressWarnings("unchecked") // a handler of a supertype of Message accepts every Message
  public DslModule uponOtherEvent(EventHandler<? super Message> handler) {
    otherEventHandler = (EventHandler<Message>) Objects.requireNonNull(handler, "handler");
    return this;
  }

  /**
   * Declares that this module accepts events of class {@code type} and does nothing with them
   * (unless handlers are registered for that type too).
   *
   * @return this module
   */
  public DslModule ignore(Class<? extends Message> type) {
    ignored.add(Objects.requireNonNull(type, "type"));
    return this;
  }

  /**
   * Whether this module takes messages from peers: {@code true} once a handler for received
   * messages is registered ({@link #uponMessage}, or {@code upon}/{@code uponEvent} for {@code
   * MessageReceived}). A module that wraps a {@code DslModule} must declare its own {@link
   * #receivesMessages()} (it may delegate to this one once its handlers are registered).
   */
  @Override
  public boolean receivesMessages() {
    return handlers.containsKey(MessageReceived.class);
  }

  private DslModule addDispatch(Class<? extends Message> type, Dispatch d) {
    Objects.requireNonNull(type, "type");
    handlers.computeIfAbsent(type, t -> new ArrayList<>()).add(d);
    return this;
  }

  // ---------------------------------------------------------------------------------------------
  // Emitting events

  /** Adds {@code event} to the output of the current batch. */
  public void emit(Event event) {
    output.add(Objects.requireNonNull(event, "event"));
  }

  /** Adds an event with the given destination and payload to the output of the current batch. */
  public void emit(ModuleId destination, Message payload) {
    emit(Event.of(destination, payload));
  }

  /** Adds all events of {@code events} to the output of the current batch. */
  public void emitAll(EventList events) {
    output.addAll(events);
  }

  /**
   * Asks the transport {@code net} to send {@code msg} to module {@code destModule} of the nodes
   * {@code destinations}; the receivers handle it with {@link #uponMessage}.
   */
  public void sendMessage(
      ModuleId net, ModuleId destModule, Message msg, Collection<NodeId> destinations) {
    emit(Events.sendMessage(net, destModule, msg, destinations));
  }

  /**
   * Sends {@code msg} to the module with this module's ID on the nodes {@code destinations},
   * through the transport given to the constructor; the receivers handle it with {@link
   * #uponMessage}.
   *
   * @throws IllegalStateException if this module was created without a transport module ID
   */
  public void sendMessage(Message msg, Collection<NodeId> destinations) {
    if (transport == null) {
      throw new IllegalStateException(
          id + ": no transport module ID; use new DslModule(id, transport) or the long form");
    }
    emit(Events.sendMessage(transport, id, msg, destinations));
  }

  // ---------------------------------------------------------------------------------------------
  // Contexts

  /**
   * Stores {@code context} and returns an origin that makes a responder answer this module with the
   * context's ID ({@code Origin{module = id(), dsl_context_id}}). Put it in a request; handle the
   * response with {@link #uponResponse}. The context is any object (records work well); its class
   * selects the response handler.
   */
  public Origin origin(Object context) {
    long contextId = storeContext(context);
    return Origin.newBuilder().setModule(id.value()).setDslContextId(contextId).build();
  }

  /**
   * Returns a DSL origin for this module with the given context ID, without storing anything (for
   * tests and for modules that manage their context IDs with the methods below).
   */
  public Origin originOf(long contextId) {
    return Origin.newBuilder().setModule(id.value()).setDslContextId(contextId).build();
  }

  /** Stores {@code context} and returns its ID. */
  public long storeContext(Object context) {
    return contexts.store(Objects.requireNonNull(context, "context"));
  }

  /**
   * Schedules the context with ID {@code contextId} for disposal at the end of the current batch
   * (not immediately, as other handlers of the same event may still need it).
   */
  public void cleanupContext(long contextId) {
    contextsToDispose.add(contextId);
  }

  /**
   * Returns the context with ID {@code contextId} and keeps it; use this when several responses
   * carry the same context.
   *
   * @throws IllegalStateException if the ID is unknown or its context was disposed of
   */
  public Object recoverAndRetainContext(long contextId) {
    return contexts.recover(contextId);
  }

  /**
   * Returns the context with ID {@code contextId} and schedules it for disposal at the end of the
   * current batch.
   *
   * @throws IllegalStateException if the ID is unknown or its context was disposed of
   */
  public Object recoverAndCleanupContext(long contextId) {
    Object context = contexts.recover(contextId);
    cleanupContext(contextId);
    return context;
  }

  /** The number of contexts currently stored (outstanding requests). */
  public int storedContexts() {
    return contexts.size();
  }

  // ---------------------------------------------------------------------------------------------
  // Processing

  /**
   * The number of received messages dropped: because of their type, bytes or sender ID, because a
   * member-only handler got them from a non-member, or because a handler {@linkplain #reject
   * rejected} them.
   */
  public long droppedMessages() {
    return droppedMessages;
  }

  /**
   * Drops a message that a handler found invalid: counts it in {@link #droppedMessages()} and logs
   * it at debug level with the module, sender, message type and {@code reason}. A handler calls it
   * and returns; what a peer sent must never fail the batch.
   *
   * @param from the sender
   * @param msg the message (its type is logged)
   * @param reason why it is dropped, e.g. {@code "value of 5000 bytes exceeds the limit"}
   */
  public void reject(NodeId from, Message msg, String reason) {
    droppedMessages++;
    if (LOG.isDebugEnabled()) {
      LOG.debug(
          "{}: dropping {} from '{}': {}", id, msg.getDescriptorForType().getName(), from, reason);
    }
  }

  /** Applies a batch of events as described in the class documentation. */
  @Override
  public EventList applyEvents(EventList events) throws Exception {
    try {
      for (Event event : events) {
        apply(event);
      }
      for (Action condition : conditions) {
        condition.run();
      }
      EventList out = output;
      output = EventList.empty();
      return out;
    } catch (Throwable t) {
      output = EventList.empty();
      for (KeyedCondition<?> c : keyedConditions) {
        c.clear();
      }
      throw t;
    } finally {
      if (!contextsToDispose.isEmpty()) {
        for (long contextId : contextsToDispose) {
          contexts.dispose(contextId);
        }
        contextsToDispose.clear();
      }
    }
  }

  private void apply(Event event) throws Exception {
    Message payload = event.payload();
    List<Dispatch> hs = handlers.get(payload.getClass());
    if (hs != null) {
      for (Dispatch h : hs) {
        h.accept(event);
      }
    } else if (ignored.contains(payload.getClass())) {
      // Declared as ignored.
    } else if (otherEventHandler != null) {
      otherEventHandler.handle(event, payload);
    } else if (payload instanceof MessageReceived received) {
      drop(received, "no handler for its type");
    } else if (!(payload instanceof Init)) {
      throw new IllegalArgumentException(
          "unknown event type '" + payload.getDescriptorForType().getFullName() + "'");
    }
  }

  private void dispatchMessage(Event event) throws Exception {
    MessageReceived received = (MessageReceived) event.payload();
    NetMessage msg = received.getMsg();
    MessageDispatch<?> d = messageHandlers.get(typeName(msg.getPayload().getTypeUrl()));
    if (d == null) {
      drop(received, "no handler for its type");
      return;
    }
    NodeId from;
    try {
      from = NodeId.of(received.getFrom());
    } catch (IllegalArgumentException e) {
      drop(received, "malformed sender ID");
      return;
    }
    if (!d.dispatch(from, msg)) {
      drop(received, "malformed payload");
    }
  }

  private static String typeName(String typeUrl) {
    return typeUrl.substring(typeUrl.lastIndexOf('/') + 1);
  }

  private void drop(MessageReceived received, String reason) {
    droppedMessages++;
    if (LOG.isDebugEnabled()) {
      LOG.debug(
          "{}: dropping message from '{}' of type '{}' ({} bytes): {}",
          id,
          received.getFrom(),
          received.getMsg().getPayload().getTypeUrl(),
          received.getMsg().getPayload().getValue().size(),
          reason);
    }
  }

  @Override
  public String toString() {
    return "DslModule[" + id + "]";
  }
}
