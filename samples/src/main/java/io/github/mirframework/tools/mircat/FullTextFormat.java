package io.github.mirframework.tools.mircat;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.TextFormat;
import com.google.protobuf.TypeRegistry;
import java.util.List;

/**
 * Protobuf text format that also shows fields holding their default value (protobuf's own printer
 * omits them, so a sequence number 0 or an empty string would vanish). Fields with explicit
 * presence (messages, oneof members, {@code optional}) are shown only when set, as protobuf does;
 * {@code Any} payloads are unpacked when the log describes their type.
 */
final class FullTextFormat {
  private final TypeRegistry types;

  FullTextFormat(TypeRegistry types) {
    this.types = types;
  }

  /** Appends the fields of {@code m}, one per line, each line starting with {@code indent}. */
  void appendFields(StringBuilder sb, Message m, String indent) {
    if (m.getDescriptorForType().getFullName().equals(Any.getDescriptor().getFullName())
        && appendAny(sb, m, indent)) {
      return;
    }
    for (FieldDescriptor f : m.getDescriptorForType().getFields()) {
      if (f.isRepeated()) {
        for (Object v : (List<?>) m.getField(f)) {
          appendField(sb, f, v, indent);
        }
      } else if (!f.hasPresence() || m.hasField(f)) {
        appendField(sb, f, m.getField(f), indent);
      }
    }
    // Fields the log's descriptors did not know (e.g. a newer writer) are not dropped silently.
    if (!m.getUnknownFields().asMap().isEmpty()) {
      for (String line : m.getUnknownFields().toString().split("\n")) {
        if (!line.isEmpty()) {
          sb.append(indent).append(line).append('\n');
        }
      }
    }
  }

  private void appendField(StringBuilder sb, FieldDescriptor f, Object value, String indent) {
    String name = f.isExtension() ? "[" + f.getFullName() + "]" : f.getName();
    if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
      sb.append(indent).append(name).append(" {\n");
      appendFields(sb, (Message) value, indent + "  ");
      sb.append(indent).append("}\n");
      return;
    }
    sb.append(indent).append(name).append(": ").append(scalar(f, value)).append('\n');
  }

  private static String scalar(FieldDescriptor f, Object value) {
    return switch (f.getJavaType()) {
      case STRING -> "\"" + TextFormat.escapeBytes(ByteString.copyFromUtf8((String) value)) + "\"";
      case BYTE_STRING -> "\"" + TextFormat.escapeBytes((ByteString) value) + "\"";
      case ENUM -> ((EnumValueDescriptor) value).getName();
      case INT ->
          f.getType() == FieldDescriptor.Type.UINT32 || f.getType() == FieldDescriptor.Type.FIXED32
              ? Integer.toUnsignedString((Integer) value)
              : value.toString();
      case LONG ->
          f.getType() == FieldDescriptor.Type.UINT64 || f.getType() == FieldDescriptor.Type.FIXED64
              ? Long.toUnsignedString((Long) value)
              : value.toString();
      default -> value.toString();
    };
  }

  /** Unpacks an {@code Any} whose type the log describes; false if it cannot. */
  private boolean appendAny(StringBuilder sb, Message any, String indent) {
    Descriptor d = any.getDescriptorForType();
    String url = (String) any.getField(d.findFieldByName("type_url"));
    ByteString value = (ByteString) any.getField(d.findFieldByName("value"));
    Descriptor inner;
    try {
      inner = types.getDescriptorForTypeUrl(url);
    } catch (InvalidProtocolBufferException e) {
      return false;
    }
    if (inner == null) {
      return false;
    }
    DynamicMessage unpacked;
    try {
      unpacked = DynamicMessage.parseFrom(inner, value);
    } catch (InvalidProtocolBufferException e) {
      return false;
    }
    sb.append(indent).append('[').append(url).append("] {\n");
    appendFields(sb, unpacked, indent + "  ");
    sb.append(indent).append("}\n");
    return true;
  }
}
