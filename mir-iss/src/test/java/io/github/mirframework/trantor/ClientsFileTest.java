package io.github.mirframework.trantor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.github.mirframework.client.ClientSigner;
import io.github.mirframework.crypto.EcdsaCrypto;
import io.github.mirframework.crypto.KeyFiles;
import io.github.mirframework.types.ClientId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ClientsFileTest {
  @TempDir static Path dir;

  static final ClientId A = ClientId.of("client-0");
  static final ClientId B = ClientId.of("client-1");
  static final ClientId C = ClientId.of("client-2");

  @BeforeAll
  static void generate() throws Exception {
    ClientsFile.generate(dir, List.of(A, B, C), new SecureRandom());
  }

  @Test
  void generatedFileLoadsAndItsKeysSignRequestsTheRegistryAccepts() throws Exception {
    ClientsFile f = ClientsFile.load(dir.resolve("clients"));
    assertThat(f.entries()).extracting(ClientsFile.Entry::id).containsExactly(A, B, C);
    assertThat(f.defaultPrivateKeyFile(B)).isEqualTo(dir.toAbsolutePath().resolve("client-1.key"));
    assertThat(f.entry(B).orElseThrow().publicKeyFile())
        .isEqualTo(dir.toAbsolutePath().resolve("client-1.pub"));
    var registry = f.registry();
    assertThat(registry.clients()).containsExactlyInAnyOrder(A, B, C);

    ClientSigner b = ClientSigner.of(B, f.keyPair(B, f.defaultPrivateKeyFile(B)));
    assertThat(registry.check(b.sign(0, ByteString.copyFromUtf8("x")))).isNull();
    // Client 0's key does not sign for client 1, and is refused as client 1's key.
    ClientSigner forged = ClientSigner.of(B, f.keyPair(A, f.defaultPrivateKeyFile(A)));
    assertThat(registry.check(forged.sign(0, ByteString.copyFromUtf8("x"))))
        .contains("invalid signature");
    assertThatThrownBy(() -> f.keyPair(B, f.defaultPrivateKeyFile(A)))
        .hasMessageContaining("client-0.key is not the key of client client-1");
    assertThatThrownBy(() -> f.keyPair(ClientId.of("nobody"), f.defaultPrivateKeyFile(A)))
        .isInstanceOf(MembershipFileException.class)
        .hasMessageContaining("no client nobody");
  }

  /** Each bad line is reported with the file, its line number and the field. */
  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "one field | client-9 | 0 | ",
        "three fields | client-9 client-0.pub extra | 0 | ",
        "path in the ID | ../x client-0.pub | 0 | client ID",
        "ID too long | "
            + "x12345678901234567890123456789012345678901234567890123456789012345"
            + " client-0.pub | 0 | client ID",
        "duplicate ID | client-1 client-2.pub | 1 | client ID",
        "missing key file | client-9 nothing.pub | 0 | public key",
        "private key instead | client-9 client-0.key | 0 | public key",
        "not PEM | client-9 clients | 0 | public key",
        "same key twice | client-9 client-1.pub | 1 | public key",
      })
  void badLinesNameFileLineAndField(String name, String badLine, int okLinesBefore, String field)
      throws Exception {
    MembershipFileException e =
        LineFileAssertions.assertBadLine(
            ClientsFile::load, dir, name, "client-1 client-1.pub", badLine, okLinesBefore, field);
    if (name.equals("missing key file")) {
      assertThat(e.getMessage())
          .endsWith("public key: no such file: " + dir.toAbsolutePath().resolve("nothing.pub"));
    }
  }

  @Test
  void wholeFileErrorsAndAnEmptyFile() throws Exception {
    LineFileAssertions.assertMissingAndBinaryFilesRefused(ClientsFile::load, dir);
    Path empty = Files.writeString(dir.resolve("empty"), "# nobody\n");
    assertThat(ClientsFile.load(empty).entries()).isEmpty();
    assertThat(ClientsFile.load(empty).registry().clients()).isEmpty();
  }

  @Test
  void anAbsolutePublicKeyPathIsUsedAsIs() throws Exception {
    Path key = dir.resolve("elsewhere.pub").toAbsolutePath();
    KeyFiles.writePublicKey(key, EcdsaCrypto.generateKeyPair(new SecureRandom()).publicKey());
    Path file = Files.writeString(dir.resolve("abs"), "far " + key + "\n");
    assertThat(ClientsFile.load(file).entry(ClientId.of("far")).orElseThrow().publicKeyFile())
        .isEqualTo(key);
  }

  @Test
  void generateRefusesBadIdsAndWritesNothing() {
    Path out = dir.resolve("refused");
    assertThatThrownBy(
            () -> ClientsFile.generate(out, List.of(A, ClientId.of("a/b")), new SecureRandom()))
        .hasMessageContaining("file name");
    assertThatThrownBy(() -> ClientsFile.generate(out, List.of(A, A), new SecureRandom()))
        .hasMessageContaining("duplicate client ID client-0");
    assertThat(out).doesNotExist();
  }
}
