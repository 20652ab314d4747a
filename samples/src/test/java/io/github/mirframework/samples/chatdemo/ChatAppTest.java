package io.github.mirframework.samples.chatdemo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.github.mirframework.checkpoint.pb.StableCheckpoint;
import io.github.mirframework.checkpoint.pb.StateSnapshot;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.net.Membership;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.types.EpochNr;
import io.github.mirframework.types.NodeId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ChatAppTest {
  static final Membership FOUR = membership(4);
  static final Map<NodeId, ByteString> KEYS = new LinkedHashMap<>();

  static {
    for (int i = 0; i < 6; i++) { // nodes 4 and 5 are spare
      KEYS.put(NodeId.of(i), ByteString.copyFromUtf8("key" + i));
    }
  }

  static Membership membership(int n) {
    Map<NodeId, NodeAddress> m = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      m.put(NodeId.of(i), NodeAddress.loopback(10_000 + i));
    }
    return Membership.of(m);
  }

  static List<Request> txs(String... lines) {
    List<Request> out = new ArrayList<>();
    for (int i = 0; i < lines.length; i++) {
      out.add(
          Request.newBuilder()
              .setClientId("c")
              .setReqNo(i)
              .setData(ByteString.copyFromUtf8(lines[i]))
              .build());
    }
    return out;
  }

  static ChatApp app(List<String> printed) {
    return new ChatApp(NodeId.of(0), FOUR, KEYS, printed::add, null, null);
  }

  @Test
  void appendsMessagesAndDecidesConfigChangesDeterministically() {
    List<String> printedA = new ArrayList<>();
    List<String> printedB = new ArrayList<>();
    ChatApp a = app(printedA);
    ChatApp b = app(printedB);
    List<Request> batch =
        txs(
            "hello",
            "Config: add-node 4 127.0.0.1:10004",
            "Config: add-node 4 127.0.0.1:10005", // already a member (pending)
            "Config: add-node 9 127.0.0.1:10009", // unknown key
            "Config: add-node 5 127.0.0.1:10001", // address of node 1
            "Config: add-node 5 not-an-address",
            "Config: add-node 5 127.0.0.1:0",
            "Config: add-node 5",
            "Config: remove-node 7",
            "Config: remove-node",
            "Config: frobnicate 1",
            "Config:",
            "Config: remove-node 2",
            "bye\u001b[2J");
    a.applyTxs(batch);
    b.applyTxs(batch);
    assertThat(a.history()).isEqualTo(b.history());
    assertThat(a.snapshot()).isEqualTo(b.snapshot());
    List<String> h = a.history();
    assertThat(h.get(0)).isEqualTo("Client c: hello");
    assertThat(h.get(2)).startsWith("  -> accepted: node 4");
    assertThat(h.get(4)).contains("refused").contains("already a member");
    assertThat(h.get(6)).contains("refused").contains("unknown node 9");
    assertThat(h.get(8)).contains("refused").contains("used by node 1");
    assertThat(h.get(10)).contains("refused").contains("bad address");
    assertThat(h.get(12)).contains("refused").contains("port 0");
    assertThat(h.get(14)).contains("refused").contains("usage");
    assertThat(h.get(16)).contains("refused").contains("not a member");
    assertThat(h.get(18)).contains("refused").contains("usage");
    assertThat(h.get(20)).contains("refused").contains("unknown configuration change");
    assertThat(h.get(22)).contains("refused").contains("empty");
    assertThat(h.get(24)).startsWith("  -> accepted: node 2 leaves");
    assertThat(h.get(25)).isEqualTo("Client c: bye?[2J"); // no terminal escape
    assertThat(printedA).isEqualTo(h);
    Membership next = a.newEpoch(EpochNr.of(1));
    assertThat(next.ids())
        .containsExactlyInAnyOrder(NodeId.of(0), NodeId.of(1), NodeId.of(3), NodeId.of(4));
    assertThat(next.address(NodeId.of(4))).contains(NodeAddress.loopback(10_004));
    assertThat(printedA.getLast()).contains("membership changes to 0 1 3 4");
  }

  @Test
  void theLastNodeCannotBeRemoved() {
    ChatApp a = new ChatApp(NodeId.of(0), membership(2), KEYS, s -> {}, null, null);
    a.applyTxs(txs("Config: remove-node 1", "Config: remove-node 0"));
    assertThat(a.history().get(1)).contains("accepted");
    assertThat(a.history().get(3)).contains("refused: cannot remove the last node");
    assertThat(a.nextMembership().ids()).containsExactly(NodeId.of(0));
  }

  @Test
  void snapshotRestoresHistoryMembershipAndKeysAndPrintsTheHistory() {
    ChatApp a = app(new ArrayList<>());
    a.applyTxs(txs("one", "Config: add-node 5 127.0.0.1:10005", "two"));
    ByteString snap = a.snapshot();
    StableCheckpoint sc =
        StableCheckpoint.newBuilder()
            .setSn(42)
            .setSnapshot(StateSnapshot.newBuilder().setAppData(snap))
            .build();
    List<String> printed = new ArrayList<>();
    // A replica that knows no spare keys and has another history: the checkpoint wins.
    ChatApp b = new ChatApp(NodeId.of(3), FOUR, Map.copyOf(KEYS), printed::add, null, null);
    b.applyTxs(txs("something else"));
    printed.clear();
    b.restoreState(sc);
    assertThat(b.history()).isEqualTo(a.history());
    assertThat(b.snapshot()).isEqualTo(snap);
    assertThat(b.nextMembership()).isEqualTo(a.nextMembership());
    assertThat(printed.get(0)).startsWith(ChatApp.RESTORED_MARK);
    assertThat(printed.subList(1, printed.size())).isEqualTo(a.history());
    // Same decisions afterwards.
    a.applyTxs(txs("Config: add-node 5 127.0.0.1:10006"));
    b.applyTxs(txs("Config: add-node 5 127.0.0.1:10006"));
    assertThat(b.history()).isEqualTo(a.history());
  }

  @Test
  void garbageAppStateIsRefused() {
    StableCheckpoint sc =
        StableCheckpoint.newBuilder()
            .setSnapshot(
                StateSnapshot.newBuilder()
                    .setAppData(ByteString.copyFrom(new byte[] {(byte) 0xff})))
            .build();
    assertThatThrownBy(() -> app(new ArrayList<>()).restoreState(sc))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not a chat state");
  }
}
