package io.github.mirframework.samples.chatdemo;

import com.google.protobuf.ByteString;
import io.github.mirframework.checkpoint.pb.StableCheckpoint;
import io.github.mirframework.client.ClientRegistry;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.trantor.Trantor;
import io.github.mirframework.trantor.TrantorSystem;
import io.github.mirframework.types.NodeId;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * One chat replica: a {@link ChatApp} in a {@link TrantorSystem}, printing its lines prefixed with
 * {@code [<id>] }. Thread-safe.
 */
final class ChatReplica implements AutoCloseable {
  private final NodeId id;
  private final ChatApp app;
  private final TrantorSystem system;

  /**
   * Builds (does not start) a replica.
   *
   * @param wiring sets crypto, transport and request receiver on the builder
   * @param clients the chat clients whose signed requests the replica accepts (the same at every
   *     replica)
   * @param knownKeys the public keys of every node that may ever be a member
   * @param start the checkpoint to start from, or null for genesis
   * @param checkpointDir where to write stable checkpoints, or null
   * @param printer prints one line (thread-safe)
   * @param onApplied told about every applied request
   */
  static ChatReplica create(
      NodeId id,
      Trantor.Params params,
      ClientRegistry clients,
      Map<NodeId, ByteString> knownKeys,
      StableCheckpoint start,
      Path checkpointDir,
      Consumer<String> printer,
      Consumer<Request> onApplied,
      Wiring wiring)
      throws Exception {
    String prefix = "[" + id + "] ";
    ChatApp app =
        new ChatApp(
            id,
            params.iss().initialMembership(),
            knownKeys,
            line -> printer.accept(prefix + line),
            checkpointDir,
            onApplied);
    // Only signed requests of registered clients: refused at the request receiver, and left out
    // after ordering if a faulty replica proposes one anyway.
    TrantorSystem.Builder b = TrantorSystem.builder(id, app, params).clients(clients);
    wiring.wire(b);
    if (start != null) {
      b.startingCheckpoint(start);
    }
    return new ChatReplica(id, app, b.build());
  }

  /** Sets crypto, transport and request receiver. */
  interface Wiring {
    /** Configures {@code b}. */
    void wire(TrantorSystem.Builder b) throws Exception;
  }

  private ChatReplica(NodeId id, ChatApp app, TrantorSystem system) {
    this.id = Objects.requireNonNull(id);
    this.app = app;
    this.system = system;
  }

  void start() throws IOException {
    system.start();
  }

  NodeId id() {
    return id;
  }

  ChatApp app() {
    return app;
  }

  TrantorSystem system() {
    return system;
  }

  @Override
  public void close() {
    system.close();
  }
}
