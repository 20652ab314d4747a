package io.github.mirframework.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mirframework.crypto.internal.ParallelBatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ParallelBatchTest {

  @Test
  void runsEveryTaskOnceAndReportsTheLowestFailingIndex() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      Parallelism p = Parallelism.using(pool, 3).withMinBatchSize(1);
      int[] counts = new int[1000];
      ParallelBatch.run(counts.length, i -> counts[i]++, p);
      int[] ones = new int[counts.length];
      java.util.Arrays.fill(ones, 1);
      assertArrayEquals(ones, counts);

      for (int round = 0; round < 20; round++) {
        var e =
            assertThrows(
                IllegalStateException.class,
                () ->
                    ParallelBatch.run(
                        100,
                        i -> {
                          if (i == 17 || i == 63) {
                            throw new IllegalStateException("task " + i);
                          }
                        },
                        p));
        assertEquals("task 17", e.getMessage());
      }
    } finally {
      pool.shutdownNow();
      assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
    }
  }

  @Test
  void smallBatchesAndSequentialParallelismStayOnTheCallingThread() {
    Thread caller = Thread.currentThread();
    boolean[] onCaller = {true};
    ParallelBatch.run(
        50, i -> onCaller[0] &= Thread.currentThread() == caller, Parallelism.sequential());
    ParallelBatch.run(
        3,
        i -> onCaller[0] &= Thread.currentThread() == caller,
        Parallelism.commonPool().withMinBatchSize(4));
    assertTrue(onCaller[0]);
  }

  @Test
  void rejectsNonsenseParameters() {
    assertThrows(IllegalArgumentException.class, () -> Parallelism.using(Runnable::run, 0));
    assertThrows(
        IllegalArgumentException.class, () -> Parallelism.sequential().withMinBatchSize(0));
  }
}
