package io.github.mirframework.factory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import ch.qos.logback.classic.Level;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.pb.Init;
import io.github.mirframework.event.pb.TestingString;
import io.github.mirframework.factory.testpb.EchoModuleParams;
import io.github.mirframework.module.Modules;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import io.github.mirframework.types.RetentionIndex;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** Port of Mir's TestFactoryModule (steps 00-07, in order, on one factory), plus more cases. */
class FactoryModuleTest {
  private static final ModuleId ECHO_FACTORY = ModuleId.of("echoFactory");

  /** Answers the factory with "<id> Init" and with prefix + text for each TestingString. */
  private record EchoModule(ModuleId id, String prefix) implements PassiveModule {
    @Override
    public EventList applyEvents(EventList events) throws Exception {
      return Modules.applyEventsSequentially(events, this::applyEvent);
    }

    private EventList applyEvent(Event event) {
      assertThat(event.destination()).isEqualTo(id);
      return switch (event.payload()) {
        case Init init -> EventList.of(Events.testingString(id.top(), id + " Init"));
        case TestingString s -> EventList.of(Events.testingString(id.top(), prefix + s.getValue()));
        default ->
            throw new IllegalArgumentException(
                "unknown echo module event type: " + event.typeName());
      };
    }
  }

  private static FactoryModule newEchoFactory(LogCapture log) {
    return new FactoryModule(
        ECHO_FACTORY,
        FactoryModule.Params.defaults(
            (id, params) -> new EchoModule(id, params.unpack(EchoModuleParams.class).getPrefix())),
        log.logger());
  }

  private static EchoModuleParams echoParams(String prefix) {
    return EchoModuleParams.newBuilder().setPrefix(prefix).build();
  }

  private static ModuleId inst(int i) {
    return ECHO_FACTORY.then("inst" + i);
  }

  private static List<String> sortedValues(EventList out) {
    out.forEach(e -> assertThat(e.destination()).isEqualTo(ECHO_FACTORY));
    List<String> values = new ArrayList<>();
    out.forEach(e -> values.add(e.payload(TestingString.class).getValue()));
    values.sort(Comparator.naturalOrder());
    return values;
  }

  private static EventList hiToAllSixInReverse() {
    EventList in = EventList.empty();
    for (int i = 5; i >= 0; i--) {
      in.add(Events.testingString(inst(i), "Hi!"));
    }
    return in;
  }

  @TestFactory
  Stream<DynamicTest> factoryModule() {
    LogCapture log = new LogCapture();
    FactoryModule[] echoFactory = new FactoryModule[1];

    return Stream.of(
        dynamicTest(
            "00 Instantiate",
            () -> {
              echoFactory[0] = newEchoFactory(log);
              EventList out =
                  echoFactory[0].applyEvents(
                      EventList.of(
                          FactoryEvents.newModule(
                              ECHO_FACTORY, inst(0), RetentionIndex.ZERO, echoParams("Inst 0: "))));
              assertThat(out.size()).isEqualTo(1);
              assertThat(out.get(0).destination()).isEqualTo(ECHO_FACTORY);
              assertThat(out.get(0).payload(TestingString.class).getValue())
                  .isEqualTo("echoFactory/inst0 Init");
            }),
        dynamicTest(
            "01 Invoke",
            () -> {
              EventList out =
                  echoFactory[0].applyEvents(EventList.of(Events.testingString(inst(0), "Hi!")));
              assertThat(out.size()).isEqualTo(1);
              assertThat(out.get(0).payload(TestingString.class).getValue())
                  .isEqualTo("Inst 0: Hi!");
            }),
        dynamicTest(
            "02 Instantiate many",
            () -> {
              for (int i = 1; i <= 5; i++) {
                EventList out =
                    echoFactory[0].applyEvents(
                        EventList.of(
                            FactoryEvents.newModule(
                                ECHO_FACTORY,
                                inst(i),
                                RetentionIndex.of(i),
                                echoParams("Inst " + i + ": "))));
                assertThat(out.size()).isEqualTo(1);
                assertThat(out.get(0).destination()).isEqualTo(ECHO_FACTORY);
                assertThat(out.get(0).payload(TestingString.class).getValue())
                    .isEqualTo(inst(i) + " Init");
              }
            }),
        dynamicTest(
            "03 Invoke many",
            () -> {
              EventList out = echoFactory[0].applyEvents(hiToAllSixInReverse());
              assertThat(sortedValues(out))
                  .containsExactly(
                      "Inst 0: Hi!",
                      "Inst 1: Hi!",
                      "Inst 2: Hi!",
                      "Inst 3: Hi!",
                      "Inst 4: Hi!",
                      "Inst 5: Hi!");
            }),
        dynamicTest(
            "04 Wrong event type",
            () ->
                assertThatThrownBy(
                        () ->
                            echoFactory[0].applyEvents(
                                EventList.of(Events.testingUint(ECHO_FACTORY, 42))))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("unsupported event type for factory module: mir.core.TestingUint")),
        dynamicTest(
            "05 Wrong submodule ID",
            () -> {
              ModuleId missing = ECHO_FACTORY.then("non-existent-module");
              EventList out =
                  echoFactory[0].applyEvents(EventList.of(Events.testingUint(missing, 42)));
              assertThat(out.isEmpty()).isTrue();
              log.checkFirstEntry(
                  Level.INFO,
                  "Ignoring submodule event. Destination module not found. moduleID={}"
                      + " eventType={}",
                  missing,
                  "mir.core.TestingUint");
              log.checkEmpty();
            }),
        dynamicTest(
            "06 Garbage-collect some",
            () -> {
              EventList out =
                  echoFactory[0].applyEvents(
                      EventList.of(
                          FactoryEvents.garbageCollect(ECHO_FACTORY, RetentionIndex.of(3))));
              assertThat(out.isEmpty()).isTrue();
            }),
        dynamicTest(
            "07 Invoke garbage-collected",
            () -> {
              EventList out = echoFactory[0].applyEvents(hiToAllSixInReverse());
              assertThat(sortedValues(out))
                  .containsExactly("Inst 3: Hi!", "Inst 4: Hi!", "Inst 5: Hi!");
              for (int i = 0; i < 3; i++) {
                log.checkAnyEntry(
                    Level.INFO,
                    "Ignoring submodule event. Destination module not found. moduleID={}"
                        + " eventType={}",
                    inst(i),
                    "mir.core.TestingString");
              }
              log.checkEmpty();
            }));
  }

  // ---------------------------------------------------------------------------------------------
  // Beyond Mir's test

  @Test
  void messagesForASubmoduleThatDoesNotExistYetAreBufferedAndReplayedAfterInit() throws Exception {
    LogCapture log = new LogCapture();
    List<Event> seen = new ArrayList<>();
    FactoryModule recording =
        new FactoryModule(
            ECHO_FACTORY,
            FactoryModule.Params.defaults(
                (id, params) ->
                    Modules.receivingMessages(
                        events -> {
                          events.forEach(seen::add);
                          return EventList.empty();
                        })),
            log.logger());
    Event early1 =
        Events.messageReceived(NodeId.of("1"), Events.netMessage(inst(7), echoParams("m1")));
    Event early2 =
        Events.messageReceived(NodeId.of("2"), Events.netMessage(inst(7), echoParams("m2")));
    Event other =
        Events.messageReceived(NodeId.of("1"), Events.netMessage(inst(8), echoParams("m3")));

    assertThat(recording.applyEvents(EventList.of(early1, other, early2)).isEmpty()).isTrue();
    assertThat(recording.bufferedMessages()).isEqualTo(3);

    recording.applyEvents(
        EventList.of(
            FactoryEvents.newModule(ECHO_FACTORY, inst(7), RetentionIndex.ZERO, echoParams(""))));
    assertThat(seen).containsExactly(Events.init(inst(7)), early1, early2);
    assertThat(recording.bufferedMessages()).isEqualTo(1);
    log.checkEmpty();
  }

  @Test
  void aMessageAddressedToTheFactoryItselfIsDropped() throws Exception {
    FactoryModule f = newEchoFactory(new LogCapture());
    Event toFactory =
        Events.messageReceived(NodeId.of("evil"), Events.netMessage(ECHO_FACTORY, echoParams("x")));
    assertThat(f.applyEvents(EventList.of(toFactory)).isEmpty()).isTrue();
    assertThat(f.bufferedMessages()).isZero();
  }

  @Test
  void newModuleBelowTheRetentionIndexIsIgnoredWithAWarning() throws Exception {
    LogCapture log = new LogCapture();
    FactoryModule f = newEchoFactory(log);
    f.applyEvents(EventList.of(FactoryEvents.garbageCollect(ECHO_FACTORY, RetentionIndex.of(5))));
    assertThat(f.retentionIndex()).isEqualTo(RetentionIndex.of(5));

    EventList out =
        f.applyEvents(
            EventList.of(
                FactoryEvents.newModule(
                    ECHO_FACTORY, inst(1), RetentionIndex.of(4), echoParams("x"))));

    assertThat(out.isEmpty()).isTrue();
    assertThat(f.submoduleIds()).isEmpty();
    log.checkFirstEntry(
        Level.WARN,
        "Ignoring new module instantiation with low retention index. moduleID={} currentRetIdx={}"
            + " moduleRetIdx={}",
        inst(1),
        5L,
        4L);
    log.checkEmpty();

    // A lower garbage-collection index does not lower the factory's.
    f.applyEvents(EventList.of(FactoryEvents.garbageCollect(ECHO_FACTORY, RetentionIndex.of(2))));
    assertThat(f.retentionIndex()).isEqualTo(RetentionIndex.of(5));
  }

  @Test
  void newModuleOutsideTheFactoryIsRejected() {
    FactoryModule f = newEchoFactory(new LogCapture());
    assertThatThrownBy(
            () ->
                f.applyEvents(
                    EventList.of(
                        FactoryEvents.newModule(
                            ECHO_FACTORY,
                            ModuleId.of("otherFactory/inst0"),
                            RetentionIndex.ZERO,
                            echoParams("x")))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "submodule (otherFactory/inst0) must have the factory's ID (echoFactory) as a prefix");
    assertThatThrownBy(
            () ->
                f.applyEvents(
                    EventList.of(
                        FactoryEvents.newModule(
                            ECHO_FACTORY, ECHO_FACTORY, RetentionIndex.ZERO, echoParams("x")))))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void garbageCollectionDeletesExactlyTheModulesBelowTheIndex() throws Exception {
    FactoryModule f = newEchoFactory(new LogCapture());
    for (int i = 0; i < 4; i++) {
      f.applyEvents(
          EventList.of(
              FactoryEvents.newModule(
                  ECHO_FACTORY, inst(i), RetentionIndex.of(i % 2 == 0 ? 10 : 20), echoParams(""))));
    }
    f.applyEvents(EventList.of(FactoryEvents.garbageCollect(ECHO_FACTORY, RetentionIndex.of(20))));
    assertThat(f.submoduleIds()).containsExactly(inst(1), inst(3));
    f.applyEvents(EventList.of(FactoryEvents.garbageCollect(ECHO_FACTORY, RetentionIndex.of(21))));
    assertThat(f.submoduleIds()).isEmpty();
  }

  @Test
  void generatorFailureFailsTheBatch() {
    FactoryModule f = newEchoFactory(new LogCapture());
    // Parameters of the wrong type: the generator's unpack throws.
    assertThatThrownBy(
            () ->
                f.applyEvents(
                    EventList.of(
                        FactoryEvents.newModule(
                            ECHO_FACTORY,
                            inst(0),
                            RetentionIndex.ZERO,
                            TestingString.getDefaultInstance()))))
        .isInstanceOf(com.google.protobuf.InvalidProtocolBufferException.class);
  }

  @Test
  void oversizedEarlyMessagesAreNotBuffered() throws Exception {
    LogCapture log = new LogCapture();
    FactoryModule f =
        new FactoryModule(
            ECHO_FACTORY,
            FactoryModule.Params.defaults((id, p) -> Modules.nullPassive()).withMsgBufSizeBytes(10),
            log.logger());
    f.applyEvents(
        EventList.of(
            Events.messageReceived(
                NodeId.of("1"), Events.netMessage(inst(0), echoParams("far too long")))));
    assertThat(f.bufferedMessages()).isZero();
    assertThatThrownBy(() -> FactoryModule.Params.defaults((id, p) -> null).withMsgBufSizeBytes(-1))
        .hasMessageContaining("-1");
  }

  private static FactoryModule recordingFactory(
      List<Event> seen, FactoryModule.Params params, boolean submodulesTakeMessages) {
    return new FactoryModule(
        ECHO_FACTORY,
        new FactoryModule.Params(
            (id, p) -> {
              PassiveModule m =
                  events -> {
                    events.forEach(seen::add);
                    return EventList.empty();
                  };
              return submodulesTakeMessages ? Modules.receivingMessages(m) : m;
            },
            params.msgBufSizeBytes(),
            params.maxSenders()),
        new LogCapture().logger());
  }

  private static Event early(String from, int inst, String text) {
    return Events.messageReceived(NodeId.of(from), Events.netMessage(inst(inst), echoParams(text)));
  }

  @Test
  void oneSenderCannotEvictTheEarlyMessagesOfOthers() throws Exception {
    List<Event> seen = new ArrayList<>();
    Event size = early("1", 7, "m");
    int oneMessage = size.stripped().payload().getSerializedSize();
    FactoryModule f =
        recordingFactory(
            seen,
            FactoryModule.Params.defaults((id, p) -> null).withMsgBufSizeBytes(4 * oneMessage),
            true);
    Event honest1 = early("1", 7, "m");
    Event honest2 = early("2", 7, "m");
    f.applyEvents(EventList.of(honest1, honest2));
    // A faulty member floods the buffer with messages for many future instances.
    List<Event> flood = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      flood.add(early("3", 7, "x"));
    }
    f.applyEvents(EventList.of(flood));
    assertThat(f.bufferedMessages("1")).isEqualTo(1);
    assertThat(f.bufferedMessages("2")).isEqualTo(1);
    assertThat(f.bufferedMessages("3")).isEqualTo(4);
    assertThat(f.droppedEarlyMessages()).isEqualTo(996);

    f.applyEvents(
        EventList.of(
            FactoryEvents.newModule(ECHO_FACTORY, inst(7), RetentionIndex.ZERO, echoParams(""))));
    // Arrival order is kept across senders; the flooder keeps only its newest four.
    assertThat(seen.subList(0, 3)).containsExactly(Events.init(inst(7)), honest1, honest2);
    assertThat(seen).hasSize(1 + 2 + 4);
    assertThat(f.bufferedMessages()).isZero();
  }

  @Test
  void theNumberOfSendersWithEarlyMessagesIsBounded() throws Exception {
    List<Event> seen = new ArrayList<>();
    FactoryModule f =
        recordingFactory(
            seen, FactoryModule.Params.defaults((id, p) -> null).withMaxSenders(2), true);
    f.applyEvents(EventList.of(early("a", 1, "1"), early("b", 1, "2"), early("c", 1, "3")));
    assertThat(f.bufferedMessages()).isEqualTo(2);
    assertThat(f.bufferedMessages("c")).isZero();
    assertThat(f.droppedEarlyMessages()).isEqualTo(1);
    // Once the buffers are consumed, new senders have room again.
    f.applyEvents(
        EventList.of(
            FactoryEvents.newModule(ECHO_FACTORY, inst(1), RetentionIndex.ZERO, echoParams(""))));
    f.applyEvents(EventList.of(early("c", 2, "4")));
    assertThat(f.bufferedMessages("c")).isEqualTo(1);
    assertThatThrownBy(() -> FactoryModule.Params.defaults((id, p) -> null).withMaxSenders(-1))
        .hasMessageContaining("maxSenders");
  }

  @Test
  void aSubmoduleThatTakesNoMessagesGetsNoneEarlyOrLate() throws Exception {
    List<Event> seen = new ArrayList<>();
    FactoryModule f = recordingFactory(seen, FactoryModule.Params.defaults((id, p) -> null), false);
    f.applyEvents(EventList.of(early("1", 3, "early")));
    f.applyEvents(
        EventList.of(
            FactoryEvents.newModule(ECHO_FACTORY, inst(3), RetentionIndex.ZERO, echoParams(""))));
    f.applyEvents(EventList.of(early("1", 3, "late"), Events.testingString(inst(3), "own")));
    assertThat(seen).containsExactly(Events.init(inst(3)), Events.testingString(inst(3), "own"));
    assertThat(f.droppedEarlyMessages()).isEqualTo(1);
  }

  // ---------------------------------------------------------------------------------------------
  // Creation on demand

  /** A factory of recording submodules that creates instances 0..9 on demand from senders 1-4. */
  private static FactoryModule onDemandFactory(
      List<Event> seen, List<String> created, int maxLive, boolean takeMessages) {
    OnDemandCreation policy =
        (id, from, msg) -> {
          String sub = id.value().substring(ECHO_FACTORY.value().length() + 1);
          if (!sub.matches("inst[0-9]") || !from.value().matches("[1-4]")) {
            return java.util.Optional.empty();
          }
          int n = Integer.parseInt(sub.substring(4));
          return java.util.Optional.of(
              new OnDemandCreation.Creation(
                  com.google.protobuf.Any.pack(echoParams("by " + from)), n));
        };
    return new FactoryModule(
        ECHO_FACTORY,
        FactoryModule.Params.defaults(
                (id, p) -> {
                  created.add(id + " " + p.unpack(EchoModuleParams.class).getPrefix());
                  PassiveModule m =
                      events -> {
                        events.forEach(seen::add);
                        return EventList.empty();
                      };
                  return takeMessages ? Modules.receivingMessages(m) : m;
                })
            .withOnDemand(policy, maxLive),
        new LogCapture().logger());
  }

  @Test
  void aFirstValidMessageCreatesTheInstanceAfterTheEarlyMessagesOfOthers() throws Exception {
    List<Event> seen = new ArrayList<>();
    List<String> created = new ArrayList<>();
    FactoryModule f = onDemandFactory(seen, created, 8, true);
    // A message from a stranger is declined by the policy and buffered as before.
    Event stranger = early("9", 2, "s");
    f.applyEvents(EventList.of(stranger));
    assertThat(created).isEmpty();
    assertThat(f.bufferedMessages()).isEqualTo(1);

    Event first = early("1", 2, "a");
    Event second = early("2", 2, "b");
    f.applyEvents(EventList.of(first, second));
    assertThat(created).containsExactly("echoFactory/inst2 by 1");
    // Init, then the buffered message (arrived first), then the creating one, then the next.
    assertThat(seen).containsExactly(Events.init(inst(2)), stranger, first, second);
    assertThat(f.onDemandSubmodules()).isEqualTo(1);
    assertThat(f.bufferedMessages()).isZero();
    assertThat(f.submoduleIds()).containsExactly(inst(2));
  }

  @Test
  void theNumberOfLiveOnDemandInstancesIsBoundedAndGarbageCollectionFreesRoom() throws Exception {
    List<Event> seen = new ArrayList<>();
    List<String> created = new ArrayList<>();
    FactoryModule f = onDemandFactory(seen, created, 2, true);
    f.applyEvents(EventList.of(early("1", 1, "a"), early("1", 2, "b"), early("1", 3, "c")));
    assertThat(f.submoduleIds()).containsExactly(inst(1), inst(2));
    assertThat(f.refusedOnDemandCreations()).isEqualTo(1);
    assertThat(f.bufferedMessages()).isEqualTo(1); // kept for a NewModule or for later room

    f.applyEvents(EventList.of(FactoryEvents.garbageCollect(ECHO_FACTORY, RetentionIndex.of(2))));
    assertThat(f.onDemandSubmodules()).isEqualTo(1);
    f.applyEvents(EventList.of(early("2", 3, "d")));
    assertThat(f.submoduleIds()).containsExactly(inst(2), inst(3));
    // The buffered early message of instance 3 is replayed before the creating one.
    assertThat(seen.subList(seen.size() - 3, seen.size()))
        .containsExactly(Events.init(inst(3)), early("1", 3, "c"), early("2", 3, "d"));

    // Below the retention index nothing is created, even if the policy approves.
    long refused = f.refusedOnDemandCreations();
    f.applyEvents(EventList.of(early("3", 1, "late")));
    assertThat(f.submoduleIds()).doesNotContain(inst(1));
    assertThat(f.refusedOnDemandCreations()).isEqualTo(refused + 1);
    assertThatThrownBy(() -> FactoryModule.Params.defaults((id, p) -> null).withOnDemand(null, 1))
        .isInstanceOf(NullPointerException.class);
    assertThatThrownBy(
            () ->
                FactoryModule.Params.defaults((id, p) -> null)
                    .withOnDemand((id, from, m) -> java.util.Optional.empty(), -1))
        .hasMessageContaining("maxOnDemandSubmodules");
  }

  @Test
  void aNewModuleAdoptsAnInstanceCreatedOnDemandAndKeepsIt() throws Exception {
    List<Event> seen = new ArrayList<>();
    List<String> created = new ArrayList<>();
    FactoryModule f = onDemandFactory(seen, created, 1, true);
    f.applyEvents(EventList.of(early("1", 4, "a")));
    assertThat(f.onDemandSubmodules()).isEqualTo(1);
    EventList out =
        f.applyEvents(
            EventList.of(
                FactoryEvents.newModule(
                    ECHO_FACTORY, inst(4), RetentionIndex.of(7), echoParams("local"))));
    assertThat(out.isEmpty()).isTrue();
    assertThat(created).containsExactly("echoFactory/inst4 by 1"); // not re-created
    assertThat(f.onDemandSubmodules()).isZero(); // room for another on-demand instance
    f.applyEvents(EventList.of(early("1", 5, "b")));
    assertThat(f.submoduleIds()).containsExactly(inst(4), inst(5));
    // Adopted at retention index 7: survives a collection that removes instance 5 (index 5).
    f.applyEvents(EventList.of(FactoryEvents.garbageCollect(ECHO_FACTORY, RetentionIndex.of(6))));
    assertThat(f.submoduleIds()).containsExactly(inst(4));
    f.applyEvents(EventList.of(early("2", 4, "c")));
    assertThat(seen.get(seen.size() - 1)).isEqualTo(early("2", 4, "c"));
  }

  @Test
  void onDemandCreationLeavesLocalEventsAndOtherModulesAlone() throws Exception {
    List<Event> seen = new ArrayList<>();
    List<String> created = new ArrayList<>();
    FactoryModule f = onDemandFactory(seen, created, 4, false);
    // A local event for a missing instance does not create it.
    f.applyEvents(EventList.of(Events.testingString(inst(1), "local")));
    assertThat(created).isEmpty();
    // A submodule that takes no messages is created but gets no message.
    f.applyEvents(EventList.of(early("1", 1, "a")));
    assertThat(created).containsExactly("echoFactory/inst1 by 1");
    assertThat(seen).containsExactly(Events.init(inst(1)));
  }
}
