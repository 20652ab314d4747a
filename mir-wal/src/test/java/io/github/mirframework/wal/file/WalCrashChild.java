package io.github.mirframework.wal.file;

import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.PayloadRegistry;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.RetentionIndex;
import java.io.PrintStream;
import java.nio.file.Path;

/**
 * The process {@link FileWalCrashTest} kills: appends numbered entries forever and prints each
 * number on its own line once {@code applyEvents} has returned for it (that is, once it is
 * durable). Entry {@code n} has retention index {@code n}; every 100 entries the log is truncated
 * to 50 entries back, so deletion and the retention file are exercised too.
 *
 * <p>Arguments: WAL directory, {@link FileWal.Durability} name, entries per batch.
 */
final class WalCrashChild {
  static final ModuleId WAL = ModuleId.of("wal");
  static final ModuleId APP = ModuleId.of("app");
  static final long SEGMENT_SIZE_BYTES = 2048;
  static final int TRUNCATE_EVERY = 100;
  static final int KEEP = 50;

  private WalCrashChild() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    FileWal.Durability durability = FileWal.Durability.valueOf(args[1]);
    int batch = Integer.parseInt(args[2]);
    PrintStream out = System.out;
    try (FileWal wal =
        FileWal.open(
            dir,
            PayloadRegistry.withCoreTypes(),
            FileWal.Options.defaults()
                .withDurability(durability)
                .withSegmentSizeBytes(SEGMENT_SIZE_BYTES))) {
      for (long n = 0; ; n += batch) {
        EventList events = EventList.withCapacity(batch + 1);
        for (long i = n; i < n + batch; i++) {
          if (i > 0 && i % TRUNCATE_EVERY == 0) {
            events.add(Events.walTruncate(WAL, RetentionIndex.of(i - KEEP)));
          }
          events.add(Events.walAppend(WAL, Events.testingUint(APP, i), RetentionIndex.of(i)));
        }
        wal.applyEvents(events);
        for (long i = n; i < n + batch; i++) {
          out.println(i);
        }
        out.flush();
      }
    }
  }
}
