package io.github.mirframework.tools.bench;

import com.google.protobuf.ByteString;
import io.github.mirframework.crypto.InsecureKeys;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.types.NodeId;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Replicas in other processes (started by the bench or elsewhere), reached through their request
 * receivers (load) and report channels (applied requests, CPU, GC, heap; see {@link ReportServer}).
 * The applied notices of replica {@code 0} drive the load generator.
 *
 * <p>Threads: one reader per replica ({@code bench-report-<node>}), ended by {@link #close()}.
 */
class RemoteCluster implements Cluster {
  private static final long REPLY_TIMEOUT_S = 60;

  /**
   * Where a replica is reached.
   *
   * @param requests its request receiver
   * @param report its report channel
   */
  record Endpoint(NodeAddress requests, NodeAddress report) {}

  private final BenchParams params;
  private final Map<NodeId, Endpoint> endpoints;
  private final List<Link> links = new ArrayList<>();
  private Submitter submitter;

  RemoteCluster(BenchParams params, Map<NodeId, Endpoint> endpoints, AppliedListener observer)
      throws IOException {
    this.params = params;
    this.endpoints = new LinkedHashMap<>(endpoints);
    try {
      boolean first = true;
      for (Map.Entry<NodeId, Endpoint> e : this.endpoints.entrySet()) {
        links.add(new Link(e.getKey(), e.getValue().report(), first ? observer : null));
        first = false;
      }
    } catch (IOException | RuntimeException e) {
      closeLinks();
      throw e;
    }
  }

  @Override
  public synchronized Submitter submitter() {
    if (submitter == null) {
      Map<NodeId, NodeAddress> rr = new LinkedHashMap<>();
      Map<NodeId, ByteString> keys = new LinkedHashMap<>();
      endpoints.forEach(
          (id, ep) -> {
            rr.put(id, ep.requests());
            keys.put(id, InsecureKeys.publicKey(id, params.keySeed()));
          });
      submitter =
          new GrpcSubmitter(
              rr, params.tls() ? keys : null, params.clients(), params.sharedConnections());
    }
    return submitter;
  }

  @Override
  public Usage usage() throws IOException, InterruptedException {
    return collect('S', JvmUsage.processCpuNanos());
  }

  private Usage collect(char cmd, long clientCpu) throws IOException, InterruptedException {
    for (Link l : links) {
      l.send(cmd);
    }
    long cpu = 0;
    long gc = 0;
    long heap = 0;
    for (Link l : links) {
      long[] r = l.replies.poll(REPLY_TIMEOUT_S, TimeUnit.SECONDS);
      if (r == null) {
        throw new IOException(
            "replica " + l.node + " did not report within " + REPLY_TIMEOUT_S + " s");
      }
      cpu += r[0];
      gc += r[1];
      heap += r[2];
    }
    return new Usage(cpu, clientCpu, gc, heap);
  }

  @Override
  public long heapAfterGc() throws IOException, InterruptedException {
    return collect('G', 0).heapUsedBytes();
  }

  @Override
  public boolean cpuIncludesClients() {
    return false;
  }

  /** Asks every replica to quit (best effort). */
  void quitAll() {
    for (Link l : links) {
      try {
        l.send('Q');
      } catch (IOException e) {
        // Already gone.
      }
    }
  }

  @Override
  public void close() {
    synchronized (this) {
      if (submitter != null) {
        submitter.close();
      }
    }
    closeLinks();
  }

  private void closeLinks() {
    for (Link l : links) {
      l.close();
    }
  }

  /** The report connection to one replica. */
  private static final class Link {
    final NodeId node;
    final Socket socket;
    final DataInputStream in;
    final DataOutputStream out;
    final AppliedListener observer;
    final BlockingQueue<long[]> replies = new ArrayBlockingQueue<>(16);
    final Thread reader;

    Link(NodeId node, NodeAddress address, AppliedListener observer) throws IOException {
      this.node = node;
      this.observer = observer;
      socket = new Socket();
      try {
        socket.connect(new InetSocketAddress(address.host(), address.port()), 10_000);
        socket.setTcpNoDelay(true);
        in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 1 << 16));
        out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream()));
      } catch (IOException e) {
        socket.close();
        throw new IOException(
            "cannot reach the report channel of replica "
                + node
                + " at "
                + address
                + ": "
                + e.getMessage(),
            e);
      }
      reader = new Thread(this::readLoop, "bench-report-" + node);
      reader.setDaemon(true);
      reader.start();
    }

    synchronized void send(char cmd) throws IOException {
      out.writeByte(cmd);
      out.flush();
    }

    private void readLoop() {
      try {
        while (true) {
          int type = in.read();
          if (type == 'A') {
            int n = in.readInt();
            if (n < 0 || n > 10_000_000) {
              throw new IOException("bad applied count " + n);
            }
            for (int i = 0; i < n; i++) {
              int client = in.readInt();
              long reqNo = in.readLong();
              if (observer != null && client >= 0) {
                observer.applied(client, reqNo);
              }
            }
            if (observer != null) {
              observer.flush(); // one 'A' message per batch the replica applied
            }
          } else if (type == 'S') {
            replies.put(new long[] {in.readLong(), in.readLong(), in.readLong()});
          } else {
            return; // EOF or garbage: the replica is gone
          }
        }
      } catch (IOException e) {
        // Closed.
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    void close() {
      try {
        socket.close();
      } catch (IOException e) {
        // Closing anyway.
      }
      try {
        reader.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
