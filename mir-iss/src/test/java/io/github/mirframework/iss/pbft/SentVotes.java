package io.github.mirframework.iss.pbft;

import com.google.protobuf.ByteString;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.NetMessages;
import io.github.mirframework.event.pb.SendMessage;
import io.github.mirframework.iss.pb.SbMessage;
import io.github.mirframework.iss.pbft.pb.NewView;
import io.github.mirframework.iss.pbft.pb.PbftMessage;
import io.github.mirframework.iss.pbft.pb.Preprepare;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.types.NodeId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A safety monitor for tests: records the first Preprepare, Prepare, Commit, ViewChange and NewView
 * each node sends for each (epoch, instance, view, sequence number), across all its incarnations,
 * and reports any later message of the same kind and key with other contents: a node that sent two
 * conflicting votes (for example before and after a crash). Preprepares inside a NewView count as
 * Preprepares of its primary. Feed it by wrapping each node's transport with {@link #capturing}.
 * With {@link #persistedBeforeSent} it also reports messages a node sent before they were durable
 * in its WAL. Not thread-safe (for the single-threaded simulation).
 */
public final class SentVotes {
  private final Map<String, ByteString> first = new HashMap<>();
  private final List<String> conflicts = new ArrayList<>();
  private final Map<NodeId, CrashingWal.Counter> persistence = new HashMap<>();
  private long recorded;

  /**
   * The transport {@code inner} of {@code node}, recording the orderer messages it is asked to
   * send.
   */
  public PassiveModule capturing(NodeId node, PassiveModule inner) {
    return new PassiveModule() {
      @Override
      public boolean receivesMessages() {
        return inner.receivesMessages();
      }

      @Override
      public EventList applyEvents(EventList events) throws Exception {
        for (Event e : events) {
          if (e.payload() instanceof SendMessage s) {
            Optional<SbMessage> sb = NetMessages.unpack(s.getMsg(), SbMessage.class);
            if (sb.isPresent()) {
              sent(node, sb.get().getEpoch() + "/" + sb.get().getInstance(), sb.get().getMsg());
            } else {
              NetMessages.unpack(s.getMsg(), PbftMessage.class).ifPresent(m -> sent(node, "-", m));
            }
          }
        }
        return inner.applyEvents(events);
      }
    };
  }

  /**
   * Also checks that every Preprepare, Prepare, Commit, ViewChange and NewView that {@code node}
   * sends was persisted before, according to {@code counter} (the node's {@link CrashingWal}).
   */
  public SentVotes persistedBeforeSent(NodeId node, CrashingWal.Counter counter) {
    persistence.put(node, counter);
    return this;
  }

  /**
   * The keys of the votes in {@code m} of orderer {@code instance}, as "instance kind view [sn]" (a
   * NewView: its own key and those of its Preprepares).
   */
  public static List<String> keys(String instance, PbftMessage m) {
    String k = instance + " ";
    return switch (m.getTypeCase()) {
      case PREPREPARE -> List.of(ppKey(k, m.getPreprepare()));
      case PREPARE ->
          List.of(k + "Prepare v" + m.getPrepare().getView() + " sn" + m.getPrepare().getSn());
      case COMMIT ->
          List.of(k + "Commit v" + m.getCommit().getView() + " sn" + m.getCommit().getSn());
      case SIGNED_VIEW_CHANGE ->
          List.of(k + "ViewChange v" + m.getSignedViewChange().getViewChange().getView());
      case NEW_VIEW -> {
        List<String> out = new ArrayList<>();
        out.add(k + "NewView v" + m.getNewView().getView());
        for (Preprepare pp : m.getNewView().getPrepreparesList()) {
          out.add(ppKey(k, pp));
        }
        yield out;
      }
      default -> List.of();
    };
  }

  private static String ppKey(String k, Preprepare pp) {
    return k + "Preprepare v" + pp.getView() + " sn" + pp.getSn();
  }

  /** Records message {@code m} sent by {@code node} from orderer {@code instance}. */
  public void sent(NodeId node, String instance, PbftMessage m) {
    CrashingWal.Counter c = persistence.get(node);
    if (c != null) {
      for (String key : keys(instance, m)) {
        if (!c.persisted.contains(key)) {
          conflicts.add("node " + node + " sent " + key + " before persisting it");
        }
      }
    }
    String k = node + " " + instance + " ";
    switch (m.getTypeCase()) {
      case PREPREPARE -> preprepare(k, m.getPreprepare());
      case PREPARE ->
          check(
              k + "Prepare v" + m.getPrepare().getView() + " sn" + m.getPrepare().getSn(),
              m.getPrepare().getDigest());
      case COMMIT ->
          check(
              k + "Commit v" + m.getCommit().getView() + " sn" + m.getCommit().getSn(),
              m.getCommit().getDigest());
      case SIGNED_VIEW_CHANGE ->
          check(
              k + "ViewChange v" + m.getSignedViewChange().getViewChange().getView(),
              m.getSignedViewChange().getViewChange().toByteString());
      case NEW_VIEW -> {
        NewView nv = m.getNewView();
        check(k + "NewView v" + nv.getView(), nv.toByteString());
        for (Preprepare pp : nv.getPrepreparesList()) {
          preprepare(k, pp);
        }
      }
      default -> {}
    }
  }

  private void preprepare(String k, Preprepare pp) {
    check(
        k + "Preprepare v" + pp.getView() + " sn" + pp.getSn(),
        pp.toBuilder().clearView().build().toByteString());
  }

  private void check(String key, ByteString contents) {
    recorded++;
    ByteString before = first.putIfAbsent(key, contents);
    if (before != null && !before.equals(contents)) {
      conflicts.add(key + " sent with two different contents");
    }
  }

  /** The conflicts found so far (empty if none). */
  public List<String> conflicts() {
    return List.copyOf(conflicts);
  }

  /** How many messages were recorded. */
  public long recorded() {
    return recorded;
  }
}
