package io.github.mirframework.tools.mircat;

import com.google.protobuf.Message;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The factory hook of {@code mircat --debug}: builds, for one node, the real modules whose recorded
 * input is replayed.
 *
 * <p>The replay hands every module returned by {@link #create} the batches of events it was given
 * when the log was recorded, in the same order and with the same batch boundaries, and checks that
 * what the modules produce is what the log shows arriving next. Every module of the log that the
 * factory does not return (typically the transport, the timer, the WAL, a console or an application
 * that prints) is a <em>boundary</em>: the events addressed to it are still checked, but it is not
 * run, and what it produced in the recorded run is taken from the log. Only passive modules can be
 * replayed, since active ones act on the world (open sockets, start threads).
 *
 * <p>Implementations are found in three ways: the built-ins ({@code pingpong}, {@code bcb}), any
 * implementation listed in a {@code
 * META-INF/services/io.github.mirframework.tools.mircat.ReplayModules} file on the class path (by
 * {@link #name()}), and a fully qualified class name with a public no-argument constructor given to
 * {@code --modules}.
 *
 * <p>Modules must be built exactly as the recorded node built them (same parameters, same initial
 * state): a difference shows as a divergence. Parameters that a recording does not carry can be
 * passed on the command line ({@code -P key=value}, see {@link ReplaySetup#param}).
 */
public interface ReplayModules {

  /** The name to select these modules with ({@code --modules NAME}). */
  String name();

  /** One line saying what is replayed and which parameters ({@code -P}) are understood. */
  String description();

  /**
   * Builds the modules of node {@code setup.self()} to replay, under their top-level IDs. Called
   * once per replay.
   *
   * @throws IllegalArgumentException if a parameter is missing or invalid (the message is shown to
   *     the user)
   */
  Map<ModuleId, PassiveModule> create(ReplaySetup setup);

  /**
   * The payload types the modules use (their default instances), so that recorded payloads are
   * decoded into the generated classes the modules expect. mir-core's own types are always known.
   */
  List<Message> payloadTypes();

  /**
   * The members of the deployment the module set was recorded in, if it has a fixed one (like the
   * samples); empty if it depends on the run. {@code mircat} uses this when no {@code --node-id} is
   * given, and otherwise the nodes the log mentions (which may miss some).
   */
  default List<NodeId> defaultMembership() {
    return List.of();
  }

  /**
   * Full protobuf names of event types that enter the node from outside rather than from one of its
   * modules: injected by the application (e.g. a client request), or produced by an active module
   * other than the transport and the timer. The replay cannot predict such events and accepts them
   * where the log shows them. Received messages, {@code Init}, events scheduled through the timer
   * and events replayed from the write-ahead log before {@code Init} are always accepted.
   */
  default Set<String> externalInputTypes() {
    return Set.of();
  }

  /**
   * What a replay knows about the node.
   *
   * @param self the node whose log is replayed
   * @param membership every node of the recorded deployment, in order
   * @param params parameters from the command line ({@code -P key=value})
   */
  record ReplaySetup(NodeId self, List<NodeId> membership, Map<String, String> params) {
    /** Validates and copies the arguments. */
    public ReplaySetup {
      Objects.requireNonNull(self, "self");
      membership = List.copyOf(membership);
      params = Map.copyOf(params);
    }

    /** The parameter {@code key}, or {@code fallback} if it was not given. */
    public String param(String key, String fallback) {
      return params.getOrDefault(key, fallback);
    }

    /**
     * The parameter {@code key} as a number, or {@code fallback}.
     *
     * @throws IllegalArgumentException if it is not a number
     */
    public long longParam(String key, long fallback) {
      String v = params.get(key);
      if (v == null) {
        return fallback;
      }
      try {
        return Long.parseLong(v.trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "parameter " + key + " must be a number, got '" + v + "'");
      }
    }
  }
}
