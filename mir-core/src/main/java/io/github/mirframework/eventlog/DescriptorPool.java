package io.github.mirframework.eventlog;

import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.DescriptorValidationException;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.TypeRegistry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The types described by the descriptor records read so far. Not thread-safe: owned by one {@link
 * LogReader}.
 *
 * <p>A file described again (each file of a rotated series describes its own types) must be
 * described identically.
 */
final class DescriptorPool {
  private final Map<String, FileDescriptorProto> protos = new HashMap<>();
  private final Map<String, FileDescriptor> files = new HashMap<>();
  private final Map<String, Descriptor> messages = new HashMap<>();
  private TypeRegistry typeRegistry = TypeRegistry.getEmptyTypeRegistry();
  private boolean registryStale;

  /** Thrown when a descriptor record cannot be used; the message says why. */
  static final class BadDescriptorsException extends Exception {
    private static final long serialVersionUID = 1L;

    BadDescriptorsException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * Builds the files of {@code set}; those already known must be identical to what was read before.
   */
  void add(FileDescriptorSet set) throws BadDescriptorsException {
    List<FileDescriptorProto> waiting = new ArrayList<>();
    Map<String, FileDescriptorProto> inThisSet = new HashMap<>();
    for (FileDescriptorProto p : set.getFileList()) {
      FileDescriptorProto known = protos.get(p.getName());
      FileDescriptorProto twin = inThisSet.putIfAbsent(p.getName(), p);
      if (known != null || twin != null) {
        if (!p.equals(known != null ? known : twin)) {
          throw new BadDescriptorsException(
              "file '" + p.getName() + "' is described twice, differently", null);
        }
        continue;
      }
      waiting.add(p);
    }
    // Writers list dependencies first, but do not rely on it: build whatever has its imports, until
    // stuck.
    boolean progress = true;
    while (!waiting.isEmpty() && progress) {
      progress = false;
      for (int i = 0; i < waiting.size(); i++) {
        FileDescriptorProto p = waiting.get(i);
        FileDescriptor[] deps = dependenciesOf(p);
        if (deps != null) {
          build(p, deps);
          waiting.remove(i--);
          progress = true;
        }
      }
    }
    if (!waiting.isEmpty()) {
      FileDescriptorProto p = waiting.get(0);
      String missing =
          p.getDependencyList().stream().filter(d -> !files.containsKey(d)).findFirst().orElse("?");
      throw new BadDescriptorsException(
          "file '" + p.getName() + "' imports '" + missing + "', which the log does not describe",
          null);
    }
  }

  private FileDescriptor[] dependenciesOf(FileDescriptorProto p) {
    FileDescriptor[] deps = new FileDescriptor[p.getDependencyCount()];
    for (int i = 0; i < deps.length; i++) {
      deps[i] = files.get(p.getDependency(i));
      if (deps[i] == null) {
        return null;
      }
    }
    return deps;
  }

  private void build(FileDescriptorProto p, FileDescriptor[] deps) throws BadDescriptorsException {
    FileDescriptor file;
    try {
      file = FileDescriptor.buildFrom(p, deps);
    } catch (DescriptorValidationException | RuntimeException e) {
      throw new BadDescriptorsException(
          "invalid descriptor of file '" + p.getName() + "': " + e.getMessage(), e);
    }
    protos.put(p.getName(), p);
    files.put(p.getName(), file);
    for (Descriptor d : file.getMessageTypes()) {
      addMessage(d);
    }
    registryStale = true;
  }

  private void addMessage(Descriptor d) {
    messages.putIfAbsent(d.getFullName(), d);
    for (Descriptor nested : d.getNestedTypes()) {
      addMessage(nested);
    }
  }

  /** The message type with the given full name, or null if it was not described. */
  Descriptor find(String fullName) {
    return messages.get(fullName);
  }

  /**
   * A registry of every message type described so far, for expanding {@code Any} fields when
   * printing.
   */
  TypeRegistry typeRegistry() {
    if (registryStale) {
      typeRegistry = TypeRegistry.newBuilder().add(messages.values()).build();
      registryStale = false;
    }
    return typeRegistry;
  }
}
