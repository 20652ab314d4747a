package io.github.mirframework.crypto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.github.mirframework.crypto.pb.HashData;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.pb.Origin;
import io.github.mirframework.types.LittleEndian;
import io.github.mirframework.types.ModuleId;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

class HasherModuleTest {
  private static final ModuleId HASHER = HasherModule.DEFAULT_ID;
  private static final ModuleId ISS = ModuleId.of("iss");
  private static final String SHA256_ABC =
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  private static final String SHA256_EMPTY =
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

  private static ByteString b(String s) {
    return ByteString.copyFromUtf8(s);
  }

  private static ByteString hex(String s) {
    return ByteString.copyFrom(HexFormat.of().parseHex(s));
  }

  @Test
  void hashesEachHashDataAsThePlainConcatenationOfItsChunks() {
    Origin origin = CryptoEvents.dslOrigin(ISS, 17);
    EventList out =
        new HasherModule()
            .applyEvents(
                EventList.of(
                    CryptoEvents.hashRequest(
                        HASHER,
                        List.of(
                            CryptoEvents.hashData(b("abc")),
                            CryptoEvents.hashData(b("ab"), b("c")),
                            CryptoEvents.hashData(b("a"), b(""), b("bc")),
                            HashData.getDefaultInstance()),
                        origin)));
    assertEquals(
        EventList.of(
            CryptoEvents.hashResult(
                origin,
                List.of(hex(SHA256_ABC), hex(SHA256_ABC), hex(SHA256_ABC), hex(SHA256_EMPTY)))),
        out);
    assertEquals(ISS, out.get(0).destination());
  }

  @Test
  void hashLayoutOfNumbersIsLittleEndianWithoutSeparators() {
    // Appendix C layouts: e.g. a checkpoint signature hashes [epoch, sn, snapshot hash] as 8-byte
    // little-endian numbers.
    List<ByteString> chunks =
        List.of(
            ByteString.copyFrom(LittleEndian.u64(1)),
            ByteString.copyFrom(LittleEndian.u64(0x0102)),
            b("h"));
    Origin origin = CryptoEvents.origin(ISS);
    EventList out =
        new HasherModule()
            .applyEvents(
                EventList.of(
                    CryptoEvents.hashRequest(
                        HASHER, List.of(CryptoEvents.hashData(chunks)), origin)));
    byte[] expectedInput = HexFormat.of().parseHex("0100000000000000" + "0201000000000000" + "68");
    ByteString expected =
        ByteString.copyFrom(
            io.github.mirframework.crypto.internal.Digests.newSha256().digest(expectedInput));
    assertEquals(EventList.of(CryptoEvents.hashResult(origin, List.of(expected))), out);
  }

  @Test
  void answersEveryRequestInOrderAndIgnoresInit() {
    Origin first = CryptoEvents.contextStoreOrigin(ISS, 1);
    Origin second = CryptoEvents.opaqueOrigin(ModuleId.of("availability/3"), b("ctx"));
    EventList out =
        new HasherModule()
            .applyEvents(
                EventList.of(
                    Events.init(HASHER),
                    CryptoEvents.hashRequest(
                        HASHER, List.of(CryptoEvents.hashData(b("abc"))), first),
                    CryptoEvents.hashRequest(HASHER, List.of(), second)));
    assertEquals(
        EventList.of(
            CryptoEvents.hashResult(first, List.of(hex(SHA256_ABC))),
            CryptoEvents.hashResult(second, List.of())),
        out);
    assertEquals(ModuleId.of("availability/3"), out.get(1).destination());
  }

  @Test
  void supportsOtherAlgorithms() {
    EventList out =
        new HasherModule("SHA-512")
            .applyEvents(
                EventList.of(
                    CryptoEvents.hashRequest(
                        HASHER,
                        List.of(CryptoEvents.hashData(b("abc"))),
                        CryptoEvents.origin(ISS))));
    assertEquals(
        64,
        out.get(0).payload(io.github.mirframework.crypto.pb.HashResult.class).getDigests(0).size());
    assertThrows(IllegalArgumentException.class, () -> new HasherModule("NO-SUCH-HASH"));
  }

  @Test
  void rejectsUnexpectedEventsAndRequestsWithoutOrigin() {
    HasherModule hasher = new HasherModule();
    var e =
        assertThrows(
            IllegalArgumentException.class,
            () -> hasher.applyEvents(EventList.of(Events.testingString(HASHER, "hi"))));
    assertTrue(e.getMessage().contains("TestingString"), e.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () ->
            hasher.applyEvents(
                EventList.of(
                    CryptoEvents.hashRequest(HASHER, List.of(), Origin.getDefaultInstance()))));
  }
}
