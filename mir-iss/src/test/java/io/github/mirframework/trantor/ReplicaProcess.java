package io.github.mirframework.trantor;

import com.google.protobuf.ByteString;
import io.github.mirframework.checkpoint.pb.StableCheckpoint;
import io.github.mirframework.client.ClientRegistry;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.types.ClientId;
import io.github.mirframework.types.NodeId;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * One Trantor replica as its own process, for {@link ReplicaProcessCrashTest}: a {@link
 * TrantorSystem} over gRPC with mutual TLS on the fixed addresses of a membership file, a {@link
 * io.github.mirframework.wal.file.FileWal}, client authentication, and an application that writes
 * every stable checkpoint to a checkpoint directory and starts from the newest one there.
 *
 * <p>Arguments: {@code <membership file> <node ID> <data directory> <client public key file>
 * <client ID> <proposal period ms>}. The application's state is the list of applied request IDs;
 * its result for a request is the request's position in that list. It appends to {@code <data
 * directory>/applied.log}, one line per event, with the wall-clock time in ms:
 *
 * <pre>
 * B &lt;jvm start ms&gt; &lt;now&gt;          the process booted (a new incarnation begins)
 * S &lt;jvm start ms&gt; &lt;now&gt;          the system started (ports bound, node running)
 * R &lt;count&gt; &lt;now&gt;                 the state was restored to one of count requests
 * A &lt;position&gt; &lt;request ID&gt; &lt;now&gt;  a request was applied at that position (0-based)
 * D &lt;request ID&gt; &lt;now&gt;             a request was applied a second time (a bug)
 * F &lt;exception&gt;                     the node failed (the process then exits with status 1)
 * </pre>
 *
 * <p>The process runs until it is killed or its standard input ends (the test's JVM is gone), then
 * stops the system.
 */
public final class ReplicaProcess {
  private ReplicaProcess() {}

  /** The application: the ordered list of applied request IDs. */
  static final class LogApp implements AppLogic.Static {
    private final FileChannel log;
    private final Path checkpointDir;
    private final List<String> applied = new ArrayList<>();
    private final Set<String> seen = new HashSet<>();

    LogApp(Path logFile, Path checkpointDir) throws IOException {
      this.log =
          FileChannel.open(
              logFile,
              StandardOpenOption.CREATE,
              StandardOpenOption.WRITE,
              StandardOpenOption.APPEND);
      this.checkpointDir = Files.createDirectories(checkpointDir);
    }

    synchronized void write(String lines) throws IOException {
      ByteBuffer b = ByteBuffer.wrap(lines.getBytes(StandardCharsets.UTF_8));
      while (b.hasRemaining()) {
        log.write(b);
      }
    }

    @Override
    public void applyTxs(List<Request> txs) throws IOException {
      applyTxsWithResults(txs);
    }

    @Override
    public List<ByteString> applyTxsWithResults(List<Request> txs) throws IOException {
      long now = System.currentTimeMillis();
      StringBuilder lines = new StringBuilder();
      List<ByteString> results = new ArrayList<>(txs.size());
      for (Request r : txs) {
        String id = r.getClientId() + "." + r.getReqNo();
        if (!seen.add(id)) {
          lines.append("D ").append(id).append(' ').append(now).append('\n');
        }
        int position = applied.size();
        applied.add(id);
        lines.append("A ").append(position).append(' ').append(id).append(' ').append(now);
        lines.append('\n');
        results.add(ByteString.copyFromUtf8(Integer.toString(position)));
      }
      write(lines.toString());
      return results;
    }

    @Override
    public ByteString snapshot() {
      return ByteString.copyFrom(String.join("\n", applied), StandardCharsets.UTF_8);
    }

    @Override
    public void restoreState(StableCheckpoint checkpoint) throws IOException {
      String s = checkpoint.getSnapshot().getAppData().toStringUtf8();
      applied.clear();
      seen.clear();
      if (!s.isEmpty()) {
        for (String id : s.split("\n", -1)) {
          applied.add(id);
          seen.add(id);
        }
      }
      write("R " + applied.size() + " " + System.currentTimeMillis() + "\n");
    }

    /** Stores the checkpoint atomically as {@code cp-<sn>}, and keeps only the newest two. */
    @Override
    public void checkpoint(StableCheckpoint checkpoint) throws IOException {
      Path tmp = checkpointDir.resolve("tmp");
      Files.write(tmp, checkpoint.toByteArray());
      Files.move(
          tmp,
          checkpointDir.resolve(String.format("cp-%020d", checkpoint.getSn())),
          StandardCopyOption.ATOMIC_MOVE,
          StandardCopyOption.REPLACE_EXISTING);
      List<Path> all = checkpointFiles(checkpointDir);
      for (int i = 0; i < all.size() - 2; i++) {
        Files.deleteIfExists(all.get(i));
      }
    }
  }

  /** The checkpoint files in {@code dir}, oldest first. */
  static List<Path> checkpointFiles(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().startsWith("cp-")).sorted().toList();
    }
  }

  /** The newest checkpoint in {@code dir} that parses, or null. */
  static StableCheckpoint newestCheckpoint(Path dir) throws IOException {
    List<Path> all = checkpointFiles(dir);
    for (int i = all.size() - 1; i >= 0; i--) {
      try {
        return StableCheckpoint.parseFrom(Files.readAllBytes(all.get(i)));
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        System.err.println("skipping unreadable checkpoint " + all.get(i) + ": " + e);
      }
    }
    return null;
  }

  /** Starts the replica; see the class documentation for the arguments. */
  public static void main(String[] args) throws Exception {
    if (args.length != 6) {
      System.err.println(
          "usage: ReplicaProcess <membership file> <node ID> <data dir> <client key file>"
              + " <client ID> <proposal period ms>");
      System.exit(2);
    }
    long jvmStart = ManagementFactory.getRuntimeMXBean().getStartTime();
    MembershipFile mf = MembershipFile.load(Path.of(args[0]));
    NodeId self = NodeId.of(args[1]);
    Path data = Files.createDirectories(Path.of(args[2]));
    ByteString clientKey = ByteString.copyFrom(Files.readAllBytes(Path.of(args[3])));
    ClientId client = ClientId.of(args[4]);
    Duration period = Duration.ofMillis(Long.parseLong(args[5]));

    Trantor.Params params = Trantor.Params.defaults(mf.initialMembership()).adjustSpeed(period);
    Path checkpoints = data.resolve("checkpoints");
    LogApp app = new LogApp(data.resolve("applied.log"), checkpoints);
    app.write("B " + jvmStart + " " + System.currentTimeMillis() + "\n");
    StableCheckpoint start = newestCheckpoint(checkpoints);
    TrantorSystem.Builder b =
        TrantorSystem.builder(self, AppLogic.fromStatic(app, mf.initialMembership()), params)
            .membershipFile(mf, mf.defaultPrivateKeyFile(self))
            .clients(ClientRegistry.of(Map.of(client, clientKey)))
            .walDirectory(data.resolve("wal"));
    if (start != null) {
      b.startingCheckpoint(start);
    }
    try (TrantorSystem system = b.build()) {
      system.start();
      app.write("S " + jvmStart + " " + System.currentTimeMillis() + "\n");
      // Run until killed, until the parent goes away (standard input ends), or until the node
      // fails (then say why, in the log too, and exit with status 1).
      java.util.concurrent.CountDownLatch parentGone = new java.util.concurrent.CountDownLatch(1);
      Thread stdin =
          new Thread(
              () -> {
                try {
                  InputStream in = System.in;
                  while (in.read() >= 0) {
                    // ignore input
                  }
                } catch (IOException e) {
                  // treat as the end of input
                }
                parentGone.countDown();
              },
              "stdin-watch");
      stdin.setDaemon(true);
      stdin.start();
      while (!parentGone.await(200, java.util.concurrent.TimeUnit.MILLISECONDS)) {
        if (system.failure().isPresent()) {
          Throwable t = system.failure().get();
          t.printStackTrace();
          app.write("F " + t.toString().replace('\n', ' ') + "\n");
          System.exit(1);
        }
      }
    }
  }
}
