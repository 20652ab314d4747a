package io.github.mirframework.dsl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.github.mirframework.dsl.testpb.Chunks;
import io.github.mirframework.dsl.testpb.HashRequest;
import io.github.mirframework.dsl.testpb.HashResult;
import io.github.mirframework.dsl.testpb.NodeSigsVerified;
import io.github.mirframework.dsl.testpb.SignRequest;
import io.github.mirframework.dsl.testpb.SignResult;
import io.github.mirframework.dsl.testpb.VerifyNodeSigs;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.pb.NetMessage;
import io.github.mirframework.event.pb.Origin;
import io.github.mirframework.event.pb.TestingString;
import io.github.mirframework.event.pb.TestingUint;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Ports of Mir's TestDslModule_ApplyEvents and TestDslModule_ContextRecoveryAndCleanup. */
class DslModuleTest {
  private static final ModuleId SELF = ModuleId.of("testing");
  private static final ModuleId REPLIES = ModuleId.of("replies");
  private static final ModuleId REPORTS = ModuleId.of("reports");

  private static final ModuleId CRYPTO = ModuleId.of("crypto");
  private static final ModuleId HASHER = ModuleId.of("hasher");
  private static final ModuleId SIGNED = ModuleId.of("signed");
  private static final ModuleId HASHED = ModuleId.of("hashed");
  private static final ModuleId VERIFIED = ModuleId.of("verified");

  // -------------------------------------------------------------------------------------------
  // TestDslModule_ApplyEvents

  /** Mir's newSimpleTestingModule. */
  private static DslModule newSimpleTestingModule() {
    DslModule m = new DslModule(SELF);
    List<String> testingStrings = new ArrayList<>();
    long[] uintsSum = {0};
    long[] lastReportedUint = {0};

    uponTestingString(
        m,
        s -> {
          if (s.equals("hello")) {
            m.emit(Events.testingString(REPLIES, "world"));
            m.emit(Events.testingUint(REPLIES, 42));
          }
        });

    uponTestingString(
        m,
        s -> {
          if (s.equals("good")) {
            // Emitted, but lost: the exception discards the batch's output.
            m.emit(Events.testingString(REPLIES, "lost"));
            throw new Exception("bye");
          }
        });

    uponTestingUint(
        m,
        u -> {
          if (u < 100) {
            m.emit(Events.testingString(REPLIES, Long.toString(u)));
          }
        });

    uponTestingString(m, testingStrings::add);

    m.uponCondition(
        () -> {
          if (testingStrings.size() >= 3) {
            m.emit(
                Events.testingString(
                    REPORTS,
                    "Collected at least 3 testing strings: ["
                        + String.join(" ", testingStrings)
                        + "]"));
          }
        });

    uponTestingUint(m, u -> uintsSum[0] += u);

    m.uponCondition(
        () -> {
          while (uintsSum[0] >= lastReportedUint[0] + 100) {
            lastReportedUint[0] += 100;
            m.emit(Events.testingUint(REPORTS, lastReportedUint[0]));
          }
        });

    m.uponCondition(
        () -> {
          if (uintsSum[0] > 1000) {
            throw new IllegalStateException("too much");
          }
        });
    return m;
  }

  static Stream<Arguments> applyEventsCases() {
    return Stream.of(
        applyCase("empty", EventList.empty(), EventList.empty(), null),
        applyCase(
            "hello world",
            EventList.of(Events.testingString(SELF, "hello")),
            EventList.of(Events.testingString(REPLIES, "world"), Events.testingUint(REPLIES, 42)),
            null),
        applyCase("test error", EventList.of(Events.testingString(SELF, "good")), null, "bye"),
        applyCase(
            "test simple condition",
            EventList.of(
                Events.testingString(SELF, "foo"),
                Events.testingString(SELF, "bar"),
                Events.testingString(SELF, "baz"),
                Events.testingString(SELF, "quz")),
            EventList.of(
                Events.testingString(
                    REPORTS, "Collected at least 3 testing strings: [foo bar baz quz]")),
            null),
        // Values below 100 are echoed as strings; the sum (582) is reported per full 100 at the
        // end of the batch.
        applyCase(
            "test multiple handlers for one event and a loop condition",
            EventList.of(
                Events.testingUint(SELF, 0),
                Events.testingUint(SELF, 17),
                Events.testingUint(SELF, 105),
                Events.testingUint(SELF, 182),
                Events.testingUint(SELF, 42),
                Events.testingUint(SELF, 222),
                Events.testingUint(SELF, 14)),
            EventList.of(
                Events.testingString(REPLIES, "0"),
                Events.testingString(REPLIES, "17"),
                Events.testingString(REPLIES, "42"),
                Events.testingString(REPLIES, "14"),
                Events.testingUint(REPORTS, 100),
                Events.testingUint(REPORTS, 200),
                Events.testingUint(REPORTS, 300),
                Events.testingUint(REPORTS, 400),
                Events.testingUint(REPORTS, 500)),
            null),
        applyCase(
            "test unknown event type",
            EventList.of(Events.sendMessage(SELF, NetMessage.getDefaultInstance(), List.of())),
            null,
            "unknown event type 'mir.core.SendMessage'"),
        applyCase(
            "test failed condition",
            EventList.of(Events.testingUint(SELF, 2000)),
            null,
            "too much"));
  }

  private static Arguments applyCase(
      String name, EventList in, EventList expectedOut, String expectedError) {
    return Arguments.of(Named.of(name, in), expectedOut, expectedError);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("applyEventsCases")
  void applyEvents(EventList in, EventList expectedOut, String expectedError) throws Exception {
    DslModule m = newSimpleTestingModule();
    if (expectedError != null) {
      assertThatThrownBy(() -> m.applyEvents(in)).hasMessage(expectedError);
      return;
    }
    assertThat(m.applyEvents(in).toList()).containsExactlyElementsOf(expectedOut.toList());
  }

  @Test
  void outputEmittedBeforeAnErrorIsDiscardedNotDeliveredLater() throws Exception {
    DslModule m = newSimpleTestingModule();
    assertThatThrownBy(() -> m.applyEvents(EventList.of(Events.testingString(SELF, "good"))))
        .hasMessage("bye");
    assertThat(m.applyEvents(EventList.empty()).toList()).isEmpty();
  }

  // -------------------------------------------------------------------------------------------
  // TestDslModule_ContextRecoveryAndCleanup

  private record TestingStringContext(String s) {}

  /** Mir's newContextTestingModule, with the test stand-ins for crypto and hasher events. */
  private static DslModule newContextTestingModule() {
    DslModule m = new DslModule(SELF);

    uponTestingString(
        m,
        s -> {
          signRequest(m, CRYPTO, List.of(bytes(s)), new TestingStringContext(s));
          hashOneMessage(m, HASHER, List.of(bytes(s)), new TestingStringContext(s));
        });

    uponSignResult(
        m,
        TestingStringContext.class,
        (signature, context) ->
            m.emit(Events.testingString(SIGNED, context.s() + ": " + signature.toStringUtf8())));

    uponHashResult(
        m,
        TestingStringContext.class,
        (hashes, context) -> {
          if (hashes.size() != 1) {
            throw new IllegalStateException("unexpected number of hashes: " + hashes);
          }
          m.emit(Events.testingString(HASHED, context.s() + ": " + hashes.get(0).toStringUtf8()));
        });

    uponTestingUint(
        m,
        u -> {
          if (u < 10) {
            List<ByteString> msg = List.of(bytes("uint"), bytes(Long.toString(u)));
            List<ByteString> signatures = new ArrayList<>();
            List<NodeId> nodeIds = new ArrayList<>();
            for (long i = 0; i < u; i++) {
              signatures.add(bytes(Long.toString(i)));
              nodeIds.add(NodeId.of(Long.toString(i)));
            }
            // A boxed number as context only for the test's sake: real modules use records,
            // whose class says what the response is for.
            verifyNodeSigs(
                m, CRYPTO, Collections.nCopies(u.intValue(), msg), signatures, nodeIds, u);
          }
        });

    uponOneNodeSigVerified(
        m,
        Long.class,
        (nodeId, error, context) -> {
          if (error == null) {
            m.emit(Events.testingString(VERIFIED, context + ": " + nodeId + " verified"));
          }
        });

    uponNodeSigsVerified(
        m,
        Long.class,
        (result, context) -> {
          if (result.getAllOk()) {
            m.emit(Events.testingUint(VERIFIED, context));
          }
        });
    return m;
  }

  @Test
  void contextRecoveryEmpty() {
    newContextTestingModule();
  }

  @Test
  void contextRecoveryRequestResponse() throws Exception {
    DslModule m = newContextTestingModule();
    EventList out = m.applyEvents(EventList.of(Events.testingString(SELF, "hello")));
    assertThat(out.size()).isEqualTo(2);
    Origin signOrigin = out.get(0).payload(SignRequest.class).getOrigin();
    Origin hashOrigin = out.get(1).payload(HashRequest.class).getOrigin();
    assertThat(out.get(0).destination()).isEqualTo(CRYPTO);
    assertThat(out.get(1).destination()).isEqualTo(HASHER);

    out = m.applyEvents(EventList.of(signResult(SELF, bytes("world"), signOrigin)));
    assertThat(out.toList()).containsExactly(Events.testingString(SIGNED, "hello: world"));

    out = m.applyEvents(EventList.of(hashResult(SELF, List.of(bytes("world")), hashOrigin)));
    assertThat(out.toList()).containsExactly(Events.testingString(HASHED, "hello: world"));
    assertThat(m.storedContexts()).isZero();
  }

  @Test
  void contextRecoveryResponseWithoutRequest() {
    DslModule m = newContextTestingModule();
    // No context has ID 42.
    assertThatThrownBy(
            () ->
                m.applyEvents(
                    EventList.of(signResult(SELF, ByteString.EMPTY, dslOrigin(SELF, 42)))))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("42");
  }

  @Test
  void contextRecoveryCheckContextIsDisposed() throws Exception {
    DslModule m = newContextTestingModule();
    EventList out = m.applyEvents(EventList.of(Events.testingString(SELF, "hello")));
    assertThat(out.size()).isEqualTo(2);
    Origin signOrigin = out.get(0).payload(SignRequest.class).getOrigin();
    out.get(1).payload(HashRequest.class);

    out = m.applyEvents(EventList.of(signResult(SELF, bytes("world"), signOrigin)));
    assertThat(out.toList()).containsExactly(Events.testingString(SIGNED, "hello: world"));

    // The same reply a second time: its context is gone.
    assertThatThrownBy(
            () -> m.applyEvents(EventList.of(signResult(SELF, bytes("world"), signOrigin))))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(Long.toString(signOrigin.getDslContextId()));
  }

  @Test
  void contextRecoveryCheckMultipleHandlersForResponse() throws Exception {
    DslModule m = newContextTestingModule();
    EventList out = m.applyEvents(EventList.of(Events.testingUint(SELF, 8)));
    assertThat(out.size()).isEqualTo(1);
    VerifyNodeSigs sigVer = out.get(0).payload(VerifyNodeSigs.class);
    assertThat(sigVer.getNodeIdsList()).hasSize(8);

    // Unrelated events must neither overwrite nor dispose of the stored context.
    m.applyEvents(EventList.of(Events.testingString(SELF, "hello")));
    m.applyEvents(EventList.of(Events.testingUint(SELF, 3)));
    m.applyEvents(EventList.of(Events.testingUint(SELF, 16), Events.testingString(SELF, "foo")));

    Event sigsVerified =
        Event.of(
            SELF,
            NodeSigsVerified.newBuilder()
                .addAllValid(Collections.nCopies(8, true))
                .addAllErrors(Collections.nCopies(8, ""))
                .addAllNodeIds(sigVer.getNodeIdsList())
                .setOrigin(sigVer.getOrigin())
                .setAllOk(true)
                .build());
    out = m.applyEvents(EventList.of(sigsVerified));

    List<Event> expected = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      expected.add(Events.testingString(VERIFIED, "8: " + i + " verified"));
    }
    expected.add(Events.testingUint(VERIFIED, 8));
    assertThat(out.toList()).containsExactlyElementsOf(expected);

    // The same reply a second time: its context is gone.
    assertThatThrownBy(() -> m.applyEvents(EventList.of(sigsVerified)))
        .isInstanceOf(IllegalStateException.class);
  }

  // -------------------------------------------------------------------------------------------
  // Typed helpers over the test stand-ins, the way mir-crypto's DSL helpers will look.

  private static void signRequest(
      DslModule m, ModuleId crypto, List<ByteString> data, Object context) {
    m.emit(crypto, SignRequest.newBuilder().addAllData(data).setOrigin(m.origin(context)).build());
  }

  private static void hashOneMessage(
      DslModule m, ModuleId hasher, List<ByteString> data, Object context) {
    m.emit(
        hasher,
        HashRequest.newBuilder()
            .addData(Chunks.newBuilder().addAllData(data))
            .setOrigin(m.origin(context))
            .build());
  }

  private static void verifyNodeSigs(
      DslModule m,
      ModuleId crypto,
      List<List<ByteString>> data,
      List<ByteString> signatures,
      List<NodeId> nodeIds,
      Object context) {
    VerifyNodeSigs.Builder b =
        VerifyNodeSigs.newBuilder()
            .addAllSignatures(signatures)
            .addAllNodeIds(NodeId.strings(nodeIds))
            .setOrigin(m.origin(context));
    data.forEach(d -> b.addData(Chunks.newBuilder().addAllData(d)));
    m.emit(crypto, b.build());
  }

  @FunctionalInterface
  private interface SignatureHandler<C> {
    void handle(ByteString signature, C context) throws Exception;
  }

  @FunctionalInterface
  private interface HashesHandler<C> {
    void handle(List<ByteString> hashes, C context) throws Exception;
  }

  @FunctionalInterface
  private interface OneSigHandler<C> {
    void handle(NodeId nodeId, String errorOrNull, C context) throws Exception;
  }

  private static <C> void uponSignResult(DslModule m, Class<C> ctx, SignatureHandler<C> h) {
    m.uponResponse(
        SignResult.class, SignResult::getOrigin, ctx, (r, c) -> h.handle(r.getSignature(), c));
  }

  private static <C> void uponHashResult(DslModule m, Class<C> ctx, HashesHandler<C> h) {
    m.uponResponse(
        HashResult.class, HashResult::getOrigin, ctx, (r, c) -> h.handle(r.getDigestsList(), c));
  }

  private static <C> void uponNodeSigsVerified(
      DslModule m, Class<C> ctx, DslModule.ResponseHandler<NodeSigsVerified, C> h) {
    m.uponResponse(NodeSigsVerified.class, NodeSigsVerified::getOrigin, ctx, h);
  }

  private static <C> void uponOneNodeSigVerified(DslModule m, Class<C> ctx, OneSigHandler<C> h) {
    uponNodeSigsVerified(
        m,
        ctx,
        (r, c) -> {
          for (int i = 0; i < r.getNodeIdsCount(); i++) {
            h.handle(NodeId.of(r.getNodeIds(i)), r.getValid(i) ? null : r.getErrors(i), c);
          }
        });
  }

  private static Event signResult(ModuleId dest, ByteString signature, Origin origin) {
    return Event.of(
        dest, SignResult.newBuilder().setSignature(signature).setOrigin(origin).build());
  }

  private static Event hashResult(ModuleId dest, List<ByteString> digests, Origin origin) {
    return Event.of(dest, HashResult.newBuilder().addAllDigests(digests).setOrigin(origin).build());
  }

  private static Origin dslOrigin(ModuleId module, long contextId) {
    return Origin.newBuilder().setModule(module.value()).setDslContextId(contextId).build();
  }

  static void uponTestingString(DslModule m, DslModule.Handler<String> h) {
    m.upon(TestingString.class, s -> h.handle(s.getValue()));
  }

  static void uponTestingUint(DslModule m, DslModule.Handler<Long> h) {
    m.upon(TestingUint.class, u -> h.handle(u.getValue()));
  }

  static ByteString bytes(String s) {
    return ByteString.copyFromUtf8(s);
  }
}
