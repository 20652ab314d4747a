package io.github.mirframework.tools.bench;

import com.google.protobuf.ByteString;
import io.github.mirframework.client.ClientChannels;
import io.github.mirframework.client.MirClient;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.types.ClientId;
import io.github.mirframework.types.NodeId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;

/**
 * Submits through one {@link MirClient} per bench client, to the request receivers of all replicas,
 * on connections the clients share ({@link ClientChannels}) or on their own. Thread-safe (each
 * client's submissions are serialized by the caller).
 */
final class GrpcSubmitter implements Cluster.Submitter {
  /** Streams a bench replica's request receiver accepts on one connection (the shared one). */
  static final int STREAMS_PER_CONNECTION = 4096;

  private final List<MirClient> clients = new ArrayList<>();
  private final int nodes;
  private ClientChannels channels;

  /**
   * Connects {@code count} clients to {@code receivers}, over TLS pinning {@code keys} or in
   * plaintext if {@code keys} is null, sharing one connection per replica if {@code shared}.
   */
  GrpcSubmitter(
      Map<NodeId, NodeAddress> receivers, Map<NodeId, ByteString> keys, int count, boolean shared) {
    this.nodes = receivers.size();
    try {
      if (shared) {
        ClientChannels.Builder cb = ClientChannels.builder().nodes(receivers).name("bench-clients");
        channels = (keys != null ? cb.tls(keys) : cb.plaintext()).build();
      }
      for (int i = 0; i < count; i++) {
        MirClient.Builder b =
            MirClient.builder(ClientId.of(BenchApp.clientId(i)))
                .insecureUnsignedRequestsForTesting();
        if (channels != null) {
          b.channels(channels);
        } else if (keys != null) {
          b.nodes(receivers).tls(keys);
        } else {
          b.nodes(receivers).plaintext();
        }
        MirClient c = b.build();
        clients.add(c);
        c.start();
      }
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  @Override
  public void submit(int client, long reqNo, ByteString data) {
    long got = clients.get(client).submit(data);
    if (got != reqNo) {
      throw new IllegalStateException(
          "client " + client + " numbered its request " + got + ", expected " + reqNo);
    }
  }

  /**
   * Submits one empty request per client (number 0) and waits until every replica has acknowledged
   * it: then all streams are up (a stream counts as established only once a replica answered).
   */
  @Override
  public long awaitReady(Duration timeout) throws InterruptedException, TimeoutException {
    long deadline = System.nanoTime() + timeout.toNanos();
    for (MirClient c : clients) {
      if (c.nextRequestNumber() == 0) {
        c.submit(ByteString.EMPTY);
      }
    }
    for (MirClient c : clients) {
      long left = deadline - System.nanoTime();
      if (left <= 0 || !c.awaitAcknowledged(0, nodes, Duration.ofNanos(left))) {
        throw new TimeoutException(
            "client " + c.id() + " did not reach all " + nodes + " replicas within " + timeout);
      }
    }
    return 1;
  }

  @Override
  public void close() {
    for (MirClient c : clients) {
      c.close();
    }
    if (channels != null) {
      channels.close();
    }
  }
}
