package io.github.mirframework.event;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.Message;
import io.github.mirframework.event.pb.EventRecord;
import io.github.mirframework.event.pb.Init;
import io.github.mirframework.event.pb.MessageReceived;
import io.github.mirframework.event.pb.NetMessage;
import io.github.mirframework.event.pb.SendMessage;
import io.github.mirframework.event.pb.TestingString;
import io.github.mirframework.event.pb.TestingUint;
import io.github.mirframework.event.pb.TimerDelay;
import io.github.mirframework.event.pb.TimerGarbageCollect;
import io.github.mirframework.event.pb.TimerRepeat;
import io.github.mirframework.event.pb.WalAppend;
import io.github.mirframework.event.pb.WalTruncate;
import java.util.Collection;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The payload types a decoder accepts, keyed by protobuf type URL.
 *
 * <p>Decoding never looks classes up by name: a type is known only if it was registered, either
 * explicitly (modules declare the types they use, see {@link #register(Message)}) or implicitly
 * when an event of that type was encoded in this JVM by {@link EventCodec#toRecord(Event)} (into
 * {@link #shared()}). Thread-safe.
 */
public final class PayloadRegistry {
  /** The prefix of the type URLs produced by {@code Any.pack}. */
  public static final String TYPE_URL_PREFIX = "type.googleapis.com/";

  private static final PayloadRegistry SHARED = withCoreTypes();

  private final ConcurrentHashMap<String, Message> prototypes = new ConcurrentHashMap<>();
  // Descriptors of generated types already registered: makes repeated registration (once per
  // encoded event) cheap.
  private final ConcurrentHashMap<Descriptor, Boolean> known = new ConcurrentHashMap<>();

  /** Returns a new registry with no types. */
  public static PayloadRegistry empty() {
    return new PayloadRegistry();
  }

  /** Returns a new registry with mir-core's own payload types. */
  public static PayloadRegistry withCoreTypes() {
    PayloadRegistry r = new PayloadRegistry();
    r.registerAll(
        Set.of(
            Init.getDefaultInstance(),
            SendMessage.getDefaultInstance(),
            MessageReceived.getDefaultInstance(),
            NetMessage.getDefaultInstance(),
            TimerDelay.getDefaultInstance(),
            TimerRepeat.getDefaultInstance(),
            TimerGarbageCollect.getDefaultInstance(),
            WalAppend.getDefaultInstance(),
            WalTruncate.getDefaultInstance(),
            EventRecord.getDefaultInstance(),
            io.github.mirframework.event.pb.Origin.getDefaultInstance(),
            TestingString.getDefaultInstance(),
            TestingUint.getDefaultInstance()));
    return r;
  }

  /**
   * The JVM-wide registry used by default. It holds mir-core's types and learns every type encoded
   * in this JVM.
   */
  public static PayloadRegistry shared() {
    return SHARED;
  }

  /**
   * Registers the type of {@code prototype} (any instance of it; the default instance is kept). A
   * generated class replaces a {@code DynamicMessage} registered earlier for the same type, never
   * the other way round, so that decoding yields the application's classes whenever they are known.
   */
  public PayloadRegistry register(Message prototype) {
    Objects.requireNonNull(prototype, "prototype");
    Descriptor d = prototype.getDescriptorForType();
    if (known.containsKey(d)) {
      return this;
    }
    Message proto = prototype.getDefaultInstanceForType();
    prototypes.merge(
        typeUrl(d),
        proto,
        (old, neu) ->
            old instanceof DynamicMessage && !(neu instanceof DynamicMessage) ? neu : old);
    if (!(proto instanceof DynamicMessage)) {
      known.put(d, Boolean.TRUE);
    }
    return this;
  }

  /** Registers the types of all given prototypes. */
  public PayloadRegistry registerAll(Collection<? extends Message> prototypesToAdd) {
    for (Message m : prototypesToAdd) {
      register(m);
    }
    return this;
  }

  /** Registers every type known to {@code other}. */
  public PayloadRegistry registerAll(PayloadRegistry other) {
    other.prototypes.values().forEach(this::register);
    return this;
  }

  /** The default instance of the type with the given URL, if registered. */
  public Optional<Message> lookup(String typeUrl) {
    return Optional.ofNullable(prototypes.get(typeUrl));
  }

  /** Whether a type with the given URL is registered. */
  public boolean contains(String typeUrl) {
    return prototypes.containsKey(typeUrl);
  }

  /** The URLs of all registered types, sorted. */
  public Set<String> typeUrls() {
    return new TreeSet<>(prototypes.keySet());
  }

  /** The type URL {@code Any.pack} uses for messages of the given type. */
  public static String typeUrl(Descriptor descriptor) {
    return TYPE_URL_PREFIX + descriptor.getFullName();
  }
}
