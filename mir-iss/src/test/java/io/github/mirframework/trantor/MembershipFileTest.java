package io.github.mirframework.trantor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.types.NodeId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MembershipFileTest {
  @TempDir static Path dir;

  static List<MembershipFile.NodeSpec> specs(int n, int spare) {
    List<MembershipFile.NodeSpec> s = new java.util.ArrayList<>();
    for (int i = 0; i < n + spare; i++) {
      s.add(
          new MembershipFile.NodeSpec(
              NodeId.of(i),
              NodeAddress.loopback(10_000 + i),
              NodeAddress.loopback(11_000 + i),
              i >= n));
    }
    return s;
  }

  @BeforeAll
  static void generate() throws Exception {
    MembershipFile.generate(dir, specs(4, 1), new SecureRandom());
  }

  @Test
  void generatedFileLoadsWithKeysThatMatch() throws Exception {
    MembershipFile f = MembershipFile.load(dir.resolve("membership"));
    assertThat(f.entries()).hasSize(5);
    assertThat(f.initialMembership().ids())
        .containsExactlyInAnyOrder(NodeId.range(4).toArray(NodeId[]::new));
    assertThat(f.entry(NodeId.of(4)).orElseThrow().spare()).isTrue();
    assertThat(f.publicKeys()).hasSize(5);
    assertThat(f.clientAddresses()).containsEntry(NodeId.of(2), NodeAddress.loopback(11_002));
    NodeId two = NodeId.of(2);
    var identity = f.identity(two, f.defaultPrivateKeyFile(two));
    assertThat(identity.publicKey()).isEqualTo(f.publicKeys().get(two));
    assertThat(f.security(identity).peerKeys()).hasSize(5);
    // The crypto signs with the node's key and verifies every node's signature.
    var crypto =
        f.crypto(
            io.github.mirframework.crypto.KeyFiles.readPrivateKey(f.defaultPrivateKeyFile(two)));
    var data = List.of(com.google.protobuf.ByteString.copyFromUtf8("x"));
    assertThat(crypto.verify(data, crypto.sign(data), two).valid()).isTrue();
    assertThat(crypto.verify(data, crypto.sign(data), NodeId.of(1)).valid()).isFalse();
    // A key of another node does not fit node 2's certificate.
    assertThatThrownBy(() -> f.identity(two, f.defaultPrivateKeyFile(NodeId.of(1))))
        .hasMessageContaining("node-1.key");
  }

  /** Each bad line is reported with the file, its line number and the field. */
  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "too few fields | 0 127.0.0.1:10000 127.0.0.1:11000 | 0 | ",
        "too many fields | 0 127.0.0.1:10000 127.0.0.1:11000 node-0.crt spare extra | 0 | ",
        "bad transport | 0 127.0.0.1:99999 127.0.0.1:11000 node-0.crt | 0 | transport address",
        "port zero | 0 127.0.0.1:0 127.0.0.1:11000 node-0.crt | 0 | transport address",
        "bad client | 0 127.0.0.1:10000 no-port node-0.crt | 0 | client address",
        "missing cert | 0 127.0.0.1:10000 127.0.0.1:11000 nothing.crt | 0 | certificate",
        "cert of other node | 0 127.0.0.1:10000 127.0.0.1:11000 node-1.crt | 0 | certificate",
        "garbage cert | 0 127.0.0.1:10000 127.0.0.1:11000 node-0.key | 0 | certificate",
        "bad marker | 0 127.0.0.1:10000 127.0.0.1:11000 node-0.crt spar | 0 | marker",
        "duplicate id | 1 127.0.0.1:10009 127.0.0.1:11009 node-1.crt | 1 | node ID",
        "duplicate address | 3 127.0.0.1:10001 127.0.0.1:11003 node-3.crt | 1 | transport address",
        "client reuses transport | 3 127.0.0.1:10003 127.0.0.1:10003 node-3.crt | 1 | client address",
        "same key twice | 3 127.0.0.1:10003 127.0.0.1:11003 node-1.crt | 1 | certificate",
      })
  void badLinesNameFileLineAndField(String name, String badLine, int okLinesBefore, String field)
      throws Exception {
    LineFileAssertions.assertBadLine(
        MembershipFile::load,
        dir,
        name,
        "1 127.0.0.1:10001 127.0.0.1:11001 node-1.crt",
        badLine,
        okLinesBefore,
        field);
  }

  @Test
  void wholeFileErrors() throws Exception {
    LineFileAssertions.assertMissingAndBinaryFilesRefused(MembershipFile::load, dir);
    Path onlySpare = dir.resolve("spare-only");
    Files.writeString(onlySpare, "4 127.0.0.1:10004 127.0.0.1:11004 node-4.crt spare\n");
    assertThatThrownBy(() -> MembershipFile.load(onlySpare))
        .isInstanceOf(MembershipFileException.class)
        .hasMessageContaining("no node in the initial membership");
  }

  @Test
  void generateRefusesBadSpecs() {
    var a =
        new MembershipFile.NodeSpec(
            NodeId.of(0), NodeAddress.loopback(1), NodeAddress.loopback(2), false);
    var b =
        new MembershipFile.NodeSpec(
            NodeId.of(1), NodeAddress.loopback(2), NodeAddress.loopback(3), false);
    assertThatThrownBy(
            () -> MembershipFile.generate(dir.resolve("x"), List.of(a, b), new SecureRandom()))
        .hasMessageContaining("reuses an address");
    assertThatThrownBy(
            () ->
                new MembershipFile.NodeSpec(
                    NodeId.of("../x"), NodeAddress.loopback(1), NodeAddress.loopback(2), false))
        .hasMessageContaining("file name");
    assertThat(dir.resolve("x")).doesNotExist();
  }
}
