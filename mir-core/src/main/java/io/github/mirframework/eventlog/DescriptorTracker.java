package io.github.mirframework.eventlog;

import com.google.protobuf.Any;
import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.PayloadRegistry;
import io.github.mirframework.event.pb.EventRecord;
import io.github.mirframework.event.pb.MessageReceived;
import io.github.mirframework.event.pb.NetMessage;
import io.github.mirframework.event.pb.SendMessage;
import io.github.mirframework.event.pb.TimerDelay;
import io.github.mirframework.event.pb.TimerRepeat;
import io.github.mirframework.event.pb.WalAppend;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Decides which .proto files a log file must describe before an entry, so that the file stays
 * self-describing.
 *
 * <p>Every event payload type is described. Besides, the {@code Any} fields of mir-core's own
 * messages (network messages, timer and WAL requests) are looked into: a type found there is
 * described if {@code anyTypes} knows it. Types nested in {@code Any} fields of other messages are
 * described only if they are also used as event payloads.
 *
 * <p>Not thread-safe: owned by the recorder's writer thread. {@link #reset()} starts over for a new
 * file.
 */
final class DescriptorTracker {
  /** How deep mir-core messages packed into each other are looked into. */
  private static final int MAX_ANY_DEPTH = 8;

  private final PayloadRegistry anyTypes;
  private final Set<String> describedFiles = new HashSet<>();
  private final Set<Descriptor> seenTypes = new HashSet<>();
  private final Set<String> seenTypeUrls = new HashSet<>();
  private final LinkedHashSet<FileDescriptor> pending = new LinkedHashSet<>();

  DescriptorTracker(PayloadRegistry anyTypes) {
    this.anyTypes = anyTypes;
  }

  /** Forgets what was described: the next file starts empty. */
  void reset() {
    describedFiles.clear();
    seenTypes.clear();
    seenTypeUrls.clear();
    pending.clear();
  }

  /** Notes the types used by {@code events} (and their follow-ups). */
  void collect(List<Event> events) {
    for (Event e : events) {
      collect(e);
    }
  }

  private void collect(Event event) {
    Message payload = event.payload();
    if (seenTypes.add(payload.getDescriptorForType())) {
      require(payload.getDescriptorForType().getFile());
    }
    lookIntoCoreMessage(payload, 0);
    for (Event f : event.followUps()) {
      collect(f);
    }
  }

  /**
   * Returns the descriptors still to be written for what was collected, dependencies before
   * dependants, and marks them as written; null if there are none.
   */
  FileDescriptorSet takePending() {
    if (pending.isEmpty()) {
      return null;
    }
    List<FileDescriptor> ordered = new ArrayList<>();
    for (FileDescriptor f : pending) {
      addInDependencyOrder(f, ordered);
    }
    pending.clear();
    if (ordered.isEmpty()) {
      return null;
    }
    FileDescriptorSet.Builder set = FileDescriptorSet.newBuilder();
    for (FileDescriptor f : ordered) {
      set.addFile(f.toProto());
    }
    return set.build();
  }

  private void require(FileDescriptor file) {
    if (!describedFiles.contains(file.getName())) {
      pending.add(file);
    }
  }

  private void addInDependencyOrder(FileDescriptor file, List<FileDescriptor> out) {
    if (!describedFiles.add(file.getName())) {
      return;
    }
    // Proto imports are acyclic, so the recursion ends; its depth is the length of the longest
    // import chain.
    for (FileDescriptor dep : file.getDependencies()) {
      addInDependencyOrder(dep, out);
    }
    out.add(file);
  }

  private void lookIntoCoreMessage(Message m, int depth) {
    if (depth > MAX_ANY_DEPTH) {
      return;
    }
    switch (m) {
      case SendMessage s -> lookIntoAny(s.getMsg().getPayload(), depth);
      case MessageReceived r -> lookIntoAny(r.getMsg().getPayload(), depth);
      case NetMessage n -> lookIntoAny(n.getPayload(), depth);
      case TimerDelay t -> t.getEventsList().forEach(r -> lookIntoRecord(r, depth));
      case TimerRepeat t -> t.getEventsList().forEach(r -> lookIntoRecord(r, depth));
      case WalAppend w -> lookIntoRecord(w.getEvent(), depth);
      case EventRecord r -> lookIntoRecord(r, depth);
      default -> {}
    }
  }

  private void lookIntoRecord(EventRecord record, int depth) {
    lookIntoAny(record.getPayload(), depth);
    for (EventRecord f : record.getFollowUpsList()) {
      lookIntoRecord(f, depth);
    }
  }

  private void lookIntoAny(Any any, int depth) {
    String url = any.getTypeUrl();
    if (url.isEmpty()) {
      return;
    }
    Message prototype = anyTypes.lookup(url).orElse(null);
    if (prototype == null) {
      return;
    }
    if (seenTypeUrls.add(url)) {
      require(prototype.getDescriptorForType().getFile());
    }
    if (isCoreContainer(prototype)) {
      try {
        lookIntoCoreMessage(prototype.getParserForType().parseFrom(any.getValue()), depth + 1);
      } catch (InvalidProtocolBufferException e) {
        // Not ours to judge: the bytes are recorded as they are, the reader shows them raw.
      }
    }
  }

  private static boolean isCoreContainer(Message prototype) {
    return prototype instanceof SendMessage
        || prototype instanceof MessageReceived
        || prototype instanceof NetMessage
        || prototype instanceof TimerDelay
        || prototype instanceof TimerRepeat
        || prototype instanceof WalAppend
        || prototype instanceof EventRecord;
  }
}
