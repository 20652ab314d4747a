package io.github.mirframework.samples.bcbdemo;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.mirframework.samples.TransportChoice;
import io.github.mirframework.testing.TransportProvider;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class BcbDemoCommandTest {

  @ParameterizedTest
  @EnumSource(TransportChoice.class)
  void everyNodeDeliversTheLineTypedForTheLeader(TransportChoice transport) throws Exception {
    BcbDemoCommand cmd = new BcbDemoCommand();
    cmd.timeoutS = 30;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    int rc;
    try (TransportProvider net = transport.open(BcbDemoCommand.NODES)) {
      rc =
          cmd.run(
              new ByteArrayInputStream("hello, BFT\n".getBytes(StandardCharsets.UTF_8)),
              new PrintStream(buf, true, StandardCharsets.UTF_8),
              net::transport);
    }
    String out = buf.toString(StandardCharsets.UTF_8);
    assertThat(rc).as(out).isZero();
    for (int i = 0; i < 4; i++) {
      assertThat(out).contains("node " + i + " delivered: hello, BFT");
    }
  }
}
