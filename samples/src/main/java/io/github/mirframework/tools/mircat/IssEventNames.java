package io.github.mirframework.tools.mircat;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.OneofDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.TypeRegistry;
import java.util.Locale;
import java.util.Optional;

/**
 * Names of ISS events for {@code mircat --iss-event} (Mir's ISS event sub-types).
 *
 * <p>Mir's events were one big {@code oneof} with an {@code Iss} case holding a second {@code
 * oneof} of ISS events; {@code --iss-event} chose among the cases of the second. Mir-Java's ISS
 * events are payloads of their own types in the {@code mir.iss} packages, some of which wrap the
 * event of one PBFT orderer ({@code SbEvent}) or carry a PBFT message. The ISS name of an event is
 * its payload's simple type name followed by the case of the first {@code oneof} set inside it,
 * e.g. {@code SbEvent:PersistPreprepare} or {@code SbMessage:Commit} for a received or sent message
 * whose payload is an ISS message. A filter matches either part or both ({@code Preprepare}, {@code
 * SbEvent}, {@code SbEvent:Preprepare}), case-insensitively, with or without underscores.
 */
final class IssEventNames {
  private static final int MAX_DEPTH = 4;

  private IssEventNames() {}

  /**
   * The ISS name of an event with this payload, if it is an ISS event (an ISS type, or a core
   * network event carrying one).
   *
   * @param types the types described by the log, to open {@code Any} fields
   */
  static Optional<String> of(Message payload, TypeRegistry types) {
    Message m = payload;
    String type = m.getDescriptorForType().getFullName();
    if (type.equals("mir.core.MessageReceived") || type.equals("mir.core.SendMessage")) {
      m = netPayload(m, types);
      if (m == null) {
        return Optional.empty();
      }
    }
    if (!isIss(m.getDescriptorForType())) {
      return Optional.empty();
    }
    String name = m.getDescriptorForType().getName();
    String inner = firstOneofCase(m, 0);
    return Optional.of(inner == null ? name : name + ":" + inner);
  }

  /** Whether {@code filter} selects an event with ISS name {@code issName}. */
  static boolean matches(String filter, String issName) {
    String f = normalize(filter);
    int colon = issName.indexOf(':');
    String outer = colon < 0 ? issName : issName.substring(0, colon);
    String inner = colon < 0 ? "" : issName.substring(colon + 1);
    return f.equals(normalize(issName))
        || f.equals(normalize(outer))
        || (!inner.isEmpty() && f.equals(normalize(inner)));
  }

  private static String normalize(String s) {
    return s.replace("_", "").replace(" ", "").toLowerCase(Locale.ROOT);
  }

  private static boolean isIss(Descriptor d) {
    String pkg = d.getFile().getPackage();
    return pkg.equals("mir.iss") || pkg.startsWith("mir.iss.");
  }

  /** The payload of the NetMessage of a SendMessage or MessageReceived, unpacked, or null. */
  private static Message netPayload(Message m, TypeRegistry types) {
    FieldDescriptor msgField = m.getDescriptorForType().findFieldByName("msg");
    if (msgField == null || !m.hasField(msgField)) {
      return null;
    }
    Message net = (Message) m.getField(msgField);
    FieldDescriptor payloadField = net.getDescriptorForType().findFieldByName("payload");
    if (payloadField == null || !net.hasField(payloadField)) {
      return null;
    }
    Message any = (Message) net.getField(payloadField);
    try {
      Any a = any instanceof Any x ? x : Any.parseFrom(any.toByteString());
      Descriptor d = types.getDescriptorForTypeUrl(a.getTypeUrl());
      return d == null ? null : DynamicMessage.parseFrom(d, a.getValue());
    } catch (InvalidProtocolBufferException e) {
      return null;
    }
  }

  /** The case of the first oneof set in {@code m} or in a message field inside it, CamelCase. */
  private static String firstOneofCase(Message m, int depth) {
    if (depth > MAX_DEPTH) {
      return null;
    }
    for (OneofDescriptor o : m.getDescriptorForType().getRealOneofs()) {
      if (m.hasOneof(o)) {
        return camel(m.getOneofFieldDescriptor(o).getName());
      }
    }
    for (FieldDescriptor f : m.getDescriptorForType().getFields()) {
      if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE && !f.isRepeated() && m.hasField(f)) {
        String inner = firstOneofCase((Message) m.getField(f), depth + 1);
        if (inner != null) {
          return inner;
        }
      }
    }
    return null;
  }

  private static String camel(String snake) {
    StringBuilder sb = new StringBuilder();
    boolean up = true;
    for (char c : snake.toCharArray()) {
      if (c == '_') {
        up = true;
      } else {
        sb.append(up ? Character.toUpperCase(c) : c);
        up = false;
      }
    }
    return sb.toString();
  }
}
