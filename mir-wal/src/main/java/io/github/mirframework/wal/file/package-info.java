/**
 * Write-ahead logs for Mir-Java nodes.
 *
 * <p>A write-ahead log has two faces: the node reads it once at start-up through {@link
 * io.github.mirframework.wal.WriteAheadLog#loadAll()} and dispatches the stored events before
 * {@code Init}; protocol modules write to it by sending {@code WalAppend} and {@code WalTruncate}
 * events to the module registered as {@code "wal"}. Both implementations here are that module and
 * that log in one object, so the same instance is passed to {@code Node.Builder.wal(...)} and
 * {@code Node.Builder.module("wal", ...)}.
 *
 * <ul>
 *   <li>{@link io.github.mirframework.wal.file.FileWal}: segment files with checksummed records,
 *       fsync per append or per batch, a persisted retention index and crash recovery.
 *   <li>{@link io.github.mirframework.wal.file.InMemoryWal}: the same contract in memory, for tests
 *       and simulations.
 * </ul>
 *
 * <p>Entries carry a retention index; {@code WalTruncate(i)} makes every entry below {@code i}
 * garbage, and only entries at or above the highest index ever truncated to are loaded.
 */
package io.github.mirframework.wal.file;
