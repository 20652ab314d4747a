package io.github.mirframework.clientprogress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.mirframework.checkpoint.pb.DeliveredReqs;
import io.github.mirframework.types.ClientId;
import io.github.mirframework.types.ReqNo;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** ClientProgress and DeliveredReqs (Mir has no tests for them). */
class ClientProgressTest {
  static final ClientId A = ClientId.of("a");
  static final ClientId B = ClientId.of("b");

  static ReqNo r(long n) {
    return ReqNo.of(n);
  }

  static io.github.mirframework.checkpoint.pb.ClientProgress pb(
      Map<String, DeliveredReqs> progress) {
    return io.github.mirframework.checkpoint.pb.ClientProgress.newBuilder()
        .putAllProgress(progress)
        .build();
  }

  static DeliveredReqs dr(long lowWm, Long... delivered) {
    return DeliveredReqs.newBuilder().setLowWm(lowWm).addAllDelivered(List.of(delivered)).build();
  }

  @Test
  void addReturnsTrueOnlyTheFirstTime() {
    ClientProgress cp = new ClientProgress();
    assertThat(cp.add(A, r(0))).isTrue();
    assertThat(cp.add(A, r(0))).isFalse();
    assertThat(cp.add(B, r(0))).isTrue();
    assertThat(cp.add(A, r(5))).isTrue();
    assertThat(cp.add(A, r(5))).isFalse();
    assertThat(cp.contains(A, r(5))).isTrue();
    assertThat(cp.contains(A, r(4))).isFalse();
    assertThat(cp.contains(ClientId.of("unknown"), r(0))).isFalse();
    assertThat(cp.clients()).containsExactly(A, B);
  }

  @Test
  void garbageCollectAdvancesOverTheContiguousPrefixOnly() {
    ClientProgress cp = new ClientProgress();
    for (long n : new long[] {0, 1, 2, 4, 5}) {
      cp.add(A, r(n));
    }
    cp.add(B, r(1));
    assertThat(cp.garbageCollect()).isEqualTo(Map.of(A, r(3), B, r(0)));
    assertThat(cp.client(A).orElseThrow().deliveredAboveWatermark()).isEqualTo(2);
    // Below the watermark: counts as delivered, cannot be added again.
    assertThat(cp.contains(A, r(1))).isTrue();
    assertThat(cp.add(A, r(1))).isFalse();
    assertThat(cp.add(A, r(3))).isTrue();
    assertThat(cp.garbageCollect()).isEqualTo(Map.of(A, r(6), B, r(0)));
    assertThat(cp.client(A).orElseThrow().deliveredAboveWatermark()).isZero();
    assertThat(cp.add(B, r(0))).isTrue();
    assertThat(cp.garbageCollect().get(B)).isEqualTo(r(2));
    // Idempotent when nothing changed.
    assertThat(cp.garbageCollect()).isEqualTo(Map.of(A, r(6), B, r(2)));
  }

  @Test
  void requestsBeyondTheWindowAreRefusedAndNotRecorded() {
    ClientProgress cp = new ClientProgress(4);
    assertThat(cp.add(A, r(3))).isTrue();
    assertThat(cp.add(A, r(4))).isFalse();
    assertThat(cp.contains(A, r(4))).isFalse();
    assertThat(cp.add(A, r(Long.MAX_VALUE))).isFalse();
    cp.add(A, r(0));
    cp.add(A, r(1));
    assertThat(cp.garbageCollect().get(A)).isEqualTo(r(2));
    // The window moved with the watermark.
    assertThat(cp.add(A, r(5))).isTrue();
    assertThat(cp.add(A, r(6))).isFalse();
    assertThat(cp.toProto().getProgressOrThrow("a").getDeliveredList()).containsExactly(3L, 5L);
  }

  @Test
  void aSparseByzantineClientIsBoundedByTheWindow() {
    ClientProgress cp = new ClientProgress();
    int accepted = 0;
    for (long n = 1; n < 10 * ClientProgress.DEFAULT_WINDOW; n += 2) {
      accepted += cp.add(A, r(n)) ? 1 : 0;
    }
    assertThat(accepted).isEqualTo((int) (ClientProgress.DEFAULT_WINDOW / 2));
    assertThat(cp.toProto().getProgressOrThrow("a").getDeliveredCount())
        .isEqualTo((int) (ClientProgress.DEFAULT_WINDOW / 2));
    assertThat(cp.garbageCollect().get(A)).isEqualTo(r(0));
  }

  @Test
  void windowMustBeInRange() {
    assertThatThrownBy(() -> new ClientProgress(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new ClientProgress(ClientProgress.MAX_WINDOW + 1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(new ClientProgress(ClientProgress.MAX_WINDOW).window())
        .isEqualTo(ClientProgress.MAX_WINDOW);
  }

  @Test
  void protoListsDeliveredNumbersSortedAndRoundTrips() {
    ClientProgress cp = new ClientProgress();
    for (long n : new long[] {9, 3, 0, 7, 1}) {
      cp.add(A, r(n));
    }
    cp.add(B, r(2));
    cp.garbageCollect();
    var pb = cp.toProto();
    assertThat(pb.getProgressOrThrow("a")).isEqualTo(dr(2, 3L, 7L, 9L));
    assertThat(pb.getProgressOrThrow("b")).isEqualTo(dr(0, 2L));
    ClientProgress back = ClientProgress.fromProto(pb);
    assertThat(back).isEqualTo(cp);
    assertThat(back.toProto()).isEqualTo(pb);
    assertThat(back.add(A, r(8))).isTrue();
    assertThat(back.add(A, r(7))).isFalse();
    assertThat(back.add(A, r(1))).isFalse();
  }

  @Test
  void loadProtoReplacesTheContents() {
    ClientProgress cp = new ClientProgress();
    cp.add(A, r(0));
    cp.loadProto(pb(Map.of("b", dr(4, 6L))));
    assertThat(cp.clients()).containsExactly(B);
    assertThat(cp.contains(B, r(3))).isTrue();
    assertThat(cp.contains(B, r(5))).isFalse();
    assertThat(cp.contains(B, r(6))).isTrue();
  }

  @Test
  void malformedProtosAreRejectedAndLoadLeavesTheTrackerUnchanged() {
    List<io.github.mirframework.checkpoint.pb.ClientProgress> bad =
        List.of(
            pb(Map.of("", dr(0))),
            pb(Map.of("a", dr(5, 4L))), // below the watermark
            pb(Map.of("a", dr(0, 3L, 2L))), // not ascending
            pb(Map.of("a", dr(0, 2L, 2L))), // repeated
            pb(Map.of("a", dr(0, ClientProgress.DEFAULT_WINDOW))), // beyond the window
            pb(Map.of("a", dr(-1))), // low watermark 2^64-1
            pb(Map.of("a", dr(0, -5L)))); // delivered number >= 2^63
    ClientProgress cp = new ClientProgress();
    cp.add(A, r(0));
    ClientProgress before = ClientProgress.fromProto(cp.toProto());
    for (var p : bad) {
      assertThat(ClientProgress.check(p, ClientProgress.DEFAULT_WINDOW))
          .as(p.toString())
          .isNotNull();
      assertThatThrownBy(() -> ClientProgress.fromProto(p))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("malformed");
      assertThatThrownBy(() -> cp.loadProto(p)).isInstanceOf(IllegalArgumentException.class);
      assertThat(cp).isEqualTo(before);
    }
    assertThat(ClientProgress.check(pb(Map.of("a", dr(3, 3L, 9L))), 10)).isNull();
  }

  static LongStream seeds() {
    return LongStream.rangeClosed(1, 20);
  }

  /** Compared with a simple model: a set of delivered numbers per client, no window. */
  @ParameterizedTest(name = "seed={0}")
  @MethodSource("seeds")
  void behavesLikeASetWithinTheWindow(long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    long window = 64;
    ClientProgress cp = new ClientProgress(window);
    Map<ClientId, Set<Long>> model = Map.of(A, new HashSet<>(), B, new HashSet<>());
    Map<ClientId, Long> lowWm = new java.util.HashMap<>(Map.of(A, 0L, B, 0L));
    for (int step = 0; step < 2000; step++) {
      ClientId c = rnd.nextBoolean() ? A : B;
      if (rnd.nextInt(20) == 0) {
        var wms = cp.garbageCollect();
        for (ClientId k : model.keySet()) {
          long w = lowWm.get(k);
          while (model.get(k).contains(w)) {
            w++;
          }
          lowWm.put(k, w);
          assertThat(wms.getOrDefault(k, r(0))).isEqualTo(r(w));
        }
        continue;
      }
      long n = lowWm.get(c) + rnd.nextLong(window + 8) - 4;
      if (n < 0) {
        n = 0;
      }
      boolean expected =
          n >= lowWm.get(c) && n < lowWm.get(c) + window && !model.get(c).contains(n);
      assertThat(cp.add(c, r(n))).as("step %d: add(%s, %d)", step, c, n).isEqualTo(expected);
      if (expected) {
        model.get(c).add(n);
      }
      assertThat(cp.contains(c, r(n))).isEqualTo(model.get(c).contains(n) || n < lowWm.get(c));
    }
    // The proto lists exactly the model's numbers at or above the watermark, ascending.
    for (ClientId c : cp.clients()) {
      List<Long> expected = new ArrayList<>();
      model.get(c).stream().filter(x -> x >= lowWm.get(c)).sorted().forEach(expected::add);
      assertThat(cp.toProto().getProgressOrThrow(c.value()).getDeliveredList()).isEqualTo(expected);
    }
    assertThat(ClientProgress.fromProto(cp.toProto(), window)).isEqualTo(cp);
  }
}
