package io.github.mirframework.iss.pbft;

import com.google.protobuf.ByteString;
import io.github.mirframework.crypto.pb.HashData;
import io.github.mirframework.crypto.pb.SigVerItem;
import io.github.mirframework.iss.pbft.pb.PbftEvent;
import io.github.mirframework.iss.pbft.pb.PbftHashOrigin;
import io.github.mirframework.iss.pbft.pb.PbftMessage;
import io.github.mirframework.iss.pbft.pb.PbftSigVerOrigin;
import io.github.mirframework.iss.pbft.pb.PbftSignOrigin;
import io.github.mirframework.types.NodeId;
import io.github.mirframework.types.SeqNr;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** An {@link OrdererContext} that records every action, for unit tests. */
final class RecordingContext implements OrdererContext {
  sealed interface Action {}

  record Send(PbftMessage msg, List<NodeId> to) implements Action {}

  record Hash(List<HashData> data, PbftHashOrigin origin) implements Action {}

  record Sign(List<ByteString> data, PbftSignOrigin origin) implements Action {}

  record Verify(List<SigVerItem> items, PbftSigVerOrigin origin) implements Action {}

  record Wal(PbftEvent entry, List<Action> then) implements Action {}

  record Delay(Duration delay, PbftEvent event) implements Action {}

  record Repeat(Duration period, PbftEvent event) implements Action {}

  record CertRequest() implements Action {}

  record Deliver(SeqNr sn, ByteString certData, boolean aborted) implements Action {}

  private List<Action> actions = new ArrayList<>();

  /** Returns the actions recorded since the last call and forgets them. */
  List<Action> take() {
    List<Action> out = actions;
    actions = new ArrayList<>();
    return out;
  }

  /** The actions, with the follow-ups of WAL appends listed right after them. */
  static List<Action> flatten(List<Action> actions) {
    List<Action> out = new ArrayList<>();
    for (Action a : actions) {
      out.add(a);
      if (a instanceof Wal w) {
        out.addAll(flatten(w.then()));
      }
    }
    return out;
  }

  @Override
  public void sendMessage(PbftMessage msg, List<NodeId> destinations) {
    actions.add(new Send(msg, List.copyOf(destinations)));
  }

  @Override
  public void hashRequest(List<HashData> data, PbftHashOrigin origin) {
    actions.add(new Hash(List.copyOf(data), origin));
  }

  @Override
  public void signRequest(List<ByteString> data, PbftSignOrigin origin) {
    actions.add(new Sign(List.copyOf(data), origin));
  }

  @Override
  public void verifyNodeSigs(List<SigVerItem> items, PbftSigVerOrigin origin) {
    actions.add(new Verify(List.copyOf(items), origin));
  }

  @Override
  public void walAppend(PbftEvent entry, Consumer<OrdererContext> afterPersisted) {
    List<Action> outer = actions;
    actions = new ArrayList<>();
    afterPersisted.accept(this);
    List<Action> then = actions;
    actions = outer;
    actions.add(new Wal(entry, then));
  }

  @Override
  public void timerDelay(Duration delay, PbftEvent event) {
    actions.add(new Delay(delay, event));
  }

  @Override
  public void timerRepeat(Duration period, PbftEvent event) {
    actions.add(new Repeat(period, event));
  }

  @Override
  public void requestCert() {
    actions.add(new CertRequest());
  }

  @Override
  public void deliver(SeqNr sn, ByteString certData, boolean aborted) {
    actions.add(new Deliver(sn, certData, aborted));
  }
}
