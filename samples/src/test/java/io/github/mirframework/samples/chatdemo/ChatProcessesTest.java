package io.github.mirframework.samples.chatdemo;

import static io.github.mirframework.samples.chatdemo.ChatIo.histories;
import static io.github.mirframework.samples.chatdemo.ChatIo.showed;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.github.mirframework.checkpoint.pb.StableCheckpoint;
import io.github.mirframework.crypto.KeyFiles;
import io.github.mirframework.samples.Samples;
import io.github.mirframework.trantor.MembershipFile;
import io.github.mirframework.types.NodeId;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mir's way: 4 replicas in 4 processes ({@code chat --membership FILE --id N}), keys from keygen;
 * one is killed, the others go on chatting, and the restarted one prints the whole history and
 * chats on as the same registered client.
 */
@Timeout(400)
class ChatProcessesTest {
  static final Duration WAIT = Duration.ofSeconds(150);

  @TempDir Path dir;

  /** One chat process. */
  static final class Proc {
    final Process process;
    final ChatIo.Lines out = new ChatIo.Lines();
    final OutputStream stdin;

    Proc(Path dir, String... args) throws IOException {
      List<String> cmd = new ArrayList<>();
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      if (Runtime.version().feature() >= 23) {
        cmd.add("--sun-misc-unsafe-memory-access=allow");
      }
      cmd.add("--enable-native-access=ALL-UNNAMED");
      cmd.add("-Xss1m");
      cmd.add("-XX:TieredStopAtLevel=1"); // starts faster; plenty for a chat
      cmd.add("-cp");
      cmd.add(System.getProperty("java.class.path"));
      cmd.add(Samples.class.getName());
      cmd.addAll(List.of(args));
      String name = String.join("_", args).replaceAll("[^A-Za-z0-9]+", "-");
      process =
          new ProcessBuilder(cmd)
              .redirectError(dir.resolve("stderr-" + name + "-" + System.nanoTime()).toFile())
              .start();
      stdin = process.getOutputStream();
      out.pump(process.getInputStream(), "chat-proc-out");
    }

    void type(String line) throws IOException {
      stdin.write((line + "\n").getBytes(StandardCharsets.UTF_8));
      stdin.flush();
    }

    int finish() throws Exception {
      stdin.close();
      assertThat(process.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS))
          .as("process still running; output:\n%s", out.lines())
          .isTrue();
      return process.exitValue();
    }

    void kill() throws InterruptedException {
      if (process.isAlive()) {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void fourProcessesAgreeAndAKilledReplicaCatchesUpWhenRestarted() throws Exception {
    MembershipFile mf = ChatCommandTest.keygen(dir, 4, 0);
    String file = mf.file().toString();
    Path cp = dir.resolve("cp");
    List<Proc> procs = new ArrayList<>();
    try {
      for (int i = 0; i < 4; i++) {
        procs.add(
            new Proc(
                dir,
                "chat",
                "--membership",
                file,
                "--id",
                "" + i,
                "--checkpoint-dir",
                cp.toString()));
      }
      Proc p0 = procs.get(0);
      for (Proc p : procs) {
        p.out.await("the banner", WAIT, l -> l.stream().anyMatch(s -> s.contains("Quit with")));
      }
      p0.type("one");
      p0.type("two");
      procs.get(3).type("from 3");
      for (int i = 0; i < 4; i++) {
        procs.get(i).out.await("'two' at " + i, WAIT, showed("" + i, ": two"));
        procs.get(i).out.await("'from 3' at " + i, WAIT, showed("" + i, ": from 3"));
      }
      // Kill replica 3 (SIGTERM: its shutdown hook stops it) and go on without it.
      Proc p3 = procs.get(3);
      p3.process.destroy();
      assertThat(p3.process.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
      p0.type("three, while 3 is down");
      p0.type("four");
      for (int i = 0; i < 3; i++) {
        procs.get(i).out.await("'four' at " + i, WAIT, showed("" + i, ": four"));
      }
      // Restart it with the same arguments: it prints the whole history.
      Proc again =
          new Proc(
              dir, "chat", "--membership", file, "--id", "3", "--checkpoint-dir", cp.toString());
      procs.set(3, again);
      again.out.await("the restarted replica shows 'four'", WAIT, showed("3", ": four"));
      p0.type("five");
      again.out.await("the restarted replica shows 'five'", WAIT, showed("3", ": five"));
      for (int i = 0; i < 3; i++) {
        procs.get(i).out.await("'five' at " + i, WAIT, showed("" + i, ": five"));
      }
      // The restarted process chats as the same client (client-3) and goes on with its request
      // numbers: a number of the first run again would be a duplicate, and the line lost.
      again.type("from 3 again");
      for (int i = 0; i < 4; i++) {
        procs.get(i).out.await("'from 3 again' at " + i, WAIT, showed("" + i, ": from 3 again"));
      }
      for (Proc p : procs) {
        assertThat(p.finish()).as("output:\n%s", p.out.lines()).isZero();
      }
      List<String> reference = histories(p0.out.lines()).get("0");
      assertThat(reference).hasSize(7);
      for (int i = 0; i < 4; i++) {
        assertThat(histories(procs.get(i).out.lines()).get("" + i))
            .as("history of replica %s", i)
            .isEqualTo(reference);
      }
    } finally {
      for (Proc p : procs) {
        p.kill();
      }
    }
    // The checkpoints written load and verify; a tampered one is refused.
    Path file0;
    try (Stream<Path> s = Files.list(cp.resolve("0"))) {
      file0 =
          s.filter(p -> p.getFileName().toString().startsWith("checkpoint-"))
              .sorted()
              .toList()
              .getLast();
    }
    var crypto = mf.crypto(KeyFiles.readPrivateKey(mf.defaultPrivateKeyFile(NodeId.of(1))));
    StableCheckpoint sc = ChatCommand.loadCheckpoint(file0, crypto);
    assertThat(sc.getSn()).isPositive();
    var certs = new java.util.TreeMap<>(sc.getCertMap());
    String signer = certs.firstKey();
    byte[] sig = certs.get(signer).toByteArray();
    sig[sig.length / 2] ^= 1;
    StableCheckpoint forged = sc.toBuilder().putCert(signer, ByteString.copyFrom(sig)).build();
    Path forgedFile = Files.write(dir.resolve("forged"), forged.toByteArray());
    assertThatThrownBy(() -> ChatCommand.loadCheckpoint(forgedFile, crypto))
        .hasMessageContaining("certificate is not valid");
  }
}
