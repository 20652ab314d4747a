package io.github.mirframework.client;

import com.google.protobuf.ByteString;
import io.github.mirframework.client.pb.NewRequests;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.event.Event;
import io.github.mirframework.types.ClientId;
import io.github.mirframework.types.ModuleId;
import java.util.List;

/** Factories for the client requests and the event that carries them into a node. */
public final class ClientEvents {
  private ClientEvents() {}

  /** The request number {@code reqNo} of client {@code client}. */
  public static Request request(ClientId client, long reqNo, ByteString data) {
    return Request.newBuilder().setClientId(client.value()).setReqNo(reqNo).setData(data).build();
  }

  /** The event handing {@code requests} to module {@code destination}. */
  public static Event newRequests(ModuleId destination, List<Request> requests) {
    return Event.of(destination, NewRequests.newBuilder().addAllRequests(requests).build());
  }
}
