package io.github.mirframework.dsl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import io.github.mirframework.dsl.testpb.SignResult;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.pb.MessageReceived;
import io.github.mirframework.event.pb.NetMessage;
import io.github.mirframework.event.pb.Origin;
import io.github.mirframework.event.pb.SendMessage;
import io.github.mirframework.event.pb.TestingString;
import io.github.mirframework.event.pb.TestingUint;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The DSL features Mir's tests do not cover: messages, ignoring, origins, error handling. */
class DslModuleFeaturesTest {
  private static final ModuleId SELF = ModuleId.of("self");
  private static final ModuleId OUT = ModuleId.of("out");
  private static final ModuleId NET = ModuleId.of("net");
  private static final NodeId PEER = NodeId.of("1");

  private static Event received(String from, NetMessage msg) {
    return Event.of(SELF, MessageReceived.newBuilder().setFrom(from).setMsg(msg).build());
  }

  private static NetMessage net(com.google.protobuf.Message payload) {
    return Events.netMessage(SELF, payload);
  }

  private static TestingString str(String s) {
    return TestingString.newBuilder().setValue(s).build();
  }

  @Test
  void messagesAreDispatchedByPayloadTypeToAllTheirHandlersInOrder() throws Exception {
    DslModule m = new DslModule(SELF);
    List<String> seen = new ArrayList<>();
    m.uponMessage(TestingString.class, (from, msg) -> seen.add("a " + from + " " + msg.getValue()));
    m.uponMessage(TestingUint.class, (from, msg) -> seen.add("u " + from + " " + msg.getValue()));
    m.uponMessage(TestingString.class, (from, msg) -> seen.add("b " + from + " " + msg.getValue()));

    m.applyEvents(
        EventList.of(
            Events.messageReceived(PEER, net(str("x"))),
            Events.messageReceived(PEER, net(TestingUint.newBuilder().setValue(7).build()))));

    assertThat(seen).containsExactly("a 1 x", "b 1 x", "u 1 7");
    assertThat(m.droppedMessages()).isZero();
  }

  @Test
  void untrustedMessagesThatCannotBeHandledAreDroppedAndCountedNeverAnError() throws Exception {
    DslModule m = new DslModule(SELF);
    List<String> seen = new ArrayList<>();
    m.uponMessage(TestingString.class, (from, msg) -> seen.add(msg.getValue()));

    NetMessage unknownType = net(TestingUint.newBuilder().setValue(1).build());
    NetMessage garbage =
        NetMessage.newBuilder()
            .setDestModule(SELF.value())
            .setPayload(
                Any.newBuilder()
                    .setTypeUrl("type.googleapis.com/mir.core.TestingString")
                    .setValue(ByteString.copyFrom(new byte[] {(byte) 0xff, 0x01})))
            .build();
    NetMessage noPayload = NetMessage.newBuilder().setDestModule(SELF.value()).build();

    EventList out =
        m.applyEvents(
            EventList.of(
                received("1", unknownType),
                received("1", garbage),
                received("1", noPayload),
                received("", net(str("bad sender"))),
                received("has space", net(str("bad sender"))),
                received("1", net(str("ok")))));

    assertThat(out.isEmpty()).isTrue();
    assertThat(seen).containsExactly("ok");
    assertThat(m.droppedMessages()).isEqualTo(5);
  }

  @Test
  void aModuleWithoutMessageHandlersDropsReceivedMessages() throws Exception {
    DslModule m = new DslModule(SELF);
    m.applyEvents(EventList.of(Events.messageReceived(PEER, net(str("x")))));
    assertThat(m.droppedMessages()).isEqualTo(1);
  }

  @Test
  void initIsAcceptedByDefaultAndUponInitRunsTheHandler() throws Exception {
    assertThat(new DslModule(SELF).applyEvents(EventList.of(Events.init(SELF))).isEmpty()).isTrue();

    DslModule m = new DslModule(SELF);
    m.uponInit(() -> m.emit(Events.testingString(OUT, "started")));
    assertThat(m.applyEvents(EventList.of(Events.init(SELF))).toList())
        .containsExactly(Events.testingString(OUT, "started"));
  }

  @Test
  void ignoredTypesAreAcceptedOtherUnhandledTypesAreErrors() throws Exception {
    DslModule m = new DslModule(SELF).ignore(TestingUint.class);
    assertThat(m.applyEvents(EventList.of(Events.testingUint(SELF, 1))).isEmpty()).isTrue();
    assertThatThrownBy(() -> m.applyEvents(EventList.of(Events.testingString(SELF, "x"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("unknown event type 'mir.core.TestingString'");
  }

  @Test
  void uponOtherEventReceivesEverythingWithoutAHandler() throws Exception {
    DslModule m = new DslModule(SELF);
    List<String> other = new ArrayList<>();
    m.upon(TestingUint.class, u -> {});
    m.uponOtherEvent((event, payload) -> other.add(event.typeName()));
    m.applyEvents(
        EventList.of(
            Events.init(SELF),
            Events.testingUint(SELF, 1),
            Events.testingString(SELF, "x"),
            Events.messageReceived(PEER, net(str("y")))));
    assertThat(other).containsExactly("Init", "TestingString", "MessageReceived");
  }

  @Test
  void uponEventSeesTheWholeEvent() throws Exception {
    DslModule m = new DslModule(SELF);
    List<Event> seen = new ArrayList<>();
    m.uponEvent(
        TestingString.class,
        (event, payload) -> {
          assertThat(event.payload()).isSameAs(payload);
          seen.add(event);
        });
    Event e = Events.testingString(SELF, "x").withFollowUp(Events.testingUint(OUT, 1));
    m.applyEvents(EventList.of(e));
    assertThat(seen).containsExactly(e);
  }

  @Test
  void conditionsRunAfterEveryBatchEvenAnEmptyOneInRegistrationOrder() throws Exception {
    DslModule m = new DslModule(SELF);
    m.uponCondition(() -> m.emit(Events.testingUint(OUT, 1)));
    m.uponCondition(() -> m.emit(Events.testingUint(OUT, 2)));
    assertThat(m.applyEvents(EventList.empty()).toList())
        .containsExactly(Events.testingUint(OUT, 1), Events.testingUint(OUT, 2));
  }

  @Test
  void checkedExceptionsFromHandlersPropagateUnchanged() {
    DslModule m = new DslModule(SELF);
    IOException boom = new IOException("boom");
    m.upon(
        TestingString.class,
        s -> {
          throw boom;
        });
    assertThatThrownBy(() -> m.applyEvents(EventList.of(Events.testingString(SELF, "x"))))
        .isSameAs(boom);
  }

  @Test
  void originNamesThisModuleAndAFreshContextId() {
    DslModule m = new DslModule(ModuleId.of("factory/sub"));
    Origin first = m.origin("a");
    Origin second = m.origin("b");
    assertThat(first.getModule()).isEqualTo("factory/sub");
    assertThat(first.getContextCase()).isEqualTo(Origin.ContextCase.DSL_CONTEXT_ID);
    assertThat(first.getDslContextId()).isZero();
    assertThat(second.getDslContextId()).isEqualTo(1);
    assertThat(m.storedContexts()).isEqualTo(2);
  }

  private record CtxA(String v) {}

  private record CtxB(String v) {}

  @Test
  void responsesReachOnlyTheHandlerOfTheirContextClassAndTheContextIsThenDisposed()
      throws Exception {
    DslModule m = new DslModule(SELF);
    List<String> seen = new ArrayList<>();
    m.uponResponse(SignResult.class, SignResult::getOrigin, CtxA.class, (r, c) -> seen.add("A"));
    m.uponResponse(SignResult.class, SignResult::getOrigin, CtxB.class, (r, c) -> seen.add("B"));
    Origin a = m.origin(new CtxA("x"));
    Origin b = m.origin(new CtxB("y"));

    m.applyEvents(
        EventList.of(
            Event.of(SELF, SignResult.newBuilder().setOrigin(b).build()),
            Event.of(SELF, SignResult.newBuilder().setOrigin(a).build())));

    assertThat(seen).containsExactly("B", "A");
    assertThat(m.storedContexts()).isZero();
  }

  @Test
  void responsesWithoutADslOriginOfThisModuleAreIgnored() throws Exception {
    DslModule m = new DslModule(SELF);
    List<String> seen = new ArrayList<>();
    m.uponResponse(SignResult.class, SignResult::getOrigin, String.class, (r, c) -> seen.add(c));
    Origin mine = m.origin("ctx");
    Origin otherModule = mine.toBuilder().setModule("other").build();
    Origin contextStoreOrigin =
        Origin.newBuilder().setModule(SELF.value()).setContextStoreItem(0).build();

    m.applyEvents(
        EventList.of(
            Event.of(SELF, SignResult.newBuilder().setOrigin(otherModule).build()),
            Event.of(SELF, SignResult.newBuilder().setOrigin(contextStoreOrigin).build()),
            Event.of(SELF, SignResult.getDefaultInstance())));

    assertThat(seen).isEmpty();
    assertThat(m.storedContexts()).isEqualTo(1);
  }

  @Test
  void recoverAndRetainKeepsTheContextAcrossBatches() throws Exception {
    DslModule m = new DslModule(SELF);
    long id = m.storeContext("kept");
    m.upon(TestingString.class, s -> assertThat(m.recoverAndRetainContext(id)).isEqualTo("kept"));
    m.applyEvents(EventList.of(Events.testingString(SELF, "1")));
    m.applyEvents(EventList.of(Events.testingString(SELF, "2")));
    assertThat(m.storedContexts()).isEqualTo(1);
  }

  @Test
  void sendMessageEmitsASendMessageEventForTheTransport() throws Exception {
    DslModule m = new DslModule(SELF);
    m.upon(
        TestingString.class,
        s -> m.sendMessage(NET, SELF, s, List.of(NodeId.of("0"), NodeId.of("2"))));
    EventList out = m.applyEvents(EventList.of(Events.testingString(SELF, "hi")));
    assertThat(out.size()).isEqualTo(1);
    assertThat(out.get(0).destination()).isEqualTo(NET);
    SendMessage sm = out.get(0).payload(SendMessage.class);
    assertThat(sm.getDestinationsList()).containsExactly("0", "2");
    assertThat(sm.getMsg()).isEqualTo(Events.netMessage(SELF, str("hi")));
  }
}
