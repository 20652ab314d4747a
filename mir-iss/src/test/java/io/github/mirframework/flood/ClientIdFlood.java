package io.github.mirframework.flood;

import com.google.protobuf.ByteString;
import io.github.mirframework.client.ClientSigner;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.client.pb.RequestAck;
import io.github.mirframework.client.pb.RequestBatch;
import io.github.mirframework.client.pb.RequestReceiverGrpc;
import io.github.mirframework.client.pb.SessionFrame;
import io.github.mirframework.crypto.InsecureKeys;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.types.ClientId;
import io.github.mirframework.types.NodeId;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.security.InvalidKeyException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Requests that no replica may accept, {@code count} in all, sent to the client ports of the {@code
 * targets} as fast as they read them: every other request comes from a fresh client ID that is not
 * registered, the others claim to be one of the {@code victims} with its next request numbers (an
 * attempt to take them) and carry a signature by a key that is not the victim's. Each target gets
 * three streams: a {@code Session} stream whose answers the attacker reads, one whose answers it
 * never reads, and a {@code Submit} stream (one answer per request) whose answers it never reads; a
 * stream the node ends is opened again. A node reads a silent stream only while it can write the
 * answers, so the silent streams soon stall and the reading ones carry the rest. Threads: the
 * connections' event loops.
 */
class ClientIdFlood implements Flood {
  static final int BATCH = 50;

  /** A receiver to attack: its address and key. */
  record Target(NodeAddress address, ByteString key) {}

  private final String name;
  private final int count;
  private final Map<ClientId, LongSupplier> victims;
  private final LongSupplier rejected;
  private final List<PeerChannel> channels = new ArrayList<>();
  private final List<ByteString> signatures = new ArrayList<>();
  private final AtomicLong next = new AtomicLong();
  private final AtomicLong sent = new AtomicLong();
  private final AtomicLong sentOnReadingStreams = new AtomicLong();
  private final AtomicLong answersRead = new AtomicLong();
  private final AtomicLong streams = new AtomicLong();
  private final Map<String, AtomicLong> endings = new ConcurrentHashMap<>();
  private final List<Stream<?, ?>> all = new ArrayList<>();
  private volatile boolean stopped;
  private volatile boolean started;

  /**
   * @param rejected the number of requests the targets have rejected since the flood started
   */
  ClientIdFlood(
      String name,
      List<Target> targets,
      int count,
      Map<ClientId, LongSupplier> victims,
      LongSupplier rejected)
      throws InvalidKeyException {
    this.name = name;
    this.count = count;
    this.victims = Map.copyOf(victims);
    this.rejected = rejected;
    ClientSigner attacker =
        ClientSigner.of(ClientId.of("attacker"), InsecureKeys.keyPair(NodeId.of("attacker"), 5));
    for (int i = 0; i < 8; i++) {
      signatures.add(attacker.sign(i, ByteString.copyFromUtf8("anything " + i)).getSignature());
    }
    for (Target t : targets) {
      PeerChannel ch = new PeerChannel(t.address(), null, t.key());
      channels.add(ch);
      all.add(new Stream<>(ch, RequestReceiverGrpc.getSessionMethod(), true, "session_reading"));
      all.add(new Stream<>(ch, RequestReceiverGrpc.getSessionMethod(), false, "session_silent"));
      all.add(new Stream<>(ch, RequestReceiverGrpc.getSubmitMethod(), false, "submit_silent"));
    }
  }

  /** Request {@code i} of the flood. */
  private Request request(long i) {
    ByteString sig = signatures.get((int) (i % signatures.size()));
    if (i % 2 == 0) {
      return Request.newBuilder()
          .setClientId("fresh-" + i)
          .setReqNo(0)
          .setData(ByteString.copyFromUtf8("hello from a fresh client " + i))
          .setSignature(sig)
          .build();
    }
    List<ClientId> ids = new ArrayList<>(victims.keySet());
    ClientId victim = ids.get((int) ((i / 2) % ids.size()));
    long reqNo = victims.get(victim).getAsLong() + (i / 2) % 64;
    return Request.newBuilder()
        .setClientId(victim.value())
        .setReqNo(reqNo)
        .setData(FloodApp.FORGED.concat(ByteString.copyFromUtf8("taking " + victim + "." + reqNo)))
        .setSignature(sig)
        .build();
  }

  /** One attacking stream; re-opened when the node ends it. */
  private final class Stream<ReqT, RespT> {
    final PeerChannel ch;
    final MethodDescriptor<ReqT, RespT> method;
    final boolean reads;
    final boolean batched;
    final String kind;
    // Guarded by this.
    ClientCall<ReqT, RespT> call;

    Stream(PeerChannel ch, MethodDescriptor<ReqT, RespT> method, boolean reads, String kind) {
      this.ch = ch;
      this.method = method;
      this.reads = reads;
      this.batched =
          method
              .getFullMethodName()
              .equals(RequestReceiverGrpc.getSessionMethod().getFullMethodName());
      this.kind = kind;
    }

    synchronized void open() {
      if (stopped || next.get() >= count) {
        return;
      }
      ClientCall<ReqT, RespT> c = ch.channel.newCall(method, CallOptions.DEFAULT);
      call = c;
      streams.incrementAndGet();
      c.start(
          new ClientCall.Listener<>() {
            @Override
            public void onMessage(RespT message) {
              if (message instanceof SessionFrame f) {
                answersRead.addAndGet(f.getNotAcceptedCount());
              } else if (message instanceof RequestAck) {
                answersRead.incrementAndGet();
              }
              c.request(1);
            }

            @Override
            public void onReady() {
              pump(c);
            }

            @Override
            public void onClose(Status status, Metadata trailers) {
              endings
                  .computeIfAbsent(
                      kind + "_ended_" + status.getCode().name().toLowerCase(Locale.ROOT),
                      k -> new AtomicLong())
                  .incrementAndGet();
              synchronized (Stream.this) {
                if (call != c) {
                  return;
                }
                call = null;
              }
              if (!stopped) {
                try {
                  ch.loop().schedule(Stream.this::open, 1, TimeUnit.MILLISECONDS);
                } catch (RejectedExecutionException e) {
                  // Closing.
                }
              }
            }
          },
          new Metadata());
      if (reads) {
        c.request(1);
      }
      pump(c);
    }

    @SuppressWarnings("unchecked")
    synchronized void pump(ClientCall<ReqT, RespT> c) {
      while (c == call && !stopped && c.isReady()) {
        if (batched) {
          RequestBatch.Builder b = RequestBatch.newBuilder();
          for (int k = 0; k < BATCH; k++) {
            long i = next.getAndIncrement();
            if (i >= count) {
              break;
            }
            b.addRequests(request(i));
          }
          if (b.getRequestsCount() == 0) {
            return;
          }
          c.sendMessage((ReqT) b.build());
          sent.addAndGet(b.getRequestsCount());
          if (reads) {
            sentOnReadingStreams.addAndGet(b.getRequestsCount());
          }
        } else {
          long i = next.getAndIncrement();
          if (i >= count) {
            return;
          }
          c.sendMessage((ReqT) request(i));
          sent.incrementAndGet();
          if (reads) {
            sentOnReadingStreams.incrementAndGet();
          }
        }
      }
    }

    synchronized void cancel() {
      if (call != null) {
        call.cancel("flood over", null);
        call = null;
      }
    }
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public void start() {
    started = true;
    for (Stream<?, ?> s : all) {
      s.ch.loop().execute(s::open);
    }
  }

  /**
   * Whether every request was sent and those on the streams whose answers the attacker reads were
   * all answered (the node reads the silent streams only while their answers can be written).
   */
  @Override
  public boolean finished() {
    return started && sent.get() >= count && answersRead.get() >= sentOnReadingStreams.get();
  }

  @Override
  public int openSockets() {
    return stopped ? 0 : channels.size();
  }

  @Override
  public Map<String, Long> counters() {
    Map<String, Long> m = new TreeMap<>();
    m.put("requests_sent", sent.get());
    m.put("requests_sent_on_silent_streams", sent.get() - sentOnReadingStreams.get());
    m.put("rejected_by_receivers", rejected.getAsLong());
    m.put("answers_read", answersRead.get());
    m.put("streams", streams.get());
    endings.forEach((k, v) -> m.put(k, v.get()));
    return m;
  }

  @Override
  public void close() {
    if (stopped) {
      return;
    }
    stopped = true;
    for (Stream<?, ?> s : all) {
      s.cancel();
    }
    for (PeerChannel ch : channels) {
      ch.close();
    }
  }
}
