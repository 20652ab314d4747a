package io.github.mirframework.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.github.mirframework.checkpoint.pb.ClientProgress;
import io.github.mirframework.checkpoint.pb.DeliveredReqs;
import io.github.mirframework.checkpoint.pb.EpochConfig;
import io.github.mirframework.checkpoint.pb.EpochData;
import io.github.mirframework.checkpoint.pb.Membership;
import io.github.mirframework.checkpoint.pb.StateSnapshot;
import io.github.mirframework.crypto.CryptoEvents;
import io.github.mirframework.crypto.HasherModule;
import io.github.mirframework.crypto.pb.HashResult;
import io.github.mirframework.event.EventList;
import io.github.mirframework.types.EpochNr;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.SeqNr;
import java.io.ByteArrayOutputStream;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Test vectors that pin the byte layout of the checkpoint snapshot hash and signature data
 * (PORT-MAP Appendix C). The expected digests were computed independently (Python's hashlib over
 * the layout written out by hand), not by this code.
 */
class SnapshotHashingTest {
  static final StateSnapshot SNAPSHOT =
      StateSnapshot.newBuilder()
          .setAppData(ByteString.copyFromUtf8("app"))
          .setEpochData(
              EpochData.newBuilder()
                  .setEpochConfig(
                      EpochConfig.newBuilder()
                          .setEpochNr(3)
                          .setFirstSn(12)
                          .setLength(4)
                          .addMemberships(
                              Membership.newBuilder()
                                  .putMembership("1", "/ip4/127.0.0.1/tcp/10001")
                                  .putMembership("0", "/ip4/127.0.0.1/tcp/10000"))
                          .addMemberships(Membership.newBuilder().putMembership("0", "a")))
                  .setClientProgress(
                      ClientProgress.newBuilder()
                          .putProgress(
                              "c2",
                              DeliveredReqs.newBuilder()
                                  .setLowWm(5)
                                  .addDelivered(7)
                                  .addDelivered(9)
                                  .build())
                          .putProgress("c1", DeliveredReqs.newBuilder().setLowWm(0).build())))
          .build();

  /** sha256(u64(3) u64(4) u64(12) "0\0/ip4/..10000\0" "1\0/ip4/..10001\0" "0\0a\0" ...). */
  static final String SNAPSHOT_HASH =
      "d3585cb9dbd86af6d55f8872daae59fbb32a630bb8977b32ae9cb839ba3ee964";

  /** sha256 of 24 zero bytes: the empty snapshot (zero config, no memberships, no clients). */
  static final String EMPTY_SNAPSHOT_HASH =
      "9d908ecfb6b256def8b49a7c504e6c889c4b0e41fe6ce3e01863dd7b61a20aa0";

  static byte[] u64(long v) {
    byte[] b = new byte[8];
    for (int i = 0; i < 8; i++) {
      b[i] = (byte) (v >>> (8 * i));
    }
    return b;
  }

  static ByteString concat(List<ByteString> chunks) {
    return ByteString.copyFrom(chunks);
  }

  @Test
  void snapshotLayoutIsConfigThenProgressThenAppData() {
    ByteArrayOutputStream expected = new ByteArrayOutputStream();
    expected.writeBytes(u64(3)); // epoch_nr
    expected.writeBytes(u64(4)); // length (before first_sn!)
    expected.writeBytes(u64(12)); // first_sn
    expected.writeBytes("0\0/ip4/127.0.0.1/tcp/10000\0".getBytes()); // sorted by node ID
    expected.writeBytes("1\0/ip4/127.0.0.1/tcp/10001\0".getBytes());
    expected.writeBytes("0\0a\0".getBytes()); // second membership
    expected.writeBytes("c1".getBytes()); // clients sorted
    expected.writeBytes(u64(0));
    expected.writeBytes("c2".getBytes());
    expected.writeBytes(u64(5));
    expected.writeBytes(u64(7));
    expected.writeBytes(u64(9));
    expected.writeBytes("app".getBytes());
    assertThat(concat(SnapshotHashing.snapshotForHash(SNAPSHOT)).toByteArray())
        .isEqualTo(expected.toByteArray());
    assertThat(HexFormat.of().formatHex(SnapshotHashing.snapshotHash(SNAPSHOT).toByteArray()))
        .isEqualTo(SNAPSHOT_HASH);
  }

  @Test
  void emptySnapshotHashesTheThreeZeroNumbers() {
    StateSnapshot empty = StateSnapshot.getDefaultInstance();
    assertThat(SnapshotHashing.snapshotForHash(empty)).hasSize(4);
    assertThat(HexFormat.of().formatHex(SnapshotHashing.snapshotHash(empty).toByteArray()))
        .isEqualTo(EMPTY_SNAPSHOT_HASH);
  }

  @Test
  void theHasherModuleComputesTheSameHash() {
    EventList out =
        new HasherModule()
            .applyEvents(
                EventList.of(
                    CryptoEvents.hashRequest(
                        ModuleId.of("hasher"),
                        List.of(CryptoEvents.hashData(SnapshotHashing.snapshotForHash(SNAPSHOT))),
                        CryptoEvents.origin(ModuleId.of("checkpoint/3")))));
    assertThat(out.get(0).payload(HashResult.class).getDigests(0))
        .isEqualTo(SnapshotHashing.snapshotHash(SNAPSHOT));
  }

  @Test
  void signatureDataIsEpochThenSnThenHash() {
    ByteString hash = ByteString.copyFrom(HexFormat.of().parseHex(SNAPSHOT_HASH));
    List<ByteString> data = SnapshotHashing.checkpointForSig(EpochNr.of(3), SeqNr.of(12), hash);
    assertThat(data)
        .containsExactly(ByteString.copyFrom(u64(3)), ByteString.copyFrom(u64(12)), hash);
  }

  @Test
  void keysAreSortedByTheirUtf8BytesAsInGo() {
    // U+FFFF is EF BF BF in UTF-8, U+1F600 is F0 9F 98 80: Go puts U+FFFF first, although Java's
    // String order (UTF-16: FFFF vs D83D) would put the emoji first.
    String bmp = "\uFFFF";
    String emoji = new String(Character.toChars(0x1F600));
    ClientProgress cp =
        ClientProgress.newBuilder()
            .putProgress(emoji, DeliveredReqs.getDefaultInstance())
            .putProgress(bmp, DeliveredReqs.getDefaultInstance())
            .build();
    assertThat(SnapshotHashing.clientProgressForHash(cp))
        .containsExactly(
            ByteString.copyFromUtf8(bmp),
            ByteString.copyFrom(u64(0)),
            ByteString.copyFromUtf8(emoji),
            ByteString.copyFrom(u64(0)));
    Membership m =
        Membership.newBuilder().putMembership(emoji, "b").putMembership(bmp, "a").build();
    assertThat(SnapshotHashing.membershipsForHash(List.of(m)).get(0))
        .isEqualTo(ByteString.copyFromUtf8(bmp));
  }

  @Test
  void eachFieldChangesTheHash() {
    ByteString base = SnapshotHashing.snapshotHash(SNAPSHOT);
    List<StateSnapshot> variants =
        List.of(
            SNAPSHOT.toBuilder().setAppData(ByteString.copyFromUtf8("apq")).build(),
            withConfig(c -> c.setEpochNr(4)),
            withConfig(c -> c.setFirstSn(13)),
            withConfig(c -> c.setLength(5)),
            withConfig(c -> c.setMemberships(1, Membership.newBuilder().putMembership("0", "b"))),
            withConfig(c -> c.addMemberships(Membership.newBuilder().putMembership("2", "x"))),
            SNAPSHOT.toBuilder()
                .setEpochData(
                    SNAPSHOT.getEpochData().toBuilder()
                        .setClientProgress(
                            SNAPSHOT.getEpochData().getClientProgress().toBuilder()
                                .putProgress("c3", DeliveredReqs.getDefaultInstance())))
                .build());
    for (StateSnapshot v : variants) {
      assertThat(SnapshotHashing.snapshotHash(v)).as(v.toString()).isNotEqualTo(base);
    }
    // Map insertion order does not matter: entries are sorted.
    StateSnapshot reordered =
        withConfig(
            c ->
                c.setMemberships(
                    0,
                    Membership.newBuilder()
                        .putMembership("0", "/ip4/127.0.0.1/tcp/10000")
                        .putMembership("1", "/ip4/127.0.0.1/tcp/10001")));
    assertThat(SnapshotHashing.snapshotHash(reordered)).isEqualTo(base);
  }

  static StateSnapshot withConfig(java.util.function.Consumer<EpochConfig.Builder> change) {
    EpochConfig.Builder c = SNAPSHOT.getEpochData().getEpochConfig().toBuilder();
    change.accept(c);
    return SNAPSHOT.toBuilder()
        .setEpochData(SNAPSHOT.getEpochData().toBuilder().setEpochConfig(c))
        .build();
  }
}
