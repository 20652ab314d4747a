package io.github.mirframework.samples.keygen;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.mirframework.client.ClientSigner;
import io.github.mirframework.trantor.ClientsFile;
import io.github.mirframework.trantor.MembershipFile;
import io.github.mirframework.types.ClientId;
import io.github.mirframework.types.NodeId;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class KeygenCommandTest {
  @TempDir Path dir;

  private String keygen(String... args) throws Exception {
    KeygenCommand cmd = new KeygenCommand();
    new CommandLine(cmd).parseArgs(args);
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    int rc = cmd.run(new PrintStream(buf, true, StandardCharsets.UTF_8));
    String out = buf.toString(StandardCharsets.UTF_8);
    assertThat(rc).as(out).isZero();
    return out;
  }

  @Test
  void writesAClientPerNodeWithItsKeysAndAClientsFileTheLoaderReads() throws Exception {
    Path out = dir.resolve("keys");
    // A request number left by a chat client of earlier keys must not survive new keys.
    Files.createDirectories(out);
    Path stale = Files.writeString(out.resolve("client-2.reqno"), "17\n");
    String text = keygen("--nodes", "4", "--spare", "1", "--out", out.toString());
    assertThat(text).contains("Wrote keys of 5 clients");
    assertThat(stale).doesNotExist();

    MembershipFile mf = MembershipFile.load(out.resolve("membership"));
    assertThat(mf.defaultClientsFile()).isEqualTo(out.toAbsolutePath().resolve("clients"));
    ClientsFile cf = ClientsFile.load(mf.defaultClientsFile());
    assertThat(cf.entries())
        .extracting(e -> e.id().value())
        .containsExactly("client-0", "client-1", "client-2", "client-3", "client-4");
    var registry = cf.registry();
    for (MembershipFile.Entry node : mf.entries()) {
      ClientId c = KeygenCommand.clientOf(node.id());
      Path key = cf.defaultPrivateKeyFile(c);
      assertThat(key).isEqualTo(out.toAbsolutePath().resolve(c.value() + ".key"));
      assertThat(key.resolveSibling("node-" + node.id() + ".key")).exists();
      ClientSigner signer = ClientSigner.of(c, cf.keyPair(c, key));
      assertThat(registry.check(signer.sign(0, com.google.protobuf.ByteString.EMPTY))).isNull();
      assertThat(KeygenCommand.requestNumberFile(key))
          .isEqualTo(out.toAbsolutePath().resolve(c.value() + ".reqno"));
    }
    if (out.getFileSystem().supportedFileAttributeViews().contains("posix")) {
      assertThat(
              java.nio.file.attribute.PosixFilePermissions.toString(
                  Files.getPosixFilePermissions(out.resolve("client-0.key"))))
          .isEqualTo("rw-------");
    }
  }

  @Test
  void theClientOfANodeIsNamedAfterIt() {
    assertThat(KeygenCommand.clientOf(NodeId.of(3))).isEqualTo(ClientId.of("client-3"));
  }
}
