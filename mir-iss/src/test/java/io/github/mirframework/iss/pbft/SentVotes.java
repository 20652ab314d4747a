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
 * Not thread-safe (for the single-threaded simulation).
 */
public final class SentVotes {
  private final Map<String, ByteString> first = new HashMap<>();
  private final List<String> conflicts = new ArrayList<>();
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

  /** Records message {@code m} sent by {@code node} from orderer {@code instance}. */
  public void sent(NodeId node, String instance, PbftMessage m) {
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
