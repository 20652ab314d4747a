package io.github.mirframework.wal.file;

import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.PayloadRegistry;
import io.github.mirframework.node.Node;
import io.github.mirframework.types.NodeId;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The process {@link NodeKillRecoveryTest} kills with SIGKILL: a real {@link Node} with a {@link
 * FileWal} (as WAL and as module "wal") and a {@link PersistingCounter}; the main thread keeps
 * adding the values 1, 2, 3, ... and the counter prints its sum after each applied (hence already
 * persisted) change.
 *
 * <p>Arguments: WAL directory, {@link FileWal.Durability} name.
 */
final class NodeKillChild {
  private NodeKillChild() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    FileWal.Durability durability = FileWal.Durability.valueOf(args[1]);
    PrintStream out = System.out;
    PayloadRegistry registry = PayloadRegistry.withCoreTypes();
    FileWal wal =
        FileWal.open(
            dir,
            registry,
            FileWal.Options.defaults().withDurability(durability).withSegmentSizeBytes(4096));
    PersistingCounter counter =
        new PersistingCounter(
            sum -> {
              out.println(sum);
              out.flush();
            });
    Node node =
        Node.builder(NodeId.of("0"))
            .module(PersistingCounter.WAL, wal)
            .module(PersistingCounter.COUNTER, counter)
            .wal(wal)
            .build();
    node.start();
    for (long v = 1; ; v++) {
      node.injectEvents(EventList.of(Events.testingUint(PersistingCounter.COUNTER, v)));
      // Keep a few changes in flight, so the kill can land between persisting and applying.
      while (counter.applied() < v - 4) {
        LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(50));
      }
    }
  }
}
