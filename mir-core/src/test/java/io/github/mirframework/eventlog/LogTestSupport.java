package io.github.mirframework.eventlog;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import com.google.protobuf.MessageOrBuilder;
import io.github.mirframework.event.Event;
import io.github.mirframework.eventlog.pb.LogRecord;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Assertions;

/** Helpers shared by the event log tests. */
final class LogTestSupport {
  private LogTestSupport() {}

  /**
   * The content of a message as a tree of field names and values, independent of whether it is a
   * generated class or a DynamicMessage: what "same content, field by field" means in these tests.
   */
  static Map<String, Object> fields(MessageOrBuilder m) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("@type", m.getDescriptorForType().getFullName());
    for (Map.Entry<FieldDescriptor, Object> f : m.getAllFields().entrySet()) {
      out.put(f.getKey().getName(), value(f.getKey(), f.getValue()));
    }
    return out;
  }

  private static Object value(FieldDescriptor fd, Object v) {
    if (fd.isRepeated()) {
      List<Object> items = new ArrayList<>();
      for (Object item : (List<?>) v) {
        items.add(single(fd, item));
      }
      return items;
    }
    return single(fd, v);
  }

  private static Object single(FieldDescriptor fd, Object v) {
    return switch (fd.getJavaType()) {
      case MESSAGE -> fields((Message) v);
      case ENUM -> v.toString();
      default -> v;
    };
  }

  /**
   * Asserts that a recorded event has the destination, payload content and follow-ups of {@code
   * expected}.
   */
  static void assertSameEvent(Event expected, RecordedEvent actual) {
    Assertions.assertEquals(expected.destination(), actual.destination());
    Assertions.assertEquals(
        expected.payload().getDescriptorForType().getFullName(), actual.typeName());
    Assertions.assertEquals(fields(expected.payload()), fields(actual.payload()));
    Assertions.assertEquals(
        expected.followUps().size(), actual.followUps().size(), "number of follow-ups");
    for (int i = 0; i < expected.followUps().size(); i++) {
      assertSameEvent(expected.followUps().get(i), actual.followUps().get(i));
    }
  }

  /** Writes {@code records} as a log file, framed and compressed as the recorder does. */
  static void writeRawLog(Path file, LogRecord... records) throws IOException {
    Files.write(file, gzip(frame(records)));
  }

  static byte[] frame(LogRecord... records) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    com.google.protobuf.CodedOutputStream out =
        com.google.protobuf.CodedOutputStream.newInstance(bytes);
    for (LogRecord r : records) {
      out.writeSInt64NoTag(r.getSerializedSize());
      r.writeTo(out);
    }
    out.flush();
    return bytes.toByteArray();
  }

  static byte[] gzip(byte[] data) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
      gz.write(data);
    }
    return bytes.toByteArray();
  }
}
