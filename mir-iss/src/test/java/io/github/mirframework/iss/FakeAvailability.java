package io.github.mirframework.iss;

import com.google.protobuf.ByteString;
import io.github.mirframework.availability.AvailabilityEvents;
import io.github.mirframework.availability.pb.Cert;
import io.github.mirframework.availability.pb.RequestCert;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.factory.pb.GarbageCollect;
import io.github.mirframework.factory.pb.NewModule;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.types.NodeId;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.TreeSet;

/**
 * A stand-in for the availability factory and its instances: it records which instances ISS creates
 * and garbage-collects, and answers each {@code RequestCert} at once with a certificate of the next
 * batch of injected requests (possibly empty). The "batch ID" names the node and the requests, so
 * every certificate is distinct and readable.
 */
final class FakeAvailability implements PassiveModule {
  final NodeId self;
  final Deque<Request> pending = new ArrayDeque<>();
  final TreeSet<String> instances = new TreeSet<>();
  final List<Long> garbageCollected = new ArrayList<>();
  private int batches;

  FakeAvailability(NodeId self) {
    this.self = self;
  }

  @Override
  public EventList applyEvents(EventList events) {
    EventList out = EventList.empty();
    for (Event e : events) {
      switch (e.payload()) {
        case NewModule nm -> instances.add(nm.getModuleId());
        case GarbageCollect gc -> garbageCollected.add(gc.getRetentionIndex());
        case RequestCert rc -> {
          if (!instances.contains(e.destination().value())) {
            throw new IllegalStateException("certificate requested from " + e.destination());
          }
          StringBuilder id = new StringBuilder("node " + self + " batch " + batches++ + ":");
          for (int i = 0; i < 2 && !pending.isEmpty(); i++) {
            Request r = pending.poll();
            id.append(' ').append(r.getClientId()).append('.').append(r.getReqNo());
          }
          out.add(AvailabilityEvents.newCert(rc.getOrigin(), cert(id.toString(), self)));
        }
        default -> {}
      }
    }
    return out;
  }

  static Cert cert(String batchId, NodeId signer) {
    return AvailabilityEvents.mscCert(
        ByteString.copyFromUtf8(batchId), List.of(signer), List.of(ByteString.copyFromUtf8("sig")));
  }
}
