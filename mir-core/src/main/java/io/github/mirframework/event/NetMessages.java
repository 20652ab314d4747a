package io.github.mirframework.event;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.github.mirframework.event.pb.NetMessage;
import java.util.Optional;

/**
 * Helpers for reading the payload of a {@link NetMessage} safely: a message from a peer is
 * untrusted input.
 */
public final class NetMessages {
  private NetMessages() {}

  /**
   * Returns the payload of {@code msg} if it is a well-formed message of {@code type}; empty if it
   * has another type or its bytes do not parse. Never throws on bad input.
   */
  public static <T extends Message> Optional<T> unpack(NetMessage msg, Class<T> type) {
    if (!msg.hasPayload() || !msg.getPayload().is(type)) {
      return Optional.empty();
    }
    try {
      return Optional.of(msg.getPayload().unpack(type));
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      return Optional.empty();
    }
  }
}
