package io.github.mirframework.samples.availabilitydemo;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.mirframework.samples.TransportChoice;
import io.github.mirframework.testing.TransportProvider;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class AvailabilityDemoCommandTest {

  private static String run(TransportChoice transport, String input, int expectedRc)
      throws Exception {
    AvailabilityDemoCommand cmd = new AvailabilityDemoCommand();
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    int rc;
    try (TransportProvider net = transport.open(AvailabilityDemoCommand.NODES)) {
      rc =
          cmd.run(
              new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)),
              new PrintStream(buf, true, StandardCharsets.UTF_8),
              net::transport);
    }
    String out = buf.toString(StandardCharsets.UTF_8);
    assertThat(rc).as(out).isEqualTo(expectedRc);
    return out;
  }

  @ParameterizedTest
  @EnumSource(
      value = TransportChoice.class,
      names = {"GRPC", "INPROCESS"})
  void aBatchCertifiedOnOneNodeIsReadOnAnother(TransportChoice transport) throws Exception {
    String out = run(transport, "batch 1\nhello\nworld\nsend!\nread last 3\nexit\n", 0);
    assertThat(out)
        .contains("node 1 certified a batch, signed by")
        .contains("node 3 read 2 transactions:\n  hello\n  world");
  }

  @Test
  void aCertificatePastedAsTextIsReadAndAForgedOneIsRejected() throws Exception {
    String first = run(TransportChoice.INPROCESS, "batch\ntx\nsend!\nexit\n", 0);
    String cert = first.lines().filter(l -> l.matches("[A-Za-z0-9+/=]{20,}")).findFirst().get();
    // A new run has the same pseudo keys; the batch is created there again (same transaction, same
    // batch ID), so the pasted certificate is valid and its batch is found.
    String out = run(TransportChoice.INPROCESS, "batch\ntx\nsend!\nread " + cert + " 2\nexit\n", 0);
    assertThat(out).contains("node 2 read 1 transactions:\n  tx");

    // Flip a character in the middle of the certificate (inside a signature).
    char[] c = cert.toCharArray();
    int i = c.length - 10;
    c[i] = c[i] == 'A' ? 'B' : 'A';
    String forged = run(TransportChoice.INPROCESS, "read " + new String(c) + " 2\nexit\n", 0);
    assertThat(forged)
        .containsAnyOf("rejects the certificate", "not a certificate")
        .doesNotContain("transactions:");
  }

  @Test
  void consecutiveBatchesEachHoldOnlyTheirOwnTransactions() throws Exception {
    String out =
        run(
            TransportChoice.INPROCESS,
            "batch 0\na\nb\nsend!\nread last 1\nbatch 0\nc\nsend!\nread last 2\nexit\n",
            0);
    assertThat(out)
        .contains("node 1 read 2 transactions:\n  a\n  b\n")
        .contains("node 2 read 1 transactions:\n  c\n");
  }

  @Test
  void aBatchLargerThanTheMempoolsLimitIsRefusedWithAMessage() throws Exception {
    StringBuilder in = new StringBuilder("batch\n");
    for (int i = 0; i <= AvailabilityDemoCommand.MAX_TXS_IN_BATCH; i++) {
      in.append("tx").append(i).append('\n');
    }
    in.append("send!\nread last\nexit\n");
    String out = run(TransportChoice.INPROCESS, in.toString(), 0);
    assertThat(out)
        .contains(
            "a batch holds at most "
                + AvailabilityDemoCommand.MAX_TXS_IN_BATCH
                + " transactions (the mempool's limit); you typed "
                + (AvailabilityDemoCommand.MAX_TXS_IN_BATCH + 1))
        .contains("no batch created yet");
  }

  @Test
  void badCommandsAreExplained() throws Exception {
    String out =
        run(TransportChoice.INPROCESS, "frobnicate\nbatch 9\nread\nread last\nread !!!\nexit\n", 0);
    assertThat(out)
        .contains("unknown command 'frobnicate'")
        .contains("no node '9' (0 to 3)")
        .contains("usage: read CERT|last [NODE]")
        .contains("no batch created yet")
        .contains("not a certificate");
  }
}
