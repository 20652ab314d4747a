package io.github.mirframework.benchmarks;

import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.pb.NetMessage;
import io.github.mirframework.event.pb.TestingString;
import io.github.mirframework.module.EventSink;
import io.github.mirframework.net.Membership;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.net.grpc.GrpcTransport;
import io.github.mirframework.net.grpc.NodeIdentity;
import io.github.mirframework.net.grpc.Security;
import io.github.mirframework.net.grpc.TransportMetrics;
import io.github.mirframework.net.grpc.internal.PinnedKeyTrustManager;
import io.github.mirframework.net.grpc.internal.Threads;
import io.github.mirframework.net.grpc.internal.Tls;
import io.github.mirframework.net.grpc.pb.ByeBye;
import io.github.mirframework.net.grpc.pb.Frame;
import io.github.mirframework.net.grpc.pb.GrpcTransportGrpc;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.netty.NegotiationType;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.ProtoUtils;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Messages per second from one node to another over loopback: the {@link GrpcTransport} (a
 * transport sending to another transport that hands the messages to a counting stand-in for a node)
 * against raw gRPC streaming of the same frames (one client stream, a server that parses and counts
 * them), each in plaintext and with mutual TLS. One operation is one message received.
 *
 * <p>Both sides keep at most {@link #WINDOW} messages in flight, well below the transport's send
 * queue, so nothing is dropped and the figures measure delivery, not loss. Both use two Netty I/O
 * threads per endpoint; the transport also has its delivery thread.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
// Netty, gRPC and TLS take a while to be compiled: on 2 loaded cores, throughput still rises after
// 3 warm-up iterations of 2 s.
@Warmup(iterations = 6, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class GrpcTransportBenchmark {
  /** Messages sent per benchmark invocation. */
  static final int BATCH = 256;

  /** Messages allowed in flight (sent, not yet received). */
  static final int WINDOW = 768;

  static final NodeId A = NodeId.of("a");
  static final NodeId B = NodeId.of("b");
  static final long SEED = 1;

  /** A small protocol message: about 60 bytes on the wire. */
  static final NetMessage MESSAGE =
      Events.netMessage(
          ModuleId.of("app"), TestingString.newBuilder().setValue("a small message").build());

  static void awaitWindow(AtomicLong sent, AtomicLong received, long limit) {
    while (sent.get() - received.get() > limit) {
      LockSupport.parkNanos(20_000);
    }
  }

  /** Two gRPC transports, a sending to b. */
  @State(Scope.Benchmark)
  public static class TransportPair {
    @Param({"plaintext", "mtls"})
    public String security;

    GrpcTransport a;
    GrpcTransport b;
    final AtomicLong sent = new AtomicLong();
    final AtomicLong received = new AtomicLong();

    Security securityOf(NodeId id) {
      return security.equals("mtls")
          ? Security.insecureMutualTlsForTesting(id, List.of(A, B), SEED)
          : Security.plaintext();
    }

    @Setup
    public void setUp() throws Exception {
      a = GrpcTransport.builder(A, NodeAddress.loopback(0)).security(securityOf(A)).build();
      b = GrpcTransport.builder(B, NodeAddress.loopback(0)).security(securityOf(B)).build();
      a.start();
      b.start();
      Membership m = Membership.of(Map.of(A, a.listenAddress(), B, b.listenAddress()));
      a.connect(m);
      b.connect(m);
      EventSink countingNode =
          (EventList events) -> {
            received.addAndGet(events.size());
            return true;
          };
      a.start(countingNode);
      b.start(countingNode);
      if (!a.waitFor(2, Duration.ofSeconds(30))) {
        throw new IllegalStateException("a could not connect to b");
      }
    }

    @TearDown
    public void tearDown() {
      awaitWindow(sent, received, 0);
      TransportMetrics m = a.metrics();
      if (m.droppedTotal() != 0) {
        System.err.println("dropped messages: " + m.dropped());
      }
      a.stop();
      b.stop();
    }
  }

  /** A raw gRPC client stream of frames to a raw gRPC server that parses and counts them. */
  @State(Scope.Benchmark)
  public static class RawPair {
    @Param({"plaintext", "mtls"})
    public String security;

    static final MethodDescriptor<Frame, ByeBye> METHOD =
        GrpcTransportGrpc.getListenMethod().toBuilder(
                ProtoUtils.marshaller(Frame.getDefaultInstance()),
                ProtoUtils.marshaller(ByeBye.getDefaultInstance()))
            .build();

    final Threads threads = new Threads("raw");
    EventLoopGroup serverLoops;
    EventLoopGroup clientLoops;
    Server server;
    ManagedChannel channel;
    ClientCall<Frame, ByeBye> call;
    final AtomicLong sent = new AtomicLong();
    final AtomicLong received = new AtomicLong();
    final Object readyMonitor = new Object();
    Frame frame;

    @Setup
    public void setUp() throws Exception {
      frame = Frame.newBuilder().setMsg(MESSAGE).build();
      serverLoops = threads.eventLoops(2, "raw-server-io");
      clientLoops = threads.eventLoops(2, "raw-client-io");
      ServerCallHandler<Frame, ByeBye> handler =
          (serverCall, headers) -> {
            serverCall.request(1);
            return new ServerCall.Listener<>() {
              @Override
              public void onMessage(Frame message) {
                received.incrementAndGet();
                serverCall.request(1);
              }

              @Override
              public void onHalfClose() {
                serverCall.sendHeaders(new Metadata());
                serverCall.sendMessage(ByeBye.getDefaultInstance());
                serverCall.close(Status.OK, new Metadata());
              }
            };
          };
      NettyServerBuilder sb =
          NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
              .channelType(NioServerSocketChannel.class)
              .bossEventLoopGroup(serverLoops)
              .workerEventLoopGroup(serverLoops)
              .directExecutor()
              .addService(
                  ServerServiceDefinition.builder(GrpcTransportGrpc.SERVICE_NAME)
                      .addMethod(ServerMethodDefinition.create(METHOD, handler))
                      .build());
      NettyChannelBuilder cb =
          NettyChannelBuilder.forAddress("127.0.0.1", 0)
              .channelType(NioSocketChannel.class)
              .eventLoopGroup(clientLoops)
              .directExecutor();
      if (security.equals("mtls")) {
        NodeIdentity serverId = NodeIdentity.insecureForTesting(B, SEED);
        NodeIdentity clientId = NodeIdentity.insecureForTesting(A, SEED);
        sb.sslContext(
            Tls.server(
                serverId.privateKey(),
                serverId.certificate(),
                PinnedKeyTrustManager.of(Set.of(clientId.publicKey()), "a")));
        server = sb.build().start();
        cb =
            NettyChannelBuilder.forAddress("127.0.0.1", server.getPort())
                .channelType(NioSocketChannel.class)
                .eventLoopGroup(clientLoops)
                .directExecutor()
                .sslContext(
                    Tls.client(
                        clientId.privateKey(),
                        clientId.certificate(),
                        PinnedKeyTrustManager.of(Set.of(serverId.publicKey()), "b")))
                .negotiationType(NegotiationType.TLS);
      } else {
        server = sb.build().start();
        cb =
            NettyChannelBuilder.forAddress("127.0.0.1", server.getPort())
                .channelType(NioSocketChannel.class)
                .eventLoopGroup(clientLoops)
                .directExecutor()
                .usePlaintext();
      }
      channel = cb.build();
      call = channel.newCall(METHOD, CallOptions.DEFAULT);
      call.start(
          new ClientCall.Listener<>() {
            @Override
            public void onReady() {
              synchronized (readyMonitor) {
                readyMonitor.notifyAll();
              }
            }
          },
          new Metadata());
      call.request(1);
    }

    /** Sends one frame, waiting (as a well-behaved gRPC client does) while the stream is full. */
    void send() throws InterruptedException {
      while (!call.isReady()) {
        synchronized (readyMonitor) {
          if (!call.isReady()) {
            readyMonitor.wait(1);
          }
        }
      }
      call.sendMessage(frame);
      sent.incrementAndGet();
    }

    @TearDown
    public void tearDown() throws Exception {
      awaitWindow(sent, received, 0);
      call.halfClose();
      channel.shutdownNow();
      server.shutdownNow();
      channel.awaitTermination(5, TimeUnit.SECONDS);
      server.awaitTermination(5, TimeUnit.SECONDS);
      Threads.shutdown(serverLoops, Duration.ofSeconds(5));
      Threads.shutdown(clientLoops, Duration.ofSeconds(5));
      threads.joinAll(Duration.ofSeconds(5));
    }
  }

  /** The gRPC transport: {@link #BATCH} messages from node a to node b. */
  @Benchmark
  @OperationsPerInvocation(BATCH)
  public void transport(TransportPair p) {
    awaitWindow(p.sent, p.received, WINDOW - BATCH);
    for (int i = 0; i < BATCH; i++) {
      if (!p.a.send(B, MESSAGE)) {
        throw new IllegalStateException("message dropped: " + p.a.metrics().dropped());
      }
    }
    p.sent.addAndGet(BATCH);
  }

  /** Raw gRPC streaming: {@link #BATCH} frames on one client stream. */
  @Benchmark
  @OperationsPerInvocation(BATCH)
  public void rawGrpc(RawPair p) throws InterruptedException {
    awaitWindow(p.sent, p.received, WINDOW - BATCH);
    for (int i = 0; i < BATCH; i++) {
      p.send();
    }
  }
}
