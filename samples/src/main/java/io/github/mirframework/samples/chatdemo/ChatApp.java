package io.github.mirframework.samples.chatdemo;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.github.mirframework.checkpoint.pb.StableCheckpoint;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.net.Membership;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.samples.chatdemo.pb.ChatState;
import io.github.mirframework.samples.chatdemo.pb.KnownNode;
import io.github.mirframework.samples.chatdemo.pb.Member;
import io.github.mirframework.trantor.AppLogic;
import io.github.mirframework.types.EpochNr;
import io.github.mirframework.types.NodeId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The chat application (Mir's chat-demo {@code ChatApp}): its state is the chat history, to which
 * every ordered request appends one line, and the membership it decides. A line {@code Config:
 * add-node <id> <transport address>} or {@code Config: remove-node <id>} changes the membership
 * handed to the system at the next epoch (it takes effect {@code configOffset} epochs later).
 *
 * <p>Changes are checked against the membership decided so far, deterministically (every replica
 * decides the same): a malformed line, an unknown subcommand, an ID already in the membership, a
 * node whose key is not known (not in the membership file), an invalid address or one used by
 * another member, removing a node that is not a member, and removing the last node are refused, and
 * the refusal is recorded in the history. Nothing else changes.
 *
 * <p>Called by Trantor from one thread; {@link #history()} may be read from any thread.
 */
final class ChatApp implements AppLogic {
  /** What a configuration line starts with. */
  static final String CONFIG_PREFIX = "Config:";

  /** Longest history line kept, in characters; longer messages are cut (deterministically). */
  static final int MAX_LINE_CHARS = 1000;

  private final NodeId self;
  private final Consumer<String> out;
  private final Path checkpointDir;
  private final Consumer<Request> onApplied;
  private final List<String> history = new ArrayList<>();
  private final SortedMap<NodeId, NodeAddress> nextMembership = new TreeMap<>();
  private final SortedMap<NodeId, ByteString> knownKeys = new TreeMap<>();
  private Membership lastAnnounced;

  /**
   * @param self this replica (for messages)
   * @param initialMembership the genesis membership
   * @param knownKeys the public keys of all nodes that may ever be members
   * @param out where this replica's lines are printed (thread-safe)
   * @param checkpointDir where stable checkpoints are written, or null
   * @param onApplied told about every applied request (e.g. to know when own requests are done)
   */
  ChatApp(
      NodeId self,
      Membership initialMembership,
      Map<NodeId, ByteString> knownKeys,
      Consumer<String> out,
      Path checkpointDir,
      Consumer<Request> onApplied) {
    this.self = Objects.requireNonNull(self, "self");
    this.out = Objects.requireNonNull(out, "out");
    this.checkpointDir = checkpointDir;
    this.onApplied = onApplied == null ? r -> {} : onApplied;
    this.nextMembership.putAll(initialMembership.nodes());
    this.knownKeys.putAll(knownKeys);
    for (NodeId id : initialMembership.ids()) {
      if (!knownKeys.containsKey(id)) {
        throw new IllegalArgumentException("no key for initial member " + id);
      }
    }
    this.lastAnnounced = initialMembership;
  }

  @Override
  public void applyTxs(List<Request> txs) {
    for (Request r : txs) {
      String msg = printable(r.getData().toStringUtf8());
      append("Client " + printable(r.getClientId()) + ": " + msg);
      if (msg.startsWith(CONFIG_PREFIX)) {
        append("  -> " + applyConfig(msg.substring(CONFIG_PREFIX.length())));
      }
      onApplied.accept(r);
    }
  }

  private void append(String line) {
    synchronized (history) {
      history.add(line);
    }
    out.accept(line);
  }

  /** Applies a configuration line (after the prefix); returns what happened, for the history. */
  String applyConfig(String config) {
    String[] t = config.strip().split("\\s+");
    if (t.length == 0 || t[0].isEmpty()) {
      return "refused: empty configuration change";
    }
    switch (t[0]) {
      case "add-node" -> {
        if (t.length != 3) {
          return "refused: usage: Config: add-node <id> <transport host:port>";
        }
        NodeId id = NodeId.of(t[1]);
        NodeAddress addr;
        try {
          addr = NodeAddress.parse(t[2]);
        } catch (IllegalArgumentException e) {
          return "refused: bad address for node " + id + ": " + e.getMessage();
        }
        if (addr.port() == 0) {
          return "refused: bad address for node " + id + ": port 0";
        }
        if (nextMembership.containsKey(id)) {
          return "refused: node " + id + " is already a member";
        }
        if (!knownKeys.containsKey(id)) {
          return "refused: unknown node " + id + " (its key is not in the membership file)";
        }
        for (Map.Entry<NodeId, NodeAddress> e : nextMembership.entrySet()) {
          if (e.getValue().equals(addr)) {
            return "refused: address " + addr + " is used by node " + e.getKey();
          }
        }
        nextMembership.put(id, addr);
        return "accepted: node " + id + " (" + addr + ") joins; members will be " + members();
      }
      case "remove-node" -> {
        if (t.length != 2) {
          return "refused: usage: Config: remove-node <id>";
        }
        NodeId id = NodeId.of(t[1]);
        if (!nextMembership.containsKey(id)) {
          return "refused: node " + id + " is not a member";
        }
        if (nextMembership.size() == 1) {
          return "refused: cannot remove the last node";
        }
        nextMembership.remove(id);
        return "accepted: node " + id + " leaves; members will be " + members();
      }
      default -> {
        return "refused: unknown configuration change '" + t[0] + "' (use add-node or remove-node)";
      }
    }
  }

  private String members() {
    return String.join(" ", NodeId.strings(nextMembership.keySet()));
  }

  @Override
  public Membership newEpoch(EpochNr epoch) {
    Membership m = Membership.of(new TreeMap<>(nextMembership));
    if (!m.equals(lastAnnounced)) {
      out.accept(
          "(epoch "
              + epoch.value()
              + ": the membership changes to "
              + members()
              + (m.contains(self) ? "" : "; this replica is no longer a member")
              + ")");
      lastAnnounced = m;
    }
    return m;
  }

  @Override
  public ByteString snapshot() {
    ChatState.Builder b = ChatState.newBuilder();
    synchronized (history) {
      b.addAllHistory(history);
    }
    nextMembership.forEach(
        (id, a) ->
            b.addNextMembership(
                Member.newBuilder().setId(id.value()).setTransportAddress(a.toString())));
    knownKeys.forEach(
        (id, k) -> b.addKnownNodes(KnownNode.newBuilder().setId(id.value()).setPublicKey(k)));
    return b.build().toByteString();
  }

  @Override
  public void restoreState(StableCheckpoint checkpoint) {
    ChatState s;
    try {
      s = ChatState.parseFrom(checkpoint.getSnapshot().getAppData());
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException(
          "the checkpoint's application state is not a chat state", e);
    }
    SortedMap<NodeId, NodeAddress> members = new TreeMap<>();
    for (Member m : s.getNextMembershipList()) {
      members.put(NodeId.of(m.getId()), NodeAddress.parse(m.getTransportAddress()));
    }
    SortedMap<NodeId, ByteString> keys = new TreeMap<>();
    for (KnownNode k : s.getKnownNodesList()) {
      keys.put(NodeId.of(k.getId()), k.getPublicKey());
    }
    if (members.isEmpty()) {
      throw new IllegalArgumentException("the checkpoint's chat state has an empty membership");
    }
    boolean changed;
    synchronized (history) {
      changed = !history.equals(s.getHistoryList());
      history.clear();
      history.addAll(s.getHistoryList());
    }
    nextMembership.clear();
    nextMembership.putAll(members);
    knownKeys.clear();
    knownKeys.putAll(keys);
    lastAnnounced = Membership.of(new TreeMap<>(members));
    if (changed) {
      out.accept(
          RESTORED_MARK
              + " (checkpoint at sequence number "
              + checkpoint.getSn()
              + "); the whole chat history:");
      for (String line : s.getHistoryList()) {
        out.accept(line);
      }
    }
  }

  /** The first words of the line printed when the state was replaced by a checkpoint's. */
  static final String RESTORED_MARK = "CHAT STATE RESTORED";

  @Override
  public void checkpoint(StableCheckpoint checkpoint) throws Exception {
    if (checkpointDir == null) {
      return;
    }
    Files.createDirectories(checkpointDir);
    String name =
        String.format(
            "checkpoint-%04d-%05d",
            checkpoint.getSnapshot().getEpochData().getEpochConfig().getEpochNr(),
            checkpoint.getSn());
    Path file = checkpointDir.resolve(name);
    Path tmp = checkpointDir.resolve(name + ".tmp");
    Files.write(tmp, checkpoint.toByteArray());
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    out.accept("(wrote checkpoint " + file + ")");
  }

  /** A copy of the chat history. */
  List<String> history() {
    synchronized (history) {
      return List.copyOf(history);
    }
  }

  /** The membership decided so far (for tests). */
  Membership nextMembership() {
    return Membership.of(new TreeMap<>(nextMembership));
  }

  /**
   * The text with control characters (terminal escapes) replaced by '?' and cut to {@link
   * #MAX_LINE_CHARS}: chat lines come from untrusted clients.
   */
  static String printable(String s) {
    StringBuilder b = new StringBuilder(Math.min(s.length(), MAX_LINE_CHARS));
    for (int i = 0; i < s.length() && b.length() < MAX_LINE_CHARS; i++) {
      char c = s.charAt(i);
      b.append(Character.isISOControl(c) ? '?' : c);
    }
    return b.toString();
  }
}
