package io.github.mirframework.tools.mircat;

import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.TextFormat;
import com.google.protobuf.TypeRegistry;
import io.github.mirframework.event.DecodeResult;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventCodec;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.PayloadRegistry;
import io.github.mirframework.event.pb.EventRecord;
import io.github.mirframework.event.pb.Init;
import io.github.mirframework.event.pb.MessageReceived;
import io.github.mirframework.event.pb.TimerDelay;
import io.github.mirframework.event.pb.TimerGarbageCollect;
import io.github.mirframework.event.pb.TimerRepeat;
import io.github.mirframework.eventlog.RecordedEntry;
import io.github.mirframework.eventlog.RecordedEvent;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.node.Debugger;
import io.github.mirframework.node.Node;
import io.github.mirframework.node.NodeConfig;
import io.github.mirframework.types.ModuleId;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Replays the recorded events of one node into a {@link Node} built from real modules (in debug
 * mode, see {@link Node#debug()}) and checks, batch by batch, that the modules produce what the log
 * shows arriving next: a nondeterminism detector.
 *
 * <p><b>What is replayed.</b> Each recorded batch addressed to a module built by the {@link
 * ReplayModules} factory is handed to that module as one batch, exactly as recorded. Batches for
 * the other modules (boundaries) are only checked. So every replayed module sees its recorded input
 * whatever the others do, and a divergence shows where it starts instead of cascading.
 *
 * <p><b>How it is checked.</b> The events a module produces (its output, and the follow-ups of the
 * events it processed) are <em>predictions</em> for their destination modules. A node routes the
 * output of one module's batches in order, so predictions are kept in one FIFO queue per
 * (destination, producer); queues of different producers interleave freely (the log records when a
 * batch started, not when it ended). Each recorded event must be, in this order of checks: at the
 * front of one of its destination's queues; or an event from outside the node (a received message,
 * {@code Init}, an event the timer was asked to deliver, anything before the module's {@code Init}
 * (write-ahead log replay), or a type declared external); anything else is a divergence. A recorded
 * event that is in a queue behind other predictions means those were produced by the replay but
 * never recorded ({@link Divergence.Kind#MISSING}); one in no queue was recorded but not produced
 * ({@link Divergence.Kind#UNEXPECTED}). A module that throws is {@link Divergence.Kind#FAILED}.
 *
 * <p>Not thread-safe: one thread drives a replayer. {@link #close()} stops the node.
 */
public final class Replayer implements AutoCloseable {

  /**
   * The first difference between the recording and the replay.
   *
   * @param kind what differs
   * @param index the index (in the log, as mircat numbers events) of the recorded event where the
   *     difference shows
   * @param destination the module the recorded event was addressed to (its top-level ID)
   * @param producer the replayed module whose output differs, if known
   * @param producedAt the index of the first event of the producer's batch that produced the
   *     differing event, or -1
   * @param expected what the recording shows
   * @param actual what the replay produced instead (or the error)
   */
  public record Divergence(
      Kind kind,
      long index,
      ModuleId destination,
      Optional<ModuleId> producer,
      long producedAt,
      String expected,
      String actual) {

    /** Kinds of divergence. */
    public enum Kind {
      /** The log shows an event that no module produced in the replay. */
      UNEXPECTED,
      /** The replay produced an event that the log does not show where it must be. */
      MISSING,
      /** A replayed module threw an exception. */
      FAILED
    }

    /** A multi-line description for people. */
    public String describe() {
      StringBuilder sb = new StringBuilder();
      sb.append("DIVERGENCE at event #").append(index).append(" (to ").append(destination);
      producer.ifPresent(
          p -> {
            sb.append(", produced by module ").append(p);
            if (producedAt >= 0) {
              sb.append(" at its batch starting with #").append(producedAt);
            }
          });
      sb.append("): ");
      switch (kind) {
        case UNEXPECTED ->
            sb.append("the recording shows an event that the replay did not produce");
        case MISSING ->
            sb.append("the replay produced an event that the recording does not show here");
        case FAILED -> sb.append("the replayed module failed");
      }
      sb.append("\n  expected (recorded): ").append(expected);
      sb.append("\n  actual (replayed):   ").append(actual);
      return sb.toString();
    }
  }

  /**
   * What happened to one recorded event.
   *
   * @param index its index in the log
   * @param event the recorded event
   * @param verdict how it was explained: "produced by M", "external: reason", or "DIVERGED"
   */
  public record Checked(long index, RecordedEvent event, String verdict) {}

  /**
   * One replayed batch.
   *
   * @param firstIndex index of the batch's first event in the log
   * @param entry the recorded batch
   * @param replayed whether the batch was applied to a replayed module (false for boundaries)
   * @param produced what the module produced (follow-ups of the batch's events, then its output)
   * @param checked the verdict on each event of the batch
   * @param divergence the divergence found in this batch, if any
   */
  public record Step(
      long firstIndex,
      RecordedEntry entry,
      boolean replayed,
      EventList produced,
      List<Checked> checked,
      Optional<Divergence> divergence) {}

  /** An event the replay expects at a module, and where it came from. */
  private record Prediction(Event event, ModuleId producer, long producedAt) {}

  /** An event the timer was asked to deliver. */
  private record Scheduled(Event event, boolean repeating, long retentionIndex) {}

  private final Node node;
  private final Debugger debugger;
  private final Set<ModuleId> replayed;
  private final PayloadRegistry registry;
  private final EventCodec codec;
  private final TextFormat.Printer printer;
  private final Set<String> externalTypes;
  // destination (top-level) -> producer -> predictions in order
  private final Map<ModuleId, Map<ModuleId, ArrayDeque<Prediction>>> predictions =
      new LinkedHashMap<>();
  private final Map<ModuleId, List<Scheduled>> scheduled = new LinkedHashMap<>();
  private final Set<ModuleId> initialized = new HashSet<>();
  private final Set<String> undecodableTypes = new HashSet<>();
  private long nextIndex;
  private long matched;
  private long external;
  private Divergence first;
  private boolean failed;

  /**
   * Builds the node from {@code modules} and starts it in debug mode.
   *
   * @param extraExternalTypes more full type names to accept as external input
   * @throws IllegalArgumentException if the factory rejects its parameters
   */
  public Replayer(
      ReplayModules modules, ReplayModules.ReplaySetup setup, Set<String> extraExternalTypes) {
    Map<ModuleId, PassiveModule> built = modules.create(setup);
    if (built.isEmpty()) {
      throw new IllegalArgumentException("module set '" + modules.name() + "' built no module");
    }
    registry =
        PayloadRegistry.withCoreTypes()
            .registerAll(
                List.of(
                    io.github.mirframework.factory.pb.NewModule.getDefaultInstance(),
                    io.github.mirframework.factory.pb.GarbageCollect.getDefaultInstance()))
            .registerAll(modules.payloadTypes());
    codec = new EventCodec(registry);
    TypeRegistry.Builder types = TypeRegistry.newBuilder();
    for (String url : registry.typeUrls()) {
      registry.lookup(url).ifPresent(m -> types.add(m.getDescriptorForType()));
    }
    printer = TextFormat.printer().usingTypeRegistry(types.build()).emittingSingleLine(true);
    Set<String> ext = new HashSet<>(modules.externalInputTypes());
    ext.addAll(extraExternalTypes);
    externalTypes = Set.copyOf(ext);
    Node.Builder b =
        Node.builder(setup.self())
            // Recorded batches are replayed whole; the recorded node capped them already.
            .config(NodeConfig.defaults().withMaxEventBatchSize(Integer.MAX_VALUE));
    built.forEach((id, m) -> b.module(id, (io.github.mirframework.module.Module) m));
    replayed = Set.copyOf(built.keySet());
    node = b.build();
    debugger = node.debug();
  }

  /** The payload types to decode the log with (mir-core's and the modules'). */
  public PayloadRegistry registry() {
    return registry;
  }

  /** The IDs of the replayed modules. */
  public Set<ModuleId> replayedModules() {
    return replayed;
  }

  /** The index the next recorded event will have. */
  public long nextIndex() {
    return nextIndex;
  }

  /** The first divergence found so far. */
  public Optional<Divergence> divergence() {
    return Optional.ofNullable(first);
  }

  /** Whether a replayed module failed (no more batches can be replayed). */
  public boolean failed() {
    return failed;
  }

  /** Number of recorded events that matched an event produced by the replay. */
  public long matchedEvents() {
    return matched;
  }

  /** Number of recorded events accepted as coming from outside the node. */
  public long externalEvents() {
    return external;
  }

  /** Types of recorded payloads the modules' registry did not know (passed on as dynamic). */
  public Set<String> undecodableTypes() {
    return Set.copyOf(undecodableTypes);
  }

  /**
   * Events the replay produced that the log never showed arriving, by destination (the node may
   * have stopped before processing them, or they are the trace of a divergence).
   */
  public Map<ModuleId, List<Event>> unconsumed() {
    Map<ModuleId, List<Event>> out = new LinkedHashMap<>();
    predictions.forEach(
        (dest, byProducer) -> {
          List<Event> l = new ArrayList<>();
          byProducer.values().forEach(q -> q.forEach(p -> l.add(p.event())));
          if (!l.isEmpty()) {
            out.put(dest, l);
          }
        });
    return out;
  }

  /**
   * Checks and replays one recorded batch.
   *
   * @throws IllegalStateException if a replayed module has failed before
   */
  public Step apply(RecordedEntry entry) {
    if (failed) {
      throw new IllegalStateException("a replayed module failed; the replay cannot go on");
    }
    long firstIndex = nextIndex;
    nextIndex += entry.events().size();
    ModuleId module = entry.moduleId();
    List<Checked> checked = new ArrayList<>(entry.events().size());
    EventList followUps = EventList.empty();
    Divergence found = null;
    EventList input = EventList.withCapacity(entry.events().size());
    for (int i = 0; i < entry.events().size(); i++) {
      RecordedEvent re = entry.events().get(i);
      long index = firstIndex + i;
      Event ev = re.toEvent();
      if (ev.payload() instanceof DynamicMessage) {
        undecodableTypes.add(re.typeName());
      }
      input.add(ev);
      Verdict v = check(index, module, re, ev);
      if (v.divergence != null) {
        if (found == null) {
          found = v.divergence;
        }
        checked.add(new Checked(index, re, "DIVERGED"));
      } else {
        checked.add(new Checked(index, re, v.text));
        if (v.followUps != null) {
          followUps.addAll(v.followUps);
        }
      }
      observeTimer(ev);
      if (ev.payload() instanceof Init) {
        initialized.add(ev.destination().top());
      }
    }
    EventList produced = EventList.empty().addAll(followUps);
    boolean isReplayed = replayed.contains(module);
    if (isReplayed) {
      try {
        debugger.inject(input);
        Optional<Debugger.BatchStep> s = debugger.stepBatch(input.size());
        if (s.isEmpty()) {
          // The node dropped every event: received messages for a module that, as built by the
          // module set, does not take messages from peers.
          throw new IllegalStateException(
              "the node did not hand the batch to module "
                  + module
                  + " (does it declare receivesMessages()?)");
        }
        produced.addAll(s.get().produced());
      } catch (RuntimeException e) {
        failed = true;
        Throwable cause = e.getCause() != null ? e.getCause() : e;
        Set<String> dynamic = new java.util.TreeSet<>();
        input.forEach(
            ev -> {
              if (ev.payload() instanceof DynamicMessage) {
                dynamic.add(ev.payload().getDescriptorForType().getFullName());
              }
            });
        Divergence d =
            new Divergence(
                Divergence.Kind.FAILED,
                firstIndex,
                module,
                Optional.of(module),
                firstIndex,
                "the module applies the batch",
                cause
                    + (dynamic.isEmpty()
                        ? ""
                        : " (the module set does not declare the payload types "
                            + dynamic
                            + ", so they reached the module as dynamic messages)"));
        if (found == null) {
          found = d;
        }
      }
    }
    predict(produced, module, firstIndex);
    if (found != null && first == null) {
      first = found;
    }
    return new Step(firstIndex, entry, isReplayed, produced, checked, Optional.ofNullable(found));
  }

  private record Verdict(String text, List<Event> followUps, Divergence divergence) {}

  private Verdict check(long index, ModuleId module, RecordedEvent re, Event ev) {
    ModuleId dest = ev.destination().top();
    Map<ModuleId, ArrayDeque<Prediction>> queues = predictions.getOrDefault(dest, Map.of());
    // 1. The front of one producer's queue.
    for (Map.Entry<ModuleId, ArrayDeque<Prediction>> q : queues.entrySet()) {
      Prediction p = q.getValue().peekFirst();
      if (p != null && same(p.event(), ev)) {
        q.getValue().removeFirst();
        matched++;
        return new Verdict("produced by " + p.producer(), p.event().followUps(), null);
      }
    }
    // 2. Input from outside the node.
    String why = externalReason(dest, ev);
    if (why != null) {
      external++;
      return new Verdict("external: " + why, consumeScheduled(dest, ev), null);
    }
    // 3. Further back in a queue: what is in front of it was produced but not recorded.
    for (ArrayDeque<Prediction> q : queues.values()) {
      for (Prediction p : q) {
        if (same(p.event(), ev)) {
          Prediction front = q.peekFirst();
          return new Verdict(
              null,
              null,
              new Divergence(
                  Divergence.Kind.MISSING,
                  index,
                  dest,
                  Optional.of(front.producer()),
                  front.producedAt(),
                  describe(re),
                  describe(front.event().stripped())
                      + " (produced before it, but not in the recording)"));
        }
      }
    }
    // 4. Not produced at all: show the closest candidate (a front of the same type).
    Prediction candidate = null;
    for (ArrayDeque<Prediction> q : queues.values()) {
      Prediction p = q.peekFirst();
      if (p != null
          && (candidate == null
              || p.event().payload().getDescriptorForType().getFullName().equals(re.typeName()))) {
        candidate = p;
      }
    }
    return new Verdict(
        null,
        null,
        new Divergence(
            Divergence.Kind.UNEXPECTED,
            index,
            dest,
            candidate == null ? Optional.empty() : Optional.of(candidate.producer()),
            candidate == null ? -1 : candidate.producedAt(),
            describe(re),
            candidate == null
                ? "nothing (no replayed module produced an event for "
                    + dest
                    + "; if it comes from outside the node, declare its type with --external "
                    + re.typeName()
                    + ")"
                : describe(candidate.event().stripped())));
  }

  private String externalReason(ModuleId dest, Event ev) {
    Message payload = ev.payload();
    if (payload instanceof Init) {
      return "node start";
    }
    if (payload instanceof MessageReceived m) {
      return "message from node " + m.getFrom();
    }
    for (Scheduled s : scheduled.getOrDefault(dest, List.of())) {
      if (same(s.event(), ev)) {
        return "timer";
      }
    }
    if (!initialized.contains(dest)) {
      return "before Init (write-ahead log)";
    }
    if (externalTypes.contains(payload.getDescriptorForType().getFullName())) {
      return "declared external input";
    }
    return null;
  }

  /** Removes a matched one-shot timer event; returns the follow-ups of the scheduled event. */
  private List<Event> consumeScheduled(ModuleId dest, Event ev) {
    List<Scheduled> l = scheduled.get(dest);
    if (l == null) {
      return List.of();
    }
    for (Iterator<Scheduled> it = l.iterator(); it.hasNext(); ) {
      Scheduled s = it.next();
      if (same(s.event(), ev)) {
        if (!s.repeating()) {
          it.remove();
        }
        return s.event().followUps();
      }
    }
    return List.of();
  }

  /** Remembers what a timer request will deliver (whatever module handles it). */
  private void observeTimer(Event ev) {
    switch (ev.payload()) {
      case TimerDelay d -> schedule(d.getEventsList(), false, 0);
      case TimerRepeat r -> schedule(r.getEventsList(), true, r.getRetentionIndex());
      case TimerGarbageCollect g ->
          scheduled
              .values()
              .forEach(
                  l ->
                      l.removeIf(s -> s.repeating() && s.retentionIndex() < g.getRetentionIndex()));
      default -> {}
    }
  }

  private void schedule(List<EventRecord> records, boolean repeating, long retentionIndex) {
    for (EventRecord r : records) {
      DecodeResult<Event> d = codec.fromRecord(r);
      if (d.isOk()) {
        Event e = d.orElseThrow();
        scheduled
            .computeIfAbsent(e.destination().top(), k -> new ArrayList<>())
            .add(new Scheduled(e, repeating, retentionIndex));
      }
    }
  }

  private void predict(EventList produced, ModuleId producer, long producedAt) {
    for (Event e : produced) {
      learnTypes(e);
      predictions
          .computeIfAbsent(e.destination().top(), k -> new LinkedHashMap<>())
          .computeIfAbsent(producer, k -> new ArrayDeque<>())
          .addLast(new Prediction(e, producer, producedAt));
    }
  }

  /**
   * Registers the payload types of a produced event, so that later recorded events of these types
   * are decoded into the classes the modules use even if the module set did not declare them.
   */
  private void learnTypes(Event e) {
    if (!(e.payload() instanceof DynamicMessage)) {
      registry.register(e.payload());
    }
    for (Event f : e.followUps()) {
      learnTypes(f);
    }
  }

  /** Whether a produced event, stripped of its follow-ups, is the recorded one. */
  static boolean same(Event produced, Event recorded) {
    if (!produced.destination().equals(recorded.destination())) {
      return false;
    }
    Message a = produced.payload();
    Message b = recorded.payload();
    if (!a.getDescriptorForType().getFullName().equals(b.getDescriptorForType().getFullName())) {
      return false;
    }
    if (a.getClass() == b.getClass()) {
      return a.equals(b);
    }
    if (a.toByteString().equals(b.toByteString())) {
      return true;
    }
    // Same type, one generated and one dynamic: compare as the generated class.
    Message generated = a instanceof DynamicMessage ? b : a;
    Message other = a instanceof DynamicMessage ? a : b;
    if (generated instanceof DynamicMessage) {
      return false;
    }
    try {
      return generated.getParserForType().parseFrom(other.toByteString()).equals(generated);
    } catch (InvalidProtocolBufferException e) {
      return false;
    }
  }

  private String describe(RecordedEvent re) {
    return describe(re.toEvent());
  }

  /**
   * One line: destination, payload type and fields (with {@code Any} fields expanded when the
   * modules' registry knows their type), follow-ups. Long texts are cut.
   */
  public String describe(Event e) {
    StringBuilder sb = new StringBuilder();
    sb.append(e.destination())
        .append(" <- ")
        .append(e.payload().getDescriptorForType().getFullName())
        .append('{')
        .append(printer.printToString(e.payload()).trim())
        .append('}');
    if (e.hasFollowUps()) {
      sb.append(" then [");
      for (int i = 0; i < e.followUps().size(); i++) {
        sb.append(i > 0 ? ", " : "").append(describe(e.followUps().get(i)));
      }
      sb.append(']');
    }
    return sb.length() > 2000 ? sb.substring(0, 2000) + "..." : sb.toString();
  }

  /** Stops the replay node. */
  @Override
  public void close() {
    debugger.close();
  }

  /** The node the modules run in. */
  public Node node() {
    return node;
  }
}
