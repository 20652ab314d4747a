package io.github.mirframework.iss.pbft;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.github.mirframework.crypto.CryptoEvents;
import io.github.mirframework.crypto.pb.HashData;
import io.github.mirframework.crypto.pb.HashResult;
import io.github.mirframework.crypto.pb.NodeSigsVerified;
import io.github.mirframework.crypto.pb.SigVerItem;
import io.github.mirframework.crypto.pb.SignResult;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.NetMessages;
import io.github.mirframework.event.pb.Init;
import io.github.mirframework.event.pb.MessageReceived;
import io.github.mirframework.event.pb.Origin;
import io.github.mirframework.iss.pbft.pb.PbftEvent;
import io.github.mirframework.iss.pbft.pb.PbftHashOrigin;
import io.github.mirframework.iss.pbft.pb.PbftMessage;
import io.github.mirframework.iss.pbft.pb.PbftSigVerOrigin;
import io.github.mirframework.iss.pbft.pb.PbftSignOrigin;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import io.github.mirframework.types.RetentionIndex;
import io.github.mirframework.types.SeqNr;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * A test module hosting one {@link PbftOrderer} for a single segment, standing in for ISS: it
 * implements {@link OrdererContext} with real events to the hasher, crypto, timer, WAL and
 * transport modules of the node, answers certificate requests itself with fake certificates, and
 * records what the orderer delivers.
 */
final class OrdererHost implements PassiveModule, OrdererContext {
  @Override
  public boolean receivesMessages() {
    return true;
  }

  static final ModuleId SELF = ModuleId.of("pbft");
  static final ModuleId NET = ModuleId.of("net");
  static final ModuleId HASHER = ModuleId.of("hasher");
  static final ModuleId CRYPTO = ModuleId.of("crypto");
  static final ModuleId TIMER = ModuleId.of("timer");
  static final ModuleId WAL = ModuleId.of("wal");

  /** What was delivered for one sequence number. */
  record Delivery(ByteString certData, boolean aborted) {}

  final NodeId self;
  final PbftOrderer orderer;
  final Map<SeqNr, Delivery> delivered = new TreeMap<>();
  final List<String> problems = new ArrayList<>();
  private final UnaryOperator<List<Event>> outFilter;
  private EventList out;
  private int certs;
  private String certSuffix = "";

  OrdererHost(NodeId self, Segment segment, PbftParams params) {
    this(self, segment, params, l -> l);
  }

  /** A host whose outgoing events pass through {@code outFilter} (to script Byzantine nodes). */
  OrdererHost(
      NodeId self, Segment segment, PbftParams params, UnaryOperator<List<Event>> outFilter) {
    this.self = self;
    this.orderer = new PbftOrderer(self, segment, params, this);
    this.outFilter = outFilter;
  }

  /**
   * Appends {@code suffix} to the certificates this host makes (e.g. to tell incarnations apart).
   */
  OrdererHost withCertSuffix(String suffix) {
    this.certSuffix = suffix;
    return this;
  }

  @Override
  public EventList applyEvents(EventList events) throws InvalidProtocolBufferException {
    out = EventList.empty();
    for (Event e : events) {
      switch (e.payload()) {
        case Init i -> orderer.apply(PbftEvents.init());
        case MessageReceived m -> {
          var msg = NetMessages.unpack(m.getMsg(), PbftMessage.class);
          if (msg.isPresent()) {
            orderer.apply(PbftEvents.messageReceived(m.getFrom(), msg.get()));
          }
        }
        case HashResult r ->
            orderer.apply(
                PbftEvents.hashResult(
                    r.getDigestsList(), custom(r.getOrigin(), PbftHashOrigin.class)));
        case SignResult r ->
            orderer.apply(
                PbftEvents.signResult(
                    r.getSignature(), custom(r.getOrigin(), PbftSignOrigin.class)));
        case NodeSigsVerified r ->
            orderer.apply(
                PbftEvents.nodeSigsVerified(r, custom(r.getOrigin(), PbftSigVerOrigin.class)));
        case PbftEvent p -> orderer.apply(p);
        default -> throw new IllegalArgumentException("unexpected " + e.typeName());
      }
    }
    EventList result = EventList.empty();
    for (Event e : outFilter.apply(out.toList())) {
      result.add(e);
    }
    return result;
  }

  private static <T extends com.google.protobuf.Message> T custom(Origin o, Class<T> type)
      throws InvalidProtocolBufferException {
    return o.getCustom().unpack(type);
  }

  // --- OrdererContext

  @Override
  public void sendMessage(PbftMessage msg, List<NodeId> destinations) {
    out.add(Events.sendMessage(NET, SELF, msg, destinations));
  }

  @Override
  public void hashRequest(List<HashData> data, PbftHashOrigin origin) {
    out.add(CryptoEvents.hashRequest(HASHER, data, CryptoEvents.customOrigin(SELF, origin)));
  }

  @Override
  public void signRequest(List<ByteString> data, PbftSignOrigin origin) {
    out.add(CryptoEvents.signRequest(CRYPTO, data, CryptoEvents.customOrigin(SELF, origin)));
  }

  @Override
  public void verifyNodeSigs(List<SigVerItem> items, PbftSigVerOrigin origin) {
    out.add(CryptoEvents.verifyNodeSigs(CRYPTO, items, CryptoEvents.customOrigin(SELF, origin)));
  }

  @Override
  public void walAppend(PbftEvent entry, Consumer<OrdererContext> afterPersisted) {
    EventList outer = out;
    out = EventList.empty();
    afterPersisted.accept(this);
    List<Event> followUps = out.toList();
    out = outer;
    out.add(
        Events.walAppend(
                WAL, Event.of(SELF, entry), RetentionIndex.of(orderer.segment().epoch().value()))
            .withFollowUps(followUps));
  }

  @Override
  public void timerDelay(Duration delay, PbftEvent event) {
    out.add(Events.timerDelay(TIMER, List.of(Event.of(SELF, event)), delay));
  }

  @Override
  public void timerRepeat(Duration period, PbftEvent event) {
    out.add(
        Events.timerRepeat(
            TIMER,
            List.of(Event.of(SELF, event)),
            period,
            RetentionIndex.of(orderer.segment().epoch().value())));
  }

  @Override
  public void requestCert() {
    certs++;
    out.add(
        Event.of(
            SELF,
            PbftEvents.certReady(
                ByteString.copyFromUtf8("cert " + certs + " of node " + self + certSuffix))));
  }

  @Override
  public void deliver(SeqNr sn, ByteString certData, boolean aborted) {
    Delivery d = new Delivery(certData, aborted);
    if (delivered.put(sn, d) != null) {
      problems.add("sn " + sn + " delivered twice");
    }
    if (aborted && !certData.isEmpty()) {
      problems.add("sn " + sn + " aborted with data");
    }
  }
}
