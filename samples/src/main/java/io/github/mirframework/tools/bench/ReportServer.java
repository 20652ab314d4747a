package io.github.mirframework.tools.bench;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The report channel of a replica process: a plain TCP service (bench only, unauthenticated) over
 * which the load generator learns which requests the replica applied and asks for CPU, GC and heap
 * figures, and tells the replica to quit.
 *
 * <p>Protocol, big-endian ({@link DataOutputStream}): the load generator sends one-byte commands,
 * {@code 'S'} (sample), {@code 'G'} (collect garbage, then sample) and {@code 'Q'} (quit). The
 * replica answers {@code 'S'} and {@code 'G'} with {@code 'S' cpuNanos gcMillis heapBytes} (three
 * longs), and sends {@code 'A' count (client:int reqNo:long)*} for applied requests if it is the
 * observed replica. Anything else closes the connection.
 *
 * <p>Threads: one acceptor ({@code bench-report-accept}) and one reader per connection, all ended
 * by {@link #close()}. Thread-safe.
 */
final class ReportServer implements Cluster.AppliedListener, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ReportServer.class);
  static final int MAX_CONNECTIONS = 16;

  private final ServerSocket server;
  private final CountDownLatch quit;
  private final List<Connection> connections = new ArrayList<>();
  private final List<Thread> threads = new ArrayList<>();
  private final Thread acceptor;
  // Applied requests not yet sent; touched only by the node's application thread.
  private int[] pendingClients = new int[1024];
  private long[] pendingReqNos = new long[1024];
  private int pending;
  private volatile boolean closed;

  /** Listens on {@code host:port} (0: any free port); {@code quit} is counted down on 'Q'. */
  ReportServer(String host, int port, CountDownLatch quit) throws IOException {
    this.quit = quit;
    server = new ServerSocket();
    server.setReuseAddress(true);
    server.bind(new InetSocketAddress(InetAddress.getByName(host), port));
    acceptor = new Thread(this::acceptLoop, "bench-report-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  int port() {
    return server.getLocalPort();
  }

  private void acceptLoop() {
    while (!closed) {
      Socket s;
      try {
        s = server.accept();
      } catch (IOException e) {
        return; // closed
      }
      synchronized (this) {
        if (closed || connections.size() >= MAX_CONNECTIONS) {
          closeQuietly(s);
          continue;
        }
        try {
          s.setTcpNoDelay(true);
          Connection c = new Connection(s);
          connections.add(c);
          Thread t = new Thread(c::readLoop, "bench-report-" + s.getPort());
          t.setDaemon(true);
          threads.add(t);
          t.start();
        } catch (IOException e) {
          closeQuietly(s);
        }
      }
    }
  }

  @Override
  public void applied(int client, long reqNo) {
    if (pending == pendingClients.length) {
      pendingClients = java.util.Arrays.copyOf(pendingClients, pending * 2);
      pendingReqNos = java.util.Arrays.copyOf(pendingReqNos, pending * 2);
    }
    pendingClients[pending] = client;
    pendingReqNos[pending] = reqNo;
    pending++;
  }

  @Override
  public void flush() {
    if (pending == 0) {
      return;
    }
    List<Connection> all;
    synchronized (this) {
      all = List.copyOf(connections);
    }
    for (Connection c : all) {
      c.sendApplied(pendingClients, pendingReqNos, pending);
    }
    pending = 0;
  }

  @Override
  public void close() {
    List<Connection> all;
    synchronized (this) {
      closed = true;
      all = List.copyOf(connections);
    }
    closeQuietly(server);
    all.forEach(c -> closeQuietly(c.socket));
    try {
      acceptor.join();
      List<Thread> ts;
      synchronized (this) {
        ts = List.copyOf(threads);
      }
      for (Thread t : ts) {
        t.join();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      // Closing anyway.
    }
  }

  private final class Connection {
    final Socket socket;
    final DataInputStream in;
    final DataOutputStream out;

    Connection(Socket socket) throws IOException {
      this.socket = socket;
      this.in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
      this.out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), 1 << 16));
    }

    void readLoop() {
      try {
        while (true) {
          int cmd = in.read();
          switch (cmd) {
            case 'S' -> sendUsage(false);
            case 'G' -> sendUsage(true);
            case 'Q' -> quit.countDown();
            case -1 -> throw new EOFException();
            default -> throw new IOException("unknown command " + cmd);
          }
        }
      } catch (IOException e) {
        if (!closed && !(e instanceof EOFException) && !(e instanceof SocketException)) {
          LOG.warn(
              "report connection from {} ended: {}", socket.getRemoteSocketAddress(), e.toString());
        }
      } finally {
        closeQuietly(socket);
        synchronized (ReportServer.this) {
          connections.remove(this);
        }
      }
    }

    void sendUsage(boolean gc) throws IOException {
      long heap = gc ? JvmUsage.heapAfterGc() : JvmUsage.heapUsed();
      synchronized (out) {
        out.writeByte('S');
        out.writeLong(JvmUsage.processCpuNanos());
        out.writeLong(JvmUsage.gcMillis());
        out.writeLong(heap);
        out.flush();
      }
    }

    void sendApplied(int[] clients, long[] reqNos, int n) {
      try {
        synchronized (out) {
          out.writeByte('A');
          out.writeInt(n);
          for (int i = 0; i < n; i++) {
            out.writeInt(clients[i]);
            out.writeLong(reqNos[i]);
          }
          out.flush();
        }
      } catch (IOException e) {
        closeQuietly(socket);
      }
    }
  }
}
