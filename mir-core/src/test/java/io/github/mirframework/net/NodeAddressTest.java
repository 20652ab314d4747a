package io.github.mirframework.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.mirframework.types.NodeId;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class NodeAddressTest {

  @ParameterizedTest
  @CsvSource({
    "127.0.0.1:10000, 127.0.0.1, 10000",
    "node-3.example.org:0, node-3.example.org, 0",
    "'[::1]:8080', ::1, 8080",
    "/ip4/127.0.0.1/tcp/10001, 127.0.0.1, 10001",
    "/ip6/::1/tcp/7, ::1, 7",
    "/dns4/localhost/tcp/65535, localhost, 65535",
    "/ip4/10.0.0.1/tcp/4001/p2p/12D3KooWxyz, 10.0.0.1, 4001"
  })
  void parsesHostPortAndMultiaddresses(String text, String host, int port) {
    NodeAddress a = NodeAddress.parse(text);
    assertThat(a).isEqualTo(NodeAddress.of(host, port));
    assertThat(NodeAddress.parse(a.toString())).isEqualTo(a);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "localhost",
        "localhost:",
        ":80",
        "host:65536",
        "host:-1",
        "host:8o",
        "::1:80",
        "[::1]80",
        "/ip4/1.2.3.4/udp/5",
        "/ip4/1.2.3.4/tcp",
        "/unix/tmp/sock/tcp/1",
        "/ip4/1.2.3.4/tcp/5/extra",
        "a b:1"
      })
  void rejectsInvalidAddresses(String text) {
    assertThatThrownBy(() -> NodeAddress.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("invalid node address");
  }

  @Test
  void membershipIsSortedImmutableAndValidated() {
    Membership m =
        Membership.of(
            Map.of(
                NodeId.of("b"), NodeAddress.loopback(2), NodeId.of("a"), NodeAddress.loopback(1)));
    assertThat(m.ids()).containsExactly(NodeId.of("a"), NodeId.of("b"));
    assertThat(m.address(NodeId.of("a"))).contains(NodeAddress.loopback(1));
    assertThat(m.with(NodeId.of("c"), NodeAddress.loopback(3)).size()).isEqualTo(3);
    assertThat(m.without(NodeId.of("a")).ids()).containsExactly(NodeId.of("b"));
    assertThat(m.size()).isEqualTo(2);
    assertThatThrownBy(() -> m.nodes().put(NodeId.of("x"), NodeAddress.loopback(9)))
        .isInstanceOf(UnsupportedOperationException.class);
  }
}
