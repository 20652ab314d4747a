package io.github.mirframework.eventlog;

import static io.github.mirframework.eventlog.LogTestSupport.gzip;
import static io.github.mirframework.eventlog.LogTestSupport.writeRawLog;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Any;
import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.Message;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventCodec;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.PayloadRegistry;
import io.github.mirframework.event.pb.NetMessage;
import io.github.mirframework.event.pb.TestingString;
import io.github.mirframework.eventlog.pb.LogEntry;
import io.github.mirframework.eventlog.pb.LogHeader;
import io.github.mirframework.eventlog.pb.LogRecord;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogReaderTest {
  private static final NodeId NODE = NodeId.of("0");
  private static final ModuleId VAULT = ModuleId.of("vault");
  private static final LogRecord HEADER =
      LogRecord.newBuilder()
          .setHeader(LogHeader.newBuilder().setFormatVersion(1).setNodeId("0").setSeriesId("s"))
          .build();

  @TempDir Path dir;

  /**
   * A type no class in this JVM knows: {@code package test; message Secret { string word = 1;
   * uint64 n = 2; }}.
   */
  private static Descriptor secretType() throws Exception {
    FileDescriptorProto file =
        FileDescriptorProto.newBuilder()
            .setName("test/secret.proto")
            .setPackage("test")
            .setSyntax("proto3")
            .addMessageType(
                DescriptorProto.newBuilder()
                    .setName("Secret")
                    .addField(field("word", 1, FieldDescriptorProto.Type.TYPE_STRING))
                    .addField(field("n", 2, FieldDescriptorProto.Type.TYPE_UINT64)))
            .build();
    return FileDescriptor.buildFrom(file, new FileDescriptor[0]).findMessageTypeByName("Secret");
  }

  private static FieldDescriptorProto field(
      String name, int number, FieldDescriptorProto.Type type) {
    return FieldDescriptorProto.newBuilder()
        .setName(name)
        .setNumber(number)
        .setType(type)
        .setLabel(FieldDescriptorProto.Label.LABEL_OPTIONAL)
        .build();
  }

  @Test
  void readsALogWhosePayloadClassesItLacks() throws Exception {
    Descriptor secretType = secretType();
    DynamicMessage secret =
        DynamicMessage.newBuilder(secretType)
            .setField(secretType.findFieldByName("word"), "swordfish")
            .setField(secretType.findFieldByName("n"), 42L)
            .build();
    Event direct = Event.of(VAULT, secret);
    Event packed =
        Events.sendMessage(
            ModuleId.of("net"),
            NetMessage.newBuilder().setDestModule("vault").setPayload(Any.pack(secret)).build(),
            List.of(NodeId.of("1")));
    Recorder recorder = Recorder.builder(NODE, dir).build();
    recorder.intercept(VAULT, EventList.of(direct, packed));
    recorder.close();

    try (LogReader reader = LogReader.open(recorder.files())) {
      RecordedEntry entry = reader.readAll().get(0);
      RecordedEvent read = entry.events().get(0);
      assertEquals(VAULT, read.destination());
      assertEquals("test.Secret", read.typeName());
      Message payload = read.payload();
      assertInstanceOf(DynamicMessage.class, payload);
      Descriptor readType = payload.getDescriptorForType();
      assertEquals("swordfish", payload.getField(readType.findFieldByName("word")));
      assertEquals(42L, payload.getField(readType.findFieldByName("n")));

      assertEquals("vault <- test.Secret{word: \"swordfish\" n: 42}", reader.format(read));
      String text = reader.format(entry);
      assertTrue(
          text.contains("[type.googleapis.com/test.Secret] { word: \"swordfish\" n: 42 }"),
          "the Any in the network message is expanded: " + text);
    }
  }

  @Test
  void aTruncatedFileYieldsItsCompleteEntriesThenATruncationError() throws Exception {
    Random random = new Random(7);
    Recorder recorder = Recorder.builder(NODE, dir).build();
    for (int i = 0; i < 300; i++) {
      byte[] noise = new byte[64];
      random.nextBytes(noise);
      recorder.intercept(
          VAULT, EventList.of(Events.testingString(VAULT, i + ":" + Arrays.toString(noise))));
    }
    recorder.close();
    byte[] whole = Files.readAllBytes(recorder.files().get(0));
    Path cut = dir.resolve("cut.gz");
    Files.write(cut, Arrays.copyOf(whole, whole.length / 2));

    int complete = 0;
    try (LogReader reader = LogReader.open(cut)) {
      TruncatedLogException e = null;
      while (e == null) {
        try {
          Optional<RecordedEntry> next = reader.next();
          assertTrue(next.isPresent(), "a truncated file does not end normally");
          String value =
              ((DynamicMessage) next.get().events().get(0).payload())
                  .getAllFields()
                  .values()
                  .toString();
          assertTrue(value.startsWith("[" + complete + ":"), value);
          complete++;
        } catch (TruncatedLogException t) {
          e = t;
        }
      }
      assertTrue(complete > 10 && complete < 300, "complete entries: " + complete);
      assertEquals(cut, e.file());
      assertTrue(
          e.recordIndex() > complete, "header and descriptors come first: " + e.recordIndex());
      assertTrue(
          e.getMessage().startsWith(cut + ": record " + e.recordIndex() + ": "), e.getMessage());
      assertThrows(TruncatedLogException.class, reader::next, "the error sticks");
    }

    Path stub = dir.resolve("stub.gz");
    Files.write(stub, Arrays.copyOf(whole, 5));
    try (LogReader reader = LogReader.open(stub)) {
      TruncatedLogException e = assertThrows(TruncatedLogException.class, reader::next);
      assertEquals(0, e.recordIndex());
    }
  }

  @Test
  void garbageIsRejectedWithAClearErrorThatIsNotATruncation() throws Exception {
    byte[] noise = new byte[4096];
    new Random(11).nextBytes(noise);

    Path notGzip = dir.resolve("noise.bin");
    Files.write(notGzip, noise);
    LogReadException e = readFailure(notGzip);
    assertFalse(e instanceof TruncatedLogException);
    assertTrue(e.getMessage().startsWith(notGzip + ": record 0: not a gzip file"), e.getMessage());

    Path gzippedNoise = dir.resolve("noise.gz");
    Files.write(gzippedNoise, gzip(noise));
    e = readFailure(gzippedNoise);
    assertFalse(e instanceof TruncatedLogException, e.getMessage());
    assertEquals(0, e.recordIndex());
    assertTrue(e.getMessage().startsWith(gzippedNoise.toString()), e.getMessage());

    Path corruptInside = dir.resolve("corrupt.gz");
    byte[] valid = gzip(LogTestSupport.frame(HEADER, HEADER, HEADER));
    valid[valid.length / 2] ^= 0x55;
    Files.write(corruptInside, valid);
    e = readFailure(corruptInside);
    assertFalse(e instanceof TruncatedLogException, e.getMessage());

    Path missing = dir.resolve("missing.gz");
    e = readFailure(missing);
    assertEquals(missing, e.file());
    assertTrue(e.getMessage().contains("cannot open"), e.getMessage());
  }

  @Test
  void anUnknownFormatVersionIsRejected() throws Exception {
    Path file = dir.resolve("v99.gz");
    writeRawLog(
        file,
        LogRecord.newBuilder()
            .setHeader(HEADER.getHeader().toBuilder().setFormatVersion(99))
            .build());
    LogReadException e = readFailure(file);
    assertTrue(e.getMessage().contains("unknown format version 99"), e.getMessage());
  }

  @Test
  void aPayloadOfATypeTheLogNeverDescribedIsRejectedUnlessTheRegistryKnowsIt() throws Exception {
    Event event = Events.testingString(VAULT, "x");
    LogRecord entry =
        LogRecord.newBuilder()
            .setEntry(
                LogEntry.newBuilder()
                    .setNodeId("0")
                    .setModuleId("vault")
                    .setTimeMs(5)
                    .addEvents(EventCodec.toRecord(event)))
            .build();
    Path file = dir.resolve("undescribed.gz");
    writeRawLog(file, HEADER, entry);

    LogReadException e = readFailure(file);
    assertEquals(1, e.recordIndex());
    assertTrue(
        e.getMessage().contains("'type.googleapis.com/mir.core.TestingString' is not described"),
        e.getMessage());

    try (LogReader reader = LogReader.open(List.of(file), PayloadRegistry.withCoreTypes())) {
      RecordedEvent read = reader.readAll().get(0).events().get(0);
      assertEquals(TestingString.newBuilder().setValue("x").build(), read.payload());
    }
  }

  @Test
  void aLogThatDoesNotStartWithAHeaderIsRejected() throws Exception {
    Path file = dir.resolve("headless.gz");
    writeRawLog(file, LogRecord.newBuilder().setEntry(LogEntry.getDefaultInstance()).build());
    LogReadException e = readFailure(file);
    assertTrue(e.getMessage().contains("not a header"), e.getMessage());
  }

  @Test
  void aReaderIsSingleUseAndClosable() throws Exception {
    Recorder recorder = Recorder.builder(NODE, dir).build();
    recorder.intercept(VAULT, EventList.of(Events.init(VAULT)));
    recorder.close();
    LogReader reader = LogReader.open(recorder.files());
    assertEquals(1, reader.readAll().size());
    assertEquals(Optional.empty(), reader.next());
    reader.close();
    reader.close();
    assertThrows(IllegalStateException.class, reader::next);
  }

  private static LogReadException readFailure(Path file) {
    try (LogReader reader = LogReader.open(file)) {
      return assertThrows(LogReadException.class, reader::readAll);
    }
  }
}
