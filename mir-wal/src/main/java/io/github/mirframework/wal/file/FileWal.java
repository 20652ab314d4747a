package io.github.mirframework.wal.file;

import com.google.protobuf.CodedOutputStream;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventCodec;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.PayloadRegistry;
import io.github.mirframework.event.pb.EventRecord;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.types.RetentionIndex;
import io.github.mirframework.wal.WriteAheadLog;
import io.github.mirframework.wal.file.pb.WalEntry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A durable write-ahead log in a directory: Mir's {@code simplewal}, with checksums, a persisted
 * retention index and crash recovery.
 *
 * <p><b>Two roles.</b> A {@code FileWal} is the node's {@link WriteAheadLog} (the node calls {@link
 * #loadAll()} at start-up and dispatches the events before {@code Init}) and, at the same time, the
 * {@link PassiveModule} registered as {@code "wal"} that protocol modules write to: {@code
 * WalAppend} appends its event under its retention index, {@code WalTruncate} drops every entry
 * whose retention index is below the given one, {@code Init} is accepted and ignored, and any other
 * event type is an error naming the type. {@link #applyEvents} returns no events; a module that
 * must act only after an entry is durable puts that action in the follow-ups of its {@code
 * WalAppend}, which the node releases only after {@code applyEvents} has returned.
 *
 * <p><b>Durability.</b> When {@code applyEvents} returns, every entry it appended has been forced
 * to the storage device ({@code FileChannel.force}): after each append with {@link
 * Durability#FSYNC_EACH_APPEND}, or once for the whole batch with {@link Durability#GROUP_COMMIT}
 * (the default). New segment files and the retention index file are made durable together with
 * their directory entries. A truncation is durable when {@code applyEvents} returns. Records are
 * gathered in memory (up to 256 KiB) and written together, at the latest when {@code applyEvents}
 * returns or {@code loadAll} reads them.
 *
 * <p><b>Files.</b> Entries are numbered from 0 and stored in segment files named after the number
 * of their first entry, zero-padded to 20 digits ({@code 00000000000000000000.seg}). A new segment
 * is started when the next record would make the current one exceed {@link
 * Options#segmentSizeBytes()} (a record larger than that gets a segment of its own). Each record
 * holds a length, a CRC32C and a {@code mir.wal.WalEntry} protobuf: the retention index and the
 * event serialized by {@link EventCodec}. Truncation persists the new retention index first (file
 * {@code retention}, two checksummed slots written alternately, so a torn write leaves the previous
 * index) and then deletes the oldest segments whose entries are all below it; entries below the
 * persisted index are never loaded, even where their segment still exists (segments holding newer
 * entries, and the segment being written, are kept). A {@code lock} file keeps a second {@code
 * FileWal} from opening the same directory.
 *
 * <p><b>Descriptors.</b> Once open, the log opens no file: it holds the directory (to sync its
 * entries), the retention index file, the active segment and an empty spare file ({@code
 * next-segment.tmp}) that becomes the next segment by a rename. A process that has run out of file
 * descriptors (e.g. under a connection flood) thus keeps appending, rolling segments and
 * truncating; only if the spare could not be re-opened after a roll does the following roll need a
 * new descriptor. Creating the log directory syncs its parent, so the new directory survives a
 * crash.
 *
 * <p><b>Recovery.</b> {@link #open} checks every record. If the last write before a crash was cut
 * short (the last segment ends inside a record, its last record fails its checksum, or its tail is
 * zero-filled), the damaged tail is cut off, logged as a warning and described by {@link
 * #recoveryReport()}; entries whose {@code applyEvents} had returned are never in that tail. Any
 * other damage (a bad checksum or length before the end, an entry that does not decode, a gap in
 * the segment numbering, an unknown file format) raises {@link WalCorruptedException} naming file
 * and byte offset: nothing is skipped silently. Two limits follow from working with what is on
 * disk: a record length corrupted in the last segment so that it points past the end of the file
 * cannot be told from a torn write and is treated as one; and after a power failure in {@code
 * GROUP_COMMIT} mode, where more than the last record may be damaged, opening fails rather than
 * guessing.
 *
 * <p><b>Decoding.</b> Events are decoded with the {@link PayloadRegistry} given to {@link #open}.
 * Every payload type that is ever appended (including the types of follow-ups) must be registered
 * there: an append of an unregistered type is refused by {@code applyEvents}, and an entry of an
 * unregistered type found on disk is corruption.
 *
 * <p><b>Threads.</b> All methods are thread-safe and serialized by one lock; {@code applyEvents}
 * and {@code loadAll} block on disk I/O (this is the one passive module that does I/O, by design).
 * Interrupting a thread while it writes closes the underlying channel (a {@code FileChannel} rule),
 * which fails the log. After an I/O error the log refuses further use ({@link IOException}) until
 * it is closed and reopened, which repairs whatever the failed write left behind.
 */
public final class FileWal implements WriteAheadLog, PassiveModule, AutoCloseable {
  /** Never takes network input: received messages addressed here are dropped by the node. */
  @Override
  public boolean receivesMessages() {
    return false;
  }

  private static final Logger LOG = LoggerFactory.getLogger(FileWal.class);
  // Appended records are gathered up to this size before they are written.
  private static final int WRITE_BUFFER_BYTES = 256 << 10;

  static final String LOCK_NAME = "lock";

  /** The empty file kept open to become the next segment. */
  static final String SPARE_NAME = "next-segment.tmp";

  /** When appended entries are forced to the storage device. */
  public enum Durability {
    /** Force after every appended entry: the slowest, and the smallest window of lost work. */
    FSYNC_EACH_APPEND,
    /**
     * Write all entries of one {@code applyEvents} batch, then force once before it returns. Gives
     * the same guarantee to the node (nothing is acknowledged before it is durable) with one force
     * per batch.
     */
    GROUP_COMMIT
  }

  /**
   * Settings of a {@code FileWal}.
   *
   * @param durability when appends are forced to disk
   * @param segmentSizeBytes the size at which a new segment file is started, at least {@value
   *     #MIN_SEGMENT_SIZE_BYTES}
   * @param maxRecordBytes the largest entry that is written or read; a larger length found on disk
   *     is corruption
   */
  public record Options(Durability durability, long segmentSizeBytes, int maxRecordBytes) {
    /** 64 MiB. */
    public static final long DEFAULT_SEGMENT_SIZE_BYTES = 64L << 20;

    /** 64 MiB. */
    public static final int DEFAULT_MAX_RECORD_BYTES = 64 << 20;

    /** The smallest segment size accepted. */
    public static final long MIN_SEGMENT_SIZE_BYTES = 64;

    /** Validates the settings. */
    public Options {
      Objects.requireNonNull(durability, "durability");
      if (segmentSizeBytes < MIN_SEGMENT_SIZE_BYTES) {
        throw new IllegalArgumentException(
            "segmentSizeBytes must be at least "
                + MIN_SEGMENT_SIZE_BYTES
                + ": "
                + segmentSizeBytes);
      }
      if (maxRecordBytes < 1 || maxRecordBytes > Integer.MAX_VALUE - 64) {
        throw new IllegalArgumentException(
            "maxRecordBytes must be between 1 and "
                + (Integer.MAX_VALUE - 64)
                + ": "
                + maxRecordBytes);
      }
    }

    /** Group commit, 64 MiB segments, 64 MiB records. */
    public static Options defaults() {
      return new Options(
          Durability.GROUP_COMMIT, DEFAULT_SEGMENT_SIZE_BYTES, DEFAULT_MAX_RECORD_BYTES);
    }

    /** A copy with another durability mode. */
    public Options withDurability(Durability value) {
      return new Options(value, segmentSizeBytes, maxRecordBytes);
    }

    /** A copy with another segment size. */
    public Options withSegmentSizeBytes(long value) {
      return new Options(durability, value, maxRecordBytes);
    }

    /** A copy with another record size limit. */
    public Options withMaxRecordBytes(int value) {
      return new Options(durability, segmentSizeBytes, value);
    }
  }

  /**
   * A damaged tail that was cut off when the log was opened.
   *
   * @param file the segment file
   * @param offset where the damaged record started; the file now ends here
   * @param discardedBytes how many bytes were cut off
   * @param reason what was found there
   */
  public record TornTail(Path file, long offset, long discardedBytes, String reason) {}

  /**
   * What {@link #open} found.
   *
   * @param segmentCount the number of segment files
   * @param entryCount the intact entries on disk, including those below the retention index
   * @param liveEntryCount the entries {@link #loadAll()} returned right after opening
   * @param retentionIndex the persisted retention index
   * @param tornTail the damaged tail that was cut off, if any
   */
  public record RecoveryReport(
      int segmentCount,
      long entryCount,
      long liveEntryCount,
      RetentionIndex retentionIndex,
      Optional<TornTail> tornTail) {

    /** Whether the log was found intact (no torn tail). */
    public boolean isClean() {
      return tornTail.isEmpty();
    }
  }

  /** One segment file; the last one is being written. */
  private static final class Segment {
    final Path path;
    final long firstIndex;
    long count;
    long size;
    long maxRetention;

    Segment(Path path, long firstIndex, long count, long size, long maxRetention) {
      this.path = path;
      this.firstIndex = firstIndex;
      this.count = count;
      this.size = size;
      this.maxRetention = maxRetention;
    }
  }

  private final Path dir;
  private final Options options;
  private final EventCodec codec;
  private final SegmentScanner scanner;
  private final FileChannel lockChannel;
  private final FileLock fileLock;
  private final ReentrantLock lock = new ReentrantLock();
  private final List<Segment> segments = new ArrayList<>();

  private FileChannel active;
  // Held open for the life of the log, so that syncing the directory, rolling to a new segment and
  // persisting the retention index need no new file descriptor: a process that has run out of
  // descriptors (e.g. under a connection flood) can still use its log.
  private FileChannel dirChannel;
  private RetentionFile retentionFile;
  // An empty file opened ahead of time (SPARE_NAME); the next segment is made from it by a rename.
  private FileChannel spare;
  // Records appended to the active segment but not yet written: one write per batch instead of one
  // per record. They belong to the tail of the last segment, starting at file offset pendingPos.
  private byte[] pending;
  private int pendingLen;
  private long pendingPos;
  private RetentionIndex retention;
  private RecoveryReport report;
  private boolean closed;
  private IOException failure;
  private boolean dirty;
  private long syncCount;
  private int spareFailures;
  private long oversizeWarnings;

  private FileWal(
      Path dir, PayloadRegistry registry, Options options, FileChannel lockChannel, FileLock lock) {
    this.dir = dir;
    this.options = options;
    this.codec = new EventCodec(registry);
    this.scanner = new SegmentScanner(options.maxRecordBytes(), codec);
    this.lockChannel = lockChannel;
    this.fileLock = lock;
  }

  /**
   * Opens the log in {@code directory} with {@link Options#defaults()}, creating the directory if
   * needed and repairing a torn tail.
   *
   * @param registry the payload types that can be appended and replayed
   * @throws WalCorruptedException if the files are damaged beyond a torn tail
   * @throws IOException if the directory cannot be used, or is in use by another {@code FileWal}
   */
  public static FileWal open(Path directory, PayloadRegistry registry) throws IOException {
    return open(directory, registry, Options.defaults());
  }

  /**
   * Opens the log in {@code directory}, creating the directory if needed and repairing a torn tail.
   * Blocks while it reads and checks every segment.
   *
   * @param registry the payload types that can be appended and replayed
   * @throws WalCorruptedException if the files are damaged beyond a torn tail
   * @throws IOException if the directory cannot be used, or is in use by another {@code FileWal}
   */
  public static FileWal open(Path directory, PayloadRegistry registry, Options options)
      throws IOException {
    Objects.requireNonNull(registry, "registry");
    Objects.requireNonNull(options, "options");
    Path dir = directory.toAbsolutePath();
    createDirectoriesDurably(dir);
    FileChannel lockChannel =
        FileChannel.open(
            dir.resolve(LOCK_NAME), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock fileLock;
    try {
      fileLock = lockChannel.tryLock();
    } catch (OverlappingFileLockException e) {
      lockChannel.close();
      throw new IOException("write-ahead log " + dir + " is already open in this process", e);
    } catch (IOException | RuntimeException e) {
      lockChannel.close();
      throw e;
    }
    if (fileLock == null) {
      lockChannel.close();
      throw new IOException("write-ahead log " + dir + " is in use by another process");
    }
    FileWal wal = new FileWal(dir, registry, options, lockChannel, fileLock);
    try {
      wal.recover();
    } catch (IOException | RuntimeException e) {
      wal.closeQuietly();
      throw e;
    }
    return wal;
  }

  private void recover() throws IOException {
    dirChannel = openDirectory(dir);
    Files.deleteIfExists(dir.resolve(SPARE_NAME));
    retentionFile = RetentionFile.open(dir, this::syncDirectory);
    retention = retentionFile.current();
    List<Path> files = listSegmentFiles();
    long entries = 0;
    long[] live = {0};
    TornTail tornTail = null;
    for (int i = 0; i < files.size(); i++) {
      Path file = files.get(i);
      long first = SegmentFormat.firstIndexOf(file).orElseThrow();
      if (i > 0) {
        Segment prev = segments.get(i - 1);
        long expected = prev.firstIndex + prev.count;
        if (first != expected) {
          throw new WalCorruptedException(
              file,
              0,
              "gap in segment numbering: "
                  + prev.path.getFileName()
                  + " holds "
                  + prev.count
                  + " entries, so the next segment must start at index "
                  + expected
                  + ", not "
                  + first);
        }
      }
      boolean last = i == files.size() - 1;
      SegmentScanner.Result r =
          scanner.scan(
              file,
              first,
              Files.size(file),
              last,
              (ri, event) -> {
                if (ri.compareTo(retention) >= 0) {
                  live[0]++;
                }
              });
      long size = r.validEnd();
      if (r.tornTail() != null) {
        tornTail = r.tornTail();
        size = repairTail(file, first, r.validEnd());
        LOG.warn(
            "write-ahead log {}: cut off a torn tail of {} bytes at offset {} of {} ({}); {} intact"
                + " entries before it",
            dir,
            tornTail.discardedBytes(),
            tornTail.offset(),
            file.getFileName(),
            tornTail.reason(),
            r.count());
      }
      segments.add(new Segment(file, first, r.count(), size, r.maxRetention()));
      entries += r.count();
    }
    openSpare();
    if (segments.isEmpty()) {
      active = createSegment(0);
    } else {
      active =
          FileChannel.open(
              segments.getLast().path, StandardOpenOption.READ, StandardOpenOption.WRITE);
    }
    report =
        new RecoveryReport(
            segments.size(), entries, live[0], retention, Optional.ofNullable(tornTail));
    LOG.debug("write-ahead log {} opened: {}", dir, report);
  }

  private List<Path> listSegmentFiles() throws IOException {
    List<Path> found = new ArrayList<>();
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        String name = p.getFileName().toString();
        if (SegmentFormat.firstIndexOf(p).isPresent()) {
          found.add(p);
        } else if (name.toLowerCase(Locale.ROOT).endsWith(SegmentFormat.SUFFIX)) {
          throw new WalCorruptedException(
              p,
              0,
              "unexpected segment file name (expected 20 digits followed by "
                  + SegmentFormat.SUFFIX
                  + ")");
        }
      }
    }
    found.sort(Comparator.comparingLong(p -> SegmentFormat.firstIndexOf(p).orElseThrow()));
    return found;
  }

  /** Cuts a torn tail off the last segment; returns the new size. */
  private static long repairTail(Path file, long firstIndex, long validEnd) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      if (validEnd < SegmentFormat.HEADER_BYTES) {
        // The crash hit while the segment was being created: write its header again.
        ch.truncate(0);
        writeFully(ch, ByteBuffer.wrap(SegmentFormat.header(firstIndex)), 0);
        ch.force(true);
        return SegmentFormat.HEADER_BYTES;
      }
      ch.truncate(validEnd);
      ch.force(true);
      return validEnd;
    }
  }

  private FileChannel createSegment(long firstIndex) throws IOException {
    Path path = dir.resolve(SegmentFormat.fileName(firstIndex));
    FileChannel ch;
    if (spare != null) {
      // The spare is empty: give it the segment's header and then its name (a rename opens
      // nothing). A crash in between leaves only a spare, which the next open deletes.
      ch = spare;
      spare = null;
      try {
        writeFully(ch, ByteBuffer.wrap(SegmentFormat.header(firstIndex)), 0);
        ch.force(true);
        Files.move(dir.resolve(SPARE_NAME), path, StandardCopyOption.ATOMIC_MOVE);
        syncDirectory();
      } catch (IOException | RuntimeException e) {
        ch.close();
        throw e;
      }
    } else {
      ch =
          FileChannel.open(
              path,
              StandardOpenOption.CREATE_NEW,
              StandardOpenOption.READ,
              StandardOpenOption.WRITE);
      try {
        writeFully(ch, ByteBuffer.wrap(SegmentFormat.header(firstIndex)), 0);
        ch.force(true);
        syncDirectory();
      } catch (IOException | RuntimeException e) {
        ch.close();
        throw e;
      }
    }
    segments.add(new Segment(path, firstIndex, 0, SegmentFormat.HEADER_BYTES, -1));
    openSpare();
    return ch;
  }

  /**
   * Opens the spare file for the next segment, if there is none. A failure (e.g. no descriptor
   * left) does not fail the log: the next roll opens its segment directly and tries again.
   */
  private void openSpare() {
    if (spare != null) {
      return;
    }
    try {
      spare =
          FileChannel.open(
              dir.resolve(SPARE_NAME),
              StandardOpenOption.CREATE,
              StandardOpenOption.TRUNCATE_EXISTING,
              StandardOpenOption.READ,
              StandardOpenOption.WRITE);
      spareFailures = 0;
    } catch (IOException e) {
      if (spareFailures++ == 0) {
        LOG.warn(
            "write-ahead log {}: cannot open a spare file for the next segment ({}); will retry",
            dir,
            e.toString());
      }
    }
  }

  /** What {@link #open} found and repaired. Still available after {@link #close()}. */
  public RecoveryReport recoveryReport() {
    lock.lock();
    try {
      return report;
    } finally {
      lock.unlock();
    }
  }

  /** The directory of this log. */
  public Path directory() {
    return dir;
  }

  /** The settings of this log. */
  public Options options() {
    return options;
  }

  /**
   * The current retention index: entries below it are not loaded.
   *
   * @throws IllegalStateException if the log is closed
   */
  public RetentionIndex retentionIndex() {
    lock.lock();
    try {
      ensureOpen();
      return retention;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Reads every entry at or above the retention index from disk, in append order, and returns the
   * events. Blocks on disk I/O; may be called at any time, as often as needed.
   *
   * @throws WalCorruptedException if a file was damaged since the log was opened
   * @throws IOException if the log failed earlier or cannot be read
   * @throws IllegalStateException if the log is closed
   */
  @Override
  public EventList loadAll() throws IOException {
    lock.lock();
    try {
      ensureUsable();
      // What is appended is readable at once, even before it is durable.
      flushPending();
      EventList out = EventList.empty();
      for (Segment s : segments) {
        scanner.scan(
            s.path,
            s.firstIndex,
            s.size,
            false,
            (ri, event) -> {
              if (ri.compareTo(retention) >= 0) {
                out.add(event);
              }
            });
      }
      return out;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Applies {@code WalAppend}, {@code WalTruncate} and {@code Init} events in order and returns an
   * empty list once everything is durable (see the class comment). Blocks on disk I/O.
   *
   * @throws IllegalArgumentException for another event type, a {@code WalAppend} without an event
   *     or with an event of an unregistered payload type, or an entry above {@link
   *     Options#maxRecordBytes()}; the events before it have been applied and made durable
   * @throws IOException if writing fails; the log then refuses further use until reopened
   * @throws IllegalStateException if the log is closed
   */
  @Override
  public EventList applyEvents(EventList events) throws IOException {
    lock.lock();
    try {
      ensureUsable();
      try {
        WalCommands.apply(events, codec, target);
      } catch (RuntimeException rejected) {
        // What was applied before the rejected event still becomes durable.
        if (dirty && failure == null) {
          try {
            sync();
          } catch (IOException e) {
            rejected.addSuppressed(e);
          }
        }
        throw rejected;
      }
      if (dirty) {
        sync();
      }
      return EventList.empty();
    } finally {
      lock.unlock();
    }
  }

  private final WalCommands.Target target =
      new WalCommands.Target() {
        @Override
        public void append(EventRecord record, Event event, RetentionIndex ri) throws IOException {
          appendLocked(record, ri);
        }

        @Override
        public void truncate(RetentionIndex ri) throws IOException {
          truncateLocked(ri);
        }
      };

  private void appendLocked(EventRecord record, RetentionIndex ri) throws IOException {
    if (ri.compareTo(retention) < 0) {
      LOG.debug("write-ahead log {}: not persisting an entry below the retention index", dir);
      return;
    }
    WalEntry entry = WalEntry.newBuilder().setRetentionIndex(ri.value()).setEvent(record).build();
    int length = entry.getSerializedSize();
    if (length > options.maxRecordBytes()) {
      throw new IllegalArgumentException(
          "WAL entry of "
              + length
              + " bytes exceeds maxRecordBytes "
              + options.maxRecordBytes()
              + " (event for '"
              + record.getDestination()
              + "')");
    }
    int total = SegmentFormat.RECORD_HEADER_BYTES + length;
    try {
      Segment seg = segments.getLast();
      if (seg.count > 0 && seg.size + total > options.segmentSizeBytes()) {
        roll();
        seg = segments.getLast();
      }
      if (total > WRITE_BUFFER_BYTES) {
        // Too large to coalesce: written on its own, after what is pending.
        flushPending();
        byte[] buf = new byte[total];
        encode(entry, length, buf, 0);
        writeFully(active, ByteBuffer.wrap(buf), seg.size);
      } else {
        if (pendingLen + total > WRITE_BUFFER_BYTES) {
          flushPending();
        }
        if (pending == null) {
          pending = new byte[WRITE_BUFFER_BYTES];
        }
        if (pendingLen == 0) {
          pendingPos = seg.size;
        }
        encode(entry, length, pending, pendingLen);
        pendingLen += total;
      }
      seg.size += total;
      seg.count++;
      seg.maxRetention = Math.max(seg.maxRetention, ri.value());
      dirty = true;
      if (options.durability() == Durability.FSYNC_EACH_APPEND) {
        sync();
      }
    } catch (IOException e) {
      throw fail(e);
    }
  }

  /** Writes one record (header and entry) into {@code buf} at {@code offset}. */
  private static void encode(WalEntry entry, int length, byte[] buf, int offset)
      throws IOException {
    int body = offset + SegmentFormat.RECORD_HEADER_BYTES;
    CodedOutputStream out = CodedOutputStream.newInstance(buf, body, length);
    entry.writeTo(out);
    out.checkNoSpaceLeft();
    ByteBuffer.wrap(buf)
        .putInt(offset, length)
        .putInt(offset + 4, SegmentFormat.crc(buf, body, length));
  }

  /** Writes the coalesced records to the active segment (without forcing them). */
  private void flushPending() throws IOException {
    if (pendingLen == 0) {
      return;
    }
    try {
      writeFully(active, ByteBuffer.wrap(pending, 0, pendingLen), pendingPos);
      pendingLen = 0;
    } catch (IOException e) {
      throw fail(e);
    }
  }

  /**
   * Closes the full segment (durably) and starts the next one from the spare file. Without a spare
   * (none could be opened, e.g. because the process has no descriptor left) the full segment keeps
   * growing past the segment size until a spare can be opened: the log never fails for want of a
   * descriptor.
   */
  private void roll() throws IOException {
    Segment full = segments.getLast();
    openSpare();
    if (spare == null) {
      if (oversizeWarnings++ % 1024 == 0) {
        LOG.warn(
            "write-ahead log {}: no spare file for a new segment; {} grows past the segment size",
            dir,
            full.path.getFileName());
      }
      return;
    }
    if (dirty) {
      sync();
    }
    FileChannel next = createSegment(full.firstIndex + full.count);
    FileChannel old = active;
    active = next;
    old.close();
  }

  private void truncateLocked(RetentionIndex ri) throws IOException {
    if (ri.compareTo(retention) <= 0) {
      return;
    }
    try {
      // Persist the index first: from then on, loading filters the old entries whatever happens to
      // the deletions below.
      retentionFile.write(ri);
      retention = ri;
      // Only a prefix is deleted, one file at a time, so a crash never leaves a gap in the
      // numbering. The segment being written is kept.
      while (segments.size() > 1 && segments.getFirst().maxRetention < ri.value()) {
        Segment s = segments.removeFirst();
        Files.delete(s.path);
        syncDirectory();
        LOG.debug("write-ahead log {}: deleted {}", dir, s.path.getFileName());
      }
    } catch (IOException e) {
      throw fail(e);
    }
  }

  private void sync() throws IOException {
    flushPending();
    try {
      active.force(false);
      syncCount++;
      dirty = false;
    } catch (IOException e) {
      throw fail(e);
    }
  }

  private IOException fail(IOException e) {
    if (failure == null) {
      failure = e;
      LOG.error("write-ahead log {} failed; it must be reopened", dir, e);
    }
    return e;
  }

  /**
   * Forces outstanding writes, if any, and releases the files and the directory lock. Idempotent.
   * Afterwards every method but {@link #recoveryReport()}, {@link #directory()} and {@link
   * #options()} throws {@link IllegalStateException}.
   *
   * @throws IOException if the final force or closing a file fails (the files are closed anyway)
   */
  @Override
  public void close() throws IOException {
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      IOException error = null;
      try {
        if (active != null && dirty && failure == null) {
          flushPending();
          active.force(false);
          dirty = false;
        }
      } catch (IOException e) {
        error = e;
      }
      error = closeAll(error);
      if (error != null) {
        throw error;
      }
    } finally {
      lock.unlock();
    }
  }

  private void closeQuietly() {
    closed = true;
    IOException e = closeAll(null);
    if (e != null) {
      LOG.debug("write-ahead log {}: error while closing after a failed open", dir, e);
    }
  }

  private IOException closeAll(IOException error) {
    for (AutoCloseable c : new AutoCloseable[] {active, spare, retentionFile, dirChannel}) {
      if (c != null) {
        try {
          c.close();
        } catch (Exception e) {
          error = add(error, e instanceof IOException io ? io : new IOException(e));
        }
      }
    }
    try {
      fileLock.release();
    } catch (IOException e) {
      error = add(error, e);
    }
    try {
      lockChannel.close();
    } catch (IOException e) {
      error = add(error, e);
    }
    return error;
  }

  private static IOException add(IOException first, IOException next) {
    if (first == null) {
      return next;
    }
    first.addSuppressed(next);
    return first;
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("write-ahead log " + dir + " is closed");
    }
  }

  private void ensureUsable() throws IOException {
    ensureOpen();
    if (failure != null) {
      throw new IOException(
          "write-ahead log " + dir + " failed earlier and must be closed and reopened", failure);
    }
  }

  /** The number of forces of appended data so far (for tests of the durability modes). */
  long syncCount() {
    lock.lock();
    try {
      return syncCount;
    } finally {
      lock.unlock();
    }
  }

  /** The segment files, oldest first (for tests). */
  List<Path> segmentFiles() {
    lock.lock();
    try {
      return segments.stream().map(s -> s.path).toList();
    } finally {
      lock.unlock();
    }
  }

  private static void writeFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
    long pos = position;
    while (buf.hasRemaining()) {
      pos += ch.write(buf, pos);
    }
  }

  /** Makes the log directory's entries (created, renamed, deleted files) durable. */
  private void syncDirectory() throws IOException {
    if (dirChannel != null) {
      dirChannel.force(true);
    }
  }

  /**
   * Opens a directory for syncing its entries; null on Windows, where opening a directory fails
   * (NTFS journals these changes itself).
   */
  private static FileChannel openDirectory(Path dir) throws IOException {
    try {
      return FileChannel.open(dir, StandardOpenOption.READ);
    } catch (IOException e) {
      if (System.getProperty("os.name", "").startsWith("Windows")) {
        return null;
      }
      throw e;
    }
  }

  /**
   * Creates {@code dir} and any missing parents, making each new directory's entry durable by
   * syncing its parent (otherwise a crash could lose the log directory with everything in it).
   */
  static void createDirectoriesDurably(Path dir) throws IOException {
    List<Path> missing = new ArrayList<>();
    for (Path p = dir; p != null && !Files.isDirectory(p); p = p.getParent()) {
      missing.add(p);
    }
    Files.createDirectories(dir);
    for (Path created : missing) {
      Path parent = created.getParent();
      if (parent != null) {
        FileChannel ch = openDirectory(parent);
        if (ch != null) {
          try (ch) {
            ch.force(true);
          }
        }
      }
    }
  }
}
