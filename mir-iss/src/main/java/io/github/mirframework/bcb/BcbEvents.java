package io.github.mirframework.bcb;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.github.mirframework.bcb.pb.BroadcastRequest;
import io.github.mirframework.bcb.pb.Deliver;
import io.github.mirframework.bcb.pb.EchoMessage;
import io.github.mirframework.bcb.pb.FinalMessage;
import io.github.mirframework.bcb.pb.StartMessage;
import io.github.mirframework.event.Event;
import io.github.mirframework.types.ModuleId;
import java.util.List;

/** Factories for the events of the {@link BcbModule}. Stateless. */
public final class BcbEvents {
  private BcbEvents() {}

  /** Asks the BCB module {@code bcb} (at the leader) to broadcast {@code data}. */
  public static Event broadcastRequest(ModuleId bcb, ByteString data) {
    return Event.of(bcb, BroadcastRequest.newBuilder().setData(data).build());
  }

  /** Tells the consumer module {@code consumer} that {@code data} was delivered. */
  public static Event deliver(ModuleId consumer, ByteString data) {
    return Event.of(consumer, Deliver.newBuilder().setData(data).build());
  }

  /**
   * Prototypes of all event and message payload types of BCB, for registration with a {@code
   * PayloadRegistry} so that recorded or logged events of these types can be decoded.
   */
  public static List<Message> payloadTypes() {
    return List.of(
        BroadcastRequest.getDefaultInstance(),
        Deliver.getDefaultInstance(),
        StartMessage.getDefaultInstance(),
        EchoMessage.getDefaultInstance(),
        FinalMessage.getDefaultInstance());
  }
}
