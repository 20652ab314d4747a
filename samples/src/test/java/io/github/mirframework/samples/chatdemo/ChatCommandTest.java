package io.github.mirframework.samples.chatdemo;

import static io.github.mirframework.samples.chatdemo.ChatIo.allShowed;
import static io.github.mirframework.samples.chatdemo.ChatIo.histories;
import static io.github.mirframework.samples.chatdemo.ChatIo.showed;
import static org.assertj.core.api.Assertions.assertThat;

import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.samples.keygen.KeygenCommand;
import io.github.mirframework.trantor.ClientsFile;
import io.github.mirframework.trantor.MembershipFile;
import io.github.mirframework.types.NodeId;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The chat command in this JVM, driven through its standard input and output. */
@Timeout(300)
class ChatCommandTest {
  static final Duration WAIT = Duration.ofSeconds(120);
  static final List<String> FOUR = List.of("0", "1", "2", "3");

  @TempDir Path dir;

  /** A chat command running on its own thread, fed through a pipe. */
  static final class Run implements AutoCloseable {
    final ChatIo.Lines out = new ChatIo.Lines();
    final PipedOutputStream stdin = new PipedOutputStream();
    final Thread thread;
    final AtomicReference<Object> result = new AtomicReference<>();

    Run(String... args) throws IOException {
      ChatCommand cmd = new ChatCommand();
      new CommandLine(cmd).parseArgs(args);
      PipedInputStream in = new PipedInputStream(stdin, 1 << 16);
      PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8);
      thread =
          new Thread(
              () -> {
                try {
                  result.set(cmd.run(in, ps));
                } catch (Throwable t) {
                  result.set(t);
                }
              },
              "chat-test-" + String.join(" ", args));
      thread.start();
    }

    /** Waits for a condition; if it does not come, ends the chat and fails with all its output. */
    void await(String what, java.util.function.Predicate<List<String>> condition) throws Exception {
      try {
        out.await(what, WAIT, condition);
      } catch (AssertionError e) {
        stdin.close();
        thread.join(WAIT.toMillis());
        throw new AssertionError(
            "timed out waiting for " + what + "; output:\n" + String.join("\n", out.lines()));
      }
    }

    void type(String line) throws IOException {
      stdin.write((line + "\n").getBytes(StandardCharsets.UTF_8));
      stdin.flush();
    }

    /** Closes standard input and returns the exit code. */
    int finish() throws Exception {
      stdin.close();
      thread.join(WAIT.toMillis());
      assertThat(thread.isAlive()).as("chat still running; output:\n%s", out.lines()).isFalse();
      assertThat(result.get()).as("output:\n%s", out.lines()).isInstanceOf(Integer.class);
      return (Integer) result.get();
    }

    @Override
    public void close() throws IOException {
      if (thread.isAlive()) {
        stdin.close();
        try {
          thread.join(WAIT.toMillis());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  static List<Integer> freePorts(int n) throws IOException {
    List<ServerSocket> sockets = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        sockets.add(new ServerSocket(0));
      }
      return sockets.stream().map(ServerSocket::getLocalPort).toList();
    } finally {
      for (ServerSocket s : sockets) {
        s.close();
      }
    }
  }

  /**
   * Keys and a membership file of {@code n} nodes plus {@code spare}, on ports free just now, and
   * the clients file with one client per node (as keygen writes them).
   */
  static MembershipFile keygen(Path dir, int n, int spare) throws IOException {
    List<Integer> ports = freePorts(2 * (n + spare));
    List<MembershipFile.NodeSpec> specs = new ArrayList<>();
    for (int i = 0; i < n + spare; i++) {
      specs.add(
          new MembershipFile.NodeSpec(
              NodeId.of(i),
              NodeAddress.loopback(ports.get(2 * i)),
              NodeAddress.loopback(ports.get(2 * i + 1)),
              i >= n));
    }
    MembershipFile mf = MembershipFile.generate(dir, specs, new SecureRandom());
    ClientsFile.generate(
        dir, specs.stream().map(s -> KeygenCommand.clientOf(s.id())).toList(), new SecureRandom());
    return mf;
  }

  @Test
  void fourReplicasInOneProcessPrintTheSameHistoryInTheSameOrder() throws Exception {
    int rc;
    List<String> lines;
    try (Run chat =
        new Run("--checkpoint-dir", dir.resolve("cp").toString(), "--drain-timeout-s", "20")) {
      chat.await("the banner", l -> l.stream().anyMatch(s -> s.contains("Quit with")));
      for (String s : List.of("hello", "world", "Config: add-node 9 127.0.0.1:1", "third")) {
        chat.type(s);
      }
      chat.await("every replica shows 'third'", allShowed(FOUR, ": third"));
      rc = chat.finish();
      lines = chat.out.lines();
    }
    assertThat(rc).as("output:\n%s", lines).isZero();
    assertThat(lines.getFirst())
        .startsWith("Mir-Java chat-demo: Trantor (ISS with PBFT) running 4 replicas");
    Map<String, List<String>> h = histories(lines);
    assertThat(h.keySet()).containsExactlyElementsOf(FOUR);
    List<String> reference = h.get("0");
    assertThat(reference).hasSize(5);
    assertThat(reference)
        .anyMatch(l -> l.endsWith(": hello"))
        .anyMatch(l -> l.endsWith(": world"))
        .anyMatch(l -> l.contains("refused: unknown node 9"));
    int config =
        reference.indexOf(
            reference.stream().filter(l -> l.contains("add-node 9")).findFirst().orElseThrow());
    assertThat(reference.get(config + 1)).contains("refused");
    for (String id : FOUR) {
      assertThat(h.get(id)).as("history of replica %s", id).isEqualTo(reference);
    }
  }

  @Test
  void aNodeAddedByAChatLineJoinsByStateTransferAndAnotherIsRemoved() throws Exception {
    MembershipFile mf = keygen(dir, 4, 1);
    String file = mf.file().toString();
    NodeAddress four = mf.entry(NodeId.of(4)).orElseThrow().transport();
    try (Run chat = new Run("--membership", file)) {
      chat.type("before the join");
      chat.await("'before the join'", allShowed(FOUR, ": before the join"));
      chat.type("Config: add-node 4 " + four);
      chat.await("the addition", allShowed(FOUR, "add-node 4 " + four));
      // Each replica prints the outcome on the line after the request, a moment later.
      chat.await(
          "the addition's outcome",
          lines ->
              FOUR.stream()
                  .allMatch(
                      id -> {
                        List<String> h = histories(lines).get(id);
                        return h != null
                            && h.stream().anyMatch(l -> l.contains("accepted: node 4"));
                      }));
      assertThat(histories(chat.out.lines()).get("0").getLast()).contains("accepted: node 4");
      try (Run joiner = new Run("--membership", file, "--id", "4")) {
        joiner.await("the joiner shows the history", showed("4", ": before the join"));
        chat.type("after the join");
        joiner.await("the joiner shows new lines", showed("4", ": after the join"));
        chat.type("Config: add-node 4 " + four);
        chat.type("Config: add-node 5 nonsense");
        chat.type("Config: remove-node 1");
        chat.await("the removal", allShowed(FOUR, "Config: remove-node 1"));
        chat.type("the end");
        chat.await("'the end'", allShowed(List.of("0", "2", "3"), ": the end"));
        joiner.await("'the end' at the joiner", showed("4", ": the end"));
        assertThat(joiner.finish()).isZero();
        List<String> mine = histories(joiner.out.lines()).get("4");
        List<String> ref = histories(chat.out.lines()).get("0");
        assertThat(mine).isEqualTo(ref.subList(0, mine.size()));
      }
      assertThat(chat.finish()).isZero();
      Map<String, List<String>> h = histories(chat.out.lines());
      List<String> ref = h.get("0");
      assertThat(ref).anyMatch(l -> l.contains("refused: node 4 is already a member"));
      assertThat(ref).anyMatch(l -> l.contains("refused: bad address for node 5"));
      assertThat(ref).anyMatch(l -> l.contains("accepted: node 1 leaves; members will be 0 2 3 4"));
      for (String id : List.of("2", "3")) {
        assertThat(h.get(id)).isEqualTo(ref);
      }
      // Replica 1 may stop before the last lines once it is out, but what it showed agrees.
      assertThat(h.get("1")).isEqualTo(ref.subList(0, h.get("1").size()));
      assertThat(chat.out.lines()).anyMatch(l -> l.contains("membership changes to 0 1 2 3 4"));
    }
  }

  @Test
  void theNextRequestNumberIsRecordedAndReadBack() throws Exception {
    Path f = dir.resolve("c.reqno");
    assertThat(ChatCommand.readRequestNumber(f)).isZero();
    ChatCommand.writeRequestNumber(f, 42);
    assertThat(ChatCommand.readRequestNumber(f)).isEqualTo(42);
    ChatCommand.writeRequestNumber(f, 43);
    assertThat(ChatCommand.readRequestNumber(f)).isEqualTo(43);
    Files.writeString(f, "-1");
    assertThat(
            org.assertj.core.api.Assertions.catchThrowable(() -> ChatCommand.readRequestNumber(f)))
        .hasMessageContaining("not a request number: '-1'");
  }

  @Test
  void badOptionsAndFilesAreReportedClearly() throws Exception {
    MembershipFile mf = keygen(dir, 1, 0);
    Path garbage = Files.write(dir.resolve("garbage"), new byte[] {1, 2, 3, 4, 5});
    Path bad = Files.writeString(dir.resolve("bad-membership"), "0 127.0.0.1:1 127.0.0.1\n");
    // A membership file without the clients file keygen writes next to it.
    Path noClients = dir.resolve("no-clients");
    MembershipFile bare =
        MembershipFile.generate(
            noClients,
            List.of(
                new MembershipFile.NodeSpec(
                    NodeId.of(0), NodeAddress.loopback(1), NodeAddress.loopback(2), false)),
            new SecureRandom());
    MembershipFile other = keygen(dir.resolve("other"), 1, 0);
    Path badReqNo = dir.resolve("other").resolve("client-0.reqno").toAbsolutePath();
    Files.writeString(badReqNo, "seventeen\n");
    record Case(String expected, String... args) {}
    List<Case> cases =
        List.of(
            new Case("--id needs --membership", "--id", "0"),
            new Case("--nodes must be in 1..16", "--nodes", "0"),
            new Case(bad + ":1: expected 4 or 5 fields", "--membership", bad.toString()),
            new Case("has no node 7", "--membership", mf.file().toString(), "--id", "7"),
            new Case(
                "cannot load the clients: " + noClients.toAbsolutePath().resolve("clients"),
                "--membership",
                bare.file().toString()),
            new Case(
                badReqNo + ": not a request number: 'seventeen'",
                "--membership",
                other.file().toString(),
                "--id",
                "0"),
            new Case(
                garbage + ": not a",
                "--membership",
                mf.file().toString(),
                "--id",
                "0",
                "--checkpoint",
                garbage.toString()));
    for (Case c : cases) {
      ChatCommand cmd = new ChatCommand();
      new CommandLine(cmd).parseArgs(c.args());
      ChatIo.Lines out = new ChatIo.Lines();
      int rc =
          cmd.run(
              new ByteArrayInputStream(new byte[0]),
              new PrintStream(out, true, StandardCharsets.UTF_8));
      assertThat(rc).as("%s", List.of(c.args())).isEqualTo(2);
      assertThat(String.join("\n", out.lines())).as("%s", List.of(c.args())).contains(c.expected());
    }
  }
}
