package io.github.mirframework.samples.bcbdemo;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.mirframework.net.inprocess.InProcessNetwork;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class BcbDemoCommandTest {

  @Test
  void everyNodeDeliversTheLineTypedForTheLeader() throws Exception {
    BcbDemoCommand cmd = new BcbDemoCommand();
    cmd.timeoutS = 30;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    InProcessNetwork net = new InProcessNetwork(BcbDemoCommand.NODES);
    int rc =
        cmd.run(
            new ByteArrayInputStream("hello, BFT\n".getBytes(StandardCharsets.UTF_8)),
            new PrintStream(buf, true, StandardCharsets.UTF_8),
            net::transport);
    String out = buf.toString(StandardCharsets.UTF_8);
    assertThat(rc).as(out).isZero();
    for (int i = 0; i < 4; i++) {
      assertThat(out).contains("node " + i + " delivered: hello, BFT");
    }
  }
}
