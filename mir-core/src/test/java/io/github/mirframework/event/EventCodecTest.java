package io.github.mirframework.event;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import io.github.mirframework.event.pb.EventRecord;
import io.github.mirframework.event.pb.Init;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import io.github.mirframework.types.RetentionIndex;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class EventCodecTest {
  private static final ModuleId APP = ModuleId.of("app");
  private static final ModuleId NET = ModuleId.of("net");
  private static final ModuleId TIMER = ModuleId.of("timer");
  private static final ModuleId WAL = ModuleId.of("wal");

  /** A codec with the core types only, so that what other tests encode cannot leak in. */
  private final EventCodec codec = new EventCodec(PayloadRegistry.withCoreTypes());

  private static Event str(String s) {
    return Events.testingString(APP, s);
  }

  /** One event of every core payload type, some with nested follow-ups. */
  static List<Event> coreEvents() {
    Event nested =
        str("parent")
            .withFollowUps(
                List.of(
                    str("child1").withFollowUp(Events.testingUint(APP.then("sub"), 3)),
                    str("child2")));
    var msg = Events.netMessage(ModuleId.of("iss/pbft"), Events.testingUint(APP, 9).payload());
    return List.of(
        Events.init(APP),
        Events.testingString(APP, "hello ✓"),
        Events.testingUint(APP, Long.MAX_VALUE),
        Events.testingUint(APP, -1L), // uint64 max
        nested,
        Events.sendMessage(NET, msg, NodeId.range(4)),
        Events.messageReceived(NodeId.of("3"), msg),
        Events.timerDelay(TIMER, List.of(nested, str("x")), Duration.ofMillis(250)),
        Events.timerRepeat(
            TIMER, List.of(str("tick")), Duration.ofSeconds(1), RetentionIndex.of(12)),
        Events.timerGarbageCollect(TIMER, RetentionIndex.of(12)),
        Events.walAppend(WAL, nested, RetentionIndex.of(5)),
        Events.walTruncate(WAL, RetentionIndex.of(5)),
        Event.of(APP, msg),
        Event.of(APP, EventCodec.toRecord(nested)),
        Events.init(ModuleId.of("a/b/c"))
            .withFollowUp(Events.walTruncate(WAL, RetentionIndex.ZERO)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("coreEvents")
  void everyCoreEventSurvivesARoundTrip(Event event) {
    ByteString bytes = EventCodec.encode(event);
    assertEquals(DecodeResult.ok(event), codec.decode(bytes));
    assertEquals(DecodeResult.ok(event), codec.decode(bytes.toByteArray()));
    assertEquals(DecodeResult.ok(event), codec.fromRecord(EventCodec.toRecord(event)));
  }

  @Test
  void aListOfEventsSurvivesARoundTrip() {
    List<Event> events = coreEvents();
    DecodeResult<EventList> r = codec.fromRecords(EventCodec.toRecords(events));
    assertEquals(events, r.orElseThrow().toList());
  }

  @Test
  void wrappedTimerEventsDecodeToTheOriginals() {
    Event nested = coreEvents().get(4);
    Event delay = Events.timerDelay(TIMER, List.of(nested), Duration.ofMillis(1));
    var records = delay.payload(io.github.mirframework.event.pb.TimerDelay.class).getEventsList();
    assertEquals(List.of(nested), codec.fromRecords(records).orElseThrow().toList());
  }

  @Test
  void unknownTypeUrlIsAnErrorNamingIt() {
    EventRecord record =
        EventRecord.newBuilder()
            .setDestination("app")
            .setPayload(
                Any.newBuilder()
                    .setTypeUrl("type.googleapis.com/acme.Unknown")
                    .setValue(ByteString.EMPTY))
            .build();
    DecodeResult<Event> r = codec.decode(record.toByteString());
    var err = assertInstanceOf(DecodeResult.Error.class, r);
    assertTrue(err.reason().contains("acme.Unknown"), err.reason());
  }

  @Test
  void typesOutsideTheRegistryAreRejectedEvenIfKnownToTheJvm() {
    EventCodec bare = new EventCodec(PayloadRegistry.empty());
    DecodeResult<Event> r = bare.decode(EventCodec.encode(Events.init(APP)));
    var err = assertInstanceOf(DecodeResult.Error.class, r);
    assertTrue(err.reason().contains(Init.getDescriptor().getFullName()), err.reason());
  }

  @Test
  void aHugeUnknownTypeUrlIsAbbreviatedInTheError() {
    String url = "type.googleapis.com/" + "x".repeat(100_000);
    EventRecord record =
        EventRecord.newBuilder()
            .setDestination("app")
            .setPayload(Any.newBuilder().setTypeUrl(url))
            .build();
    var err = assertInstanceOf(DecodeResult.Error.class, codec.decode(record.toByteString()));
    assertTrue(
        err.reason().length() < 1_000, "reason has " + err.reason().length() + " characters");
  }

  @Test
  void badEnvelopesAreErrorsSayingWhatWasWrong() {
    Any init = Any.pack(Init.getDefaultInstance());
    assertError(
        EventRecord.newBuilder().setDestination("").setPayload(init).build(), "destination");
    assertError(
        EventRecord.newBuilder().setDestination("a//b").setPayload(init).build(), "destination");
    assertError(EventRecord.newBuilder().setDestination("app").build(), "no payload");
    assertError(
        EventRecord.newBuilder()
            .setDestination("app")
            .setPayload(init.toBuilder().setValue(ByteString.copyFrom(new byte[] {(byte) 0xff})))
            .build(),
        "malformed payload");
    assertError(
        EventCodec.toRecord(str("ok")).toBuilder()
            .addFollowUps(EventRecord.newBuilder().setDestination("app"))
            .build(),
        "no payload");
  }

  private void assertError(EventRecord record, String expected) {
    var err =
        assertInstanceOf(DecodeResult.Error.class, codec.fromRecord(record), record.toString());
    assertTrue(err.reason().contains(expected), err.reason());
    assertInstanceOf(DecodeResult.Error.class, codec.decode(record.toByteString()));
  }

  @Test
  void fromRecordsNamesThePositionOfTheBadRecord() {
    List<EventRecord> records =
        List.of(
            EventCodec.toRecord(str("a")),
            EventCodec.toRecord(str("b")),
            EventRecord.getDefaultInstance());
    var err = assertInstanceOf(DecodeResult.Error.class, codec.fromRecords(records));
    assertTrue(err.reason().startsWith("event 2:"), err.reason());
  }

  @Test
  void trailingGarbageAfterAnEndGroupTagIsRejected() {
    ByteString valid = EventCodec.encode(str("a"));
    // Field 1, wire type 4 (end group) at the top level would otherwise end parsing early and hide
    // what follows.
    ByteString withStrayEndGroup = valid.concat(ByteString.copyFrom(new byte[] {0x0c, 0x01, 0x02}));
    assertInstanceOf(DecodeResult.Error.class, codec.decode(withStrayEndGroup));
  }

  private static Event chain(int levels) {
    Event e = str("level" + levels);
    for (int i = levels - 1; i >= 0; i--) {
      e = str("level" + i).withFollowUp(e);
    }
    return e;
  }

  @Test
  void followUpsNestedUpToTheDepthLimitDecode() {
    Event deepest = chain(EventCodec.MAX_DEPTH);
    assertEquals(DecodeResult.ok(deepest), codec.decode(EventCodec.encode(deepest)));
  }

  @Test
  void followUpsNestedBeyondTheDepthLimitAreAnError() {
    Event tooDeep = chain(EventCodec.MAX_DEPTH + 1);
    var err = assertInstanceOf(DecodeResult.Error.class, codec.decode(EventCodec.encode(tooDeep)));
    assertTrue(err.reason().contains("deeper than " + EventCodec.MAX_DEPTH), err.reason());
    assertInstanceOf(DecodeResult.Error.class, codec.fromRecord(EventCodec.toRecord(tooDeep)));
  }

  @Test
  void absurdlyDeepRecordsAreErrorsNotStackOverflows() {
    int levels = 200_000;
    // Built from the inside out, so that neither building nor the check recurses.
    EventRecord record = EventRecord.getDefaultInstance();
    for (int i = 0; i < 10_000; i++) {
      record = EventRecord.newBuilder().setDestination("app").addFollowUps(record).build();
    }
    assertInstanceOf(DecodeResult.Error.class, codec.fromRecord(record));

    // Raw bytes: `levels` nested follow_ups fields (tag 0x1a), innermost empty.
    int[] lengths = new int[levels + 1];
    for (int i = 1; i <= levels; i++) {
      lengths[i] = 1 + varintSize(lengths[i - 1]) + lengths[i - 1];
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(lengths[levels]);
    for (int i = levels; i >= 1; i--) {
      out.write(0x1a);
      writeVarint(out, lengths[i - 1]);
    }
    assertInstanceOf(DecodeResult.Error.class, codec.decode(out.toByteArray()));
  }

  private static int varintSize(int v) {
    int n = 1;
    while ((v & ~0x7f) != 0) {
      v >>>= 7;
      n++;
    }
    return n;
  }

  private static void writeVarint(ByteArrayOutputStream out, int v) {
    while ((v & ~0x7f) != 0) {
      out.write((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    out.write(v);
  }

  // ---- Garbage never escapes as an exception ----

  static LongStream seeds() {
    return LongStream.of(1, 2, 3, 0x5eed_cafeL);
  }

  private static final int RANDOM_INPUTS_PER_SEED = 5_000;
  private static final int MUTATIONS_PER_SEED = 5_000;

  @ParameterizedTest(name = "seed={0}")
  @MethodSource("seeds")
  void randomBytesAreRejectedOrDecodedWithoutThrowing(long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    for (int i = 0; i < RANDOM_INPUTS_PER_SEED; i++) {
      int len = rnd.nextInt(8) == 0 ? rnd.nextInt(2048) : rnd.nextInt(48);
      byte[] input = new byte[len];
      rnd.nextBytes(input);
      decodeSafely(input, "seed=" + seed + " input#" + i);
    }
  }

  @ParameterizedTest(name = "seed={0}")
  @MethodSource("seeds")
  void mutatedEncodingsAreRejectedOrDecodedWithoutThrowing(long seed) {
    List<byte[]> valid =
        coreEvents().stream().map(e -> EventCodec.encode(e).toByteArray()).toList();
    SplittableRandom rnd = new SplittableRandom(seed);
    int ok = 0;
    int rejected = 0;
    for (int i = 0; i < MUTATIONS_PER_SEED; i++) {
      byte[] input = valid.get(rnd.nextInt(valid.size()));
      int mutations = 1 + rnd.nextInt(4);
      for (int m = 0; m < mutations; m++) {
        input = mutate(input, rnd);
      }
      if (decodeSafely(input, "seed=" + seed + " mutation#" + i)) {
        ok++;
      } else {
        rejected++;
      }
    }
    assertTrue(ok > 0 && rejected > 0, "seed=" + seed + ": ok=" + ok + " rejected=" + rejected);
  }

  /**
   * Decodes; returns whether it succeeded; fails the test (naming the input) if anything is thrown.
   */
  private boolean decodeSafely(byte[] input, String what) {
    try {
      DecodeResult<Event> r = codec.decode(input);
      if (r instanceof DecodeResult.Ok<Event> ok) {
        // Whatever decodes is a proper event: printable, hashable, and stable under re-encoding.
        Event e = ok.value();
        assertTrue(e.toString().contains(e.destination().value()), what);
        assertEquals(e.hashCode(), e.stripped().withFollowUps(e.followUps()).hashCode(), what);
        assertEquals(DecodeResult.ok(e), codec.decode(EventCodec.encode(e)), what);
        return true;
      }
      assertTrue(!((DecodeResult.Error<Event>) r).reason().isEmpty(), what);
      return false;
    } catch (AssertionError e) {
      throw e;
    } catch (Throwable t) {
      fail(what + " threw on input " + HexFormat.of().formatHex(input), t);
      return false;
    }
  }

  private static byte[] mutate(byte[] in, SplittableRandom rnd) {
    if (in.length == 0) {
      return new byte[] {(byte) rnd.nextInt(256)};
    }
    int pos = rnd.nextInt(in.length);
    return switch (rnd.nextInt(7)) {
      case 0 -> { // flip one bit
        byte[] out = in.clone();
        out[pos] ^= (byte) (1 << rnd.nextInt(8));
        yield out;
      }
      case 1 -> { // overwrite one byte
        byte[] out = in.clone();
        out[pos] = (byte) rnd.nextInt(256);
        yield out;
      }
      case 2 -> { // overwrite with a boundary value that upsets lengths and varints
        byte[] out = in.clone();
        out[pos] = new byte[] {0, 1, 0x7f, (byte) 0x80, (byte) 0xff}[rnd.nextInt(5)];
        yield out;
      }
      case 3 -> { // truncate
        byte[] out = new byte[pos];
        System.arraycopy(in, 0, out, 0, pos);
        yield out;
      }
      case 4 -> { // delete one byte
        byte[] out = new byte[in.length - 1];
        System.arraycopy(in, 0, out, 0, pos);
        System.arraycopy(in, pos + 1, out, pos, in.length - pos - 1);
        yield out;
      }
      case 5 -> { // insert a random byte
        byte[] out = new byte[in.length + 1];
        System.arraycopy(in, 0, out, 0, pos);
        out[pos] = (byte) rnd.nextInt(256);
        System.arraycopy(in, pos, out, pos + 1, in.length - pos);
        yield out;
      }
      default -> { // duplicate a slice (repeated fields, nested records)
        int len = 1 + rnd.nextInt(in.length - pos);
        byte[] out = new byte[in.length + len];
        System.arraycopy(in, 0, out, 0, pos + len);
        System.arraycopy(in, pos, out, pos + len, in.length - pos);
        yield out;
      }
    };
  }

  @Test
  void sharedCodecLearnsTypesEncodedInThisJvm() {
    assertTrue(
        EventCodec.shared().registry().contains(PayloadRegistry.typeUrl(Init.getDescriptor())));
    for (Event e : coreEvents()) {
      assertEquals(DecodeResult.ok(e), EventCodec.shared().decode(EventCodec.encode(e)));
    }
  }
}
