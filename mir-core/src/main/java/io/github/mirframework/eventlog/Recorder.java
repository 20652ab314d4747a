package io.github.mirframework.eventlog;

import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventCodec;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.PayloadRegistry;
import io.github.mirframework.eventlog.pb.LogEntry;
import io.github.mirframework.eventlog.pb.LogHeader;
import io.github.mirframework.eventlog.pb.LogRecord;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import java.util.zip.Deflater;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An {@link Interceptor} that records every intercepted batch of events in a self-describing event
 * log (Mir's {@code eventlog.Recorder}).
 *
 * <p><b>Files.</b> The log is a series of gzip files {@code <prefix>-00000.gz}, {@code
 * <prefix>-00001.gz}, ... in one directory; existing files of those names are overwritten. A new
 * file is started once the current one holds more than {@link Builder#rotateAfterBytes(long)} bytes
 * before compression. Each file is a sequence of protobuf {@code mir.core.LogRecord}s, each
 * preceded by its length as a signed zig-zag varint (the framing of Go Mir's logs): first a header,
 * then entries (one per intercepted batch: node ID, module ID, timestamp and the events), and,
 * before the first entry that uses a payload type, the descriptors of that type's .proto file and
 * of the files it imports. Each file describes its own types, so any file can be read alone by a
 * {@link LogReader}, without the application's classes. Data reaches the disk when buffers fill up,
 * when the writer has had nothing new for {@link Builder#flushWhenIdle(Duration)}, on rotation and
 * on {@link #close()}, so a log can be read while it is written; after a crash the last file ends
 * with a truncated gzip stream.
 *
 * <p><b>Threads.</b> {@link #intercept} may be called concurrently from any threads; it only copies
 * the batch, takes a timestamp from the time source and puts the batch into a bounded queue,
 * <em>blocking while the queue is full</em> (back-pressure: batches are never dropped). One
 * background thread, {@code mir-recorder-<node>}, encodes and writes the batches in queue order. If
 * writing fails, the error is kept: the next {@code intercept} and every {@link #close()} throw it,
 * so a node using this recorder stops with the error.
 */
public final class Recorder implements Interceptor {
  private static final Logger LOG = LoggerFactory.getLogger(Recorder.class);

  /** Default capacity of the queue, in batches (Go Mir's default buffer size). */
  public static final int DEFAULT_QUEUE_CAPACITY = 5000;

  /** Default size (before compression) above which a new file is started: 64 MiB. */
  public static final long DEFAULT_ROTATE_AFTER_BYTES = 64L << 20;

  /** Default prefix of the file names. */
  public static final String DEFAULT_FILE_PREFIX = "eventlog";

  /** How long the writer waits for more events before flushing by default. */
  public static final Duration DEFAULT_FLUSH_WHEN_IDLE = Duration.ofMillis(200);

  private final NodeId nodeId;
  private final Path directory;
  private final String prefix;
  private final int compressionLevel;
  private final int queueCapacity;
  private final long rotateAfterBytes;
  private final long flushWhenIdleNanos;
  private final LongSupplier timeSource;
  private final String seriesId;
  private final long createdMs;
  private final DescriptorTracker descriptors;
  private final Thread writer;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition notEmpty = lock.newCondition();
  private final Condition notFull = lock.newCondition();
  private final ArrayDeque<Batch> queue = new ArrayDeque<>();
  private boolean closing;
  private Throwable failure;
  private final List<Path> files = new ArrayList<>();

  // Owned by the writer thread (handed over by the constructor before the thread starts).
  private LogFileWriter current;
  private long nextFileIndex;
  private long entriesWritten;
  private boolean unflushed;

  private record Batch(ModuleId module, long timeMs, List<Event> events) {}

  private Recorder(Builder b) throws IOException {
    this.nodeId = b.nodeId;
    this.directory = b.directory;
    this.prefix = b.prefix;
    this.compressionLevel = b.compressionLevel;
    this.queueCapacity = b.queueCapacity;
    this.rotateAfterBytes = b.rotateAfterBytes;
    this.flushWhenIdleNanos = b.flushWhenIdle.toNanos();
    this.timeSource = b.timeSource;
    this.descriptors = new DescriptorTracker(b.anyTypes);
    this.seriesId = UUID.randomUUID().toString();
    this.createdMs = timeSource.getAsLong();
    Files.createDirectories(directory);
    openNextFile();
    this.writer = new Thread(this::run, "mir-recorder-" + nodeId);
    writer.setDaemon(true);
    writer.start();
  }

  /**
   * Returns a builder for a recorder of node {@code nodeId} writing into {@code directory} (created
   * if missing).
   */
  public static Builder builder(NodeId nodeId, Path directory) {
    return new Builder(nodeId, directory);
  }

  /**
   * Queues a copy of the batch for writing, with the current time of the time source. Thread-safe;
   * blocks while the queue is full.
   *
   * @throws IOException if writing an earlier batch failed (the cause is the original error)
   * @throws IllegalStateException if the recorder is closed
   * @throws InterruptedException if the calling thread is interrupted while waiting for room in the
   *     queue
   */
  @Override
  public void intercept(ModuleId module, EventList events)
      throws IOException, InterruptedException {
    Objects.requireNonNull(module, "module");
    Batch batch = new Batch(module, timeSource.getAsLong(), events.toList());
    lock.lockInterruptibly();
    try {
      while (queue.size() >= queueCapacity && failure == null && !closing) {
        notFull.await();
      }
      if (failure != null) {
        throw writeFailed();
      }
      if (closing) {
        throw new IllegalStateException("the event recorder of node " + nodeId + " is closed");
      }
      queue.addLast(batch);
      notEmpty.signal();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Writes all queued batches, finishes the current file and stops the writer thread, waiting for
   * it. Thread-safe and idempotent; blocks until the queue is written. Interruption does not cut it
   * short (the interrupt status is kept).
   *
   * @throws IOException if writing failed at any time (every call throws it; the cause is the
   *     original error)
   */
  @Override
  public void close() throws IOException {
    lock.lock();
    try {
      closing = true;
      notEmpty.signalAll();
      notFull.signalAll();
    } finally {
      lock.unlock();
    }
    boolean interrupted = false;
    while (writer.isAlive()) {
      try {
        writer.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    lock.lock();
    try {
      if (failure != null) {
        throw writeFailed();
      }
    } finally {
      lock.unlock();
    }
  }

  /** The files started so far, in order. Thread-safe. */
  public List<Path> files() {
    lock.lock();
    try {
      return List.copyOf(files);
    } finally {
      lock.unlock();
    }
  }

  /** The node whose events this recorder writes. Thread-safe. */
  public NodeId nodeId() {
    return nodeId;
  }

  private IOException writeFailed() {
    return new IOException(
        "the event recorder of node "
            + nodeId
            + " failed writing in "
            + directory
            + ": "
            + failure.getMessage(),
        failure);
  }

  private void run() {
    try {
      while (true) {
        Batch next;
        boolean idle = false;
        lock.lock();
        try {
          while (queue.isEmpty() && !closing && !idle) {
            if (unflushed) {
              // Nothing new for a while: make what was written readable (live logs, mircat).
              idle = awaitNotEmpty(flushWhenIdleNanos) && queue.isEmpty() && !closing;
            } else {
              notEmpty.awaitUninterruptibly();
            }
          }
          next = queue.pollFirst();
          if (next != null) {
            notFull.signal();
          }
        } finally {
          lock.unlock();
        }
        if (next == null) {
          if (idle) {
            if (current != null) {
              current.flush();
            }
            unflushed = false;
            continue;
          }
          break;
        }
        writeEntry(next);
        unflushed = true;
      }
      if (current != null) {
        current.close();
        current = null;
      }
      LOG.debug(
          "event recorder of node {}: wrote {} entries in {} file(s)",
          nodeId,
          entriesWritten,
          nextFileIndex);
    } catch (IOException | RuntimeException | Error e) {
      if (current != null) {
        current.abort(e);
        current = null;
      }
      LOG.error(
          "event recorder of node {} failed after {} entries: {}",
          nodeId,
          entriesWritten,
          e.toString(),
          e);
      lock.lock();
      try {
        failure = e;
        queue.clear();
        notFull.signalAll();
      } finally {
        lock.unlock();
      }
    }
  }

  /** Waits on {@code notEmpty} (lock held); returns true if the time ran out. */
  private boolean awaitNotEmpty(long nanos) {
    try {
      return notEmpty.awaitNanos(nanos) <= 0;
    } catch (InterruptedException e) {
      // Nobody interrupts this thread; if someone does, the wait just ends early.
      return true;
    }
  }

  private void writeEntry(Batch batch) throws IOException {
    if (current == null) {
      openNextFile();
    }
    descriptors.collect(batch.events());
    FileDescriptorSet newDescriptors = descriptors.takePending();
    if (newDescriptors != null) {
      current.write(LogRecord.newBuilder().setDescriptors(newDescriptors).build());
    }
    current.write(
        LogRecord.newBuilder()
            .setEntry(
                LogEntry.newBuilder()
                    .setNodeId(nodeId.value())
                    .setModuleId(batch.module().value())
                    .setTimeMs(batch.timeMs())
                    .addAllEvents(EventCodec.toRecords(batch.events())))
            .build());
    entriesWritten++;
    if (current.uncompressedBytes() > rotateAfterBytes) {
      LogFileWriter full = current;
      current = null;
      full.close();
    }
  }

  private void openNextFile() throws IOException {
    Path path = LogFormat.file(directory, prefix, nextFileIndex);
    LogFileWriter w = new LogFileWriter(path, compressionLevel);
    lock.lock();
    try {
      files.add(path);
    } finally {
      lock.unlock();
    }
    try {
      w.write(
          LogRecord.newBuilder()
              .setHeader(
                  LogHeader.newBuilder()
                      .setFormatVersion(LogFormat.FORMAT_VERSION)
                      .setNodeId(nodeId.value())
                      .setFileIndex(nextFileIndex)
                      .setSeriesId(seriesId)
                      .setCreatedMs(createdMs))
              .build());
    } catch (IOException | RuntimeException e) {
      w.abort(e);
      throw e;
    }
    descriptors.reset();
    current = w;
    nextFileIndex++;
  }

  /**
   * Options of a {@link Recorder}. Not thread-safe. {@link #build()} creates the directory and the
   * first file and starts the writer thread.
   */
  public static final class Builder {
    private final NodeId nodeId;
    private final Path directory;
    private String prefix = DEFAULT_FILE_PREFIX;
    private int compressionLevel = Deflater.BEST_SPEED;
    private int queueCapacity = DEFAULT_QUEUE_CAPACITY;
    private long rotateAfterBytes = DEFAULT_ROTATE_AFTER_BYTES;
    private LongSupplier timeSource = System::currentTimeMillis;
    private Duration flushWhenIdle = DEFAULT_FLUSH_WHEN_IDLE;
    private PayloadRegistry anyTypes = PayloadRegistry.shared();

    private Builder(NodeId nodeId, Path directory) {
      this.nodeId = Objects.requireNonNull(nodeId, "node ID");
      this.directory = Objects.requireNonNull(directory, "directory");
    }

    /**
     * Sets the prefix of the file names (default {@value Recorder#DEFAULT_FILE_PREFIX}).
     *
     * @throws IllegalArgumentException if it is empty or contains a path separator
     */
    public Builder filePrefix(String prefix) {
      Objects.requireNonNull(prefix, "prefix");
      if (prefix.isEmpty() || prefix.contains("/") || prefix.contains("\\")) {
        throw new IllegalArgumentException(
            "file prefix must be a non-empty file name, got '" + prefix + "'");
      }
      this.prefix = prefix;
      return this;
    }

    /**
     * Sets the gzip compression level, 0-9 or -1 for zlib's default (default 1, {@link
     * Deflater#BEST_SPEED}).
     *
     * @throws IllegalArgumentException if out of range
     */
    public Builder compressionLevel(int level) {
      if (level < -1 || level > 9) {
        throw new IllegalArgumentException("compression level must be -1..9, got " + level);
      }
      this.compressionLevel = level;
      return this;
    }

    /**
     * Sets how many batches may wait for the writer before {@link Recorder#intercept} blocks
     * (default {@value Recorder#DEFAULT_QUEUE_CAPACITY}).
     *
     * @throws IllegalArgumentException if not positive
     */
    public Builder queueCapacity(int batches) {
      if (batches <= 0) {
        throw new IllegalArgumentException("queue capacity must be positive, got " + batches);
      }
      this.queueCapacity = batches;
      return this;
    }

    /**
     * Starts a new file once the current one exceeds {@code bytes} before compression (default 64
     * MiB). A file always holds at least one entry, however large.
     *
     * @throws IllegalArgumentException if not positive
     */
    public Builder rotateAfterBytes(long bytes) {
      if (bytes <= 0) {
        throw new IllegalArgumentException("rotation size must be positive, got " + bytes);
      }
      this.rotateAfterBytes = bytes;
      return this;
    }

    /**
     * Sets how long the writer waits for more events before it pushes what it has written to the
     * file (default 200 ms), so a log still being written can be read up to its last entries (e.g.
     * by {@code mircat --follow}). Each such flush costs a few bytes and some compression.
     *
     * @throws IllegalArgumentException if not positive
     */
    public Builder flushWhenIdle(Duration delay) {
      Objects.requireNonNull(delay, "delay");
      if (delay.isNegative() || delay.isZero()) {
        throw new IllegalArgumentException("idle flush delay must be positive, got " + delay);
      }
      this.flushWhenIdle = delay;
      return this;
    }

    /**
     * Sets the source of entry timestamps, in milliseconds (default {@link
     * System#currentTimeMillis()}). It is called by the threads calling {@link Recorder#intercept},
     * so it must be thread-safe.
     */
    public Builder timeSource(LongSupplier timeMs) {
      this.timeSource = Objects.requireNonNull(timeMs, "time source");
      return this;
    }

    /**
     * Sets the registry used to find the descriptors of types packed in {@code Any} fields of
     * mir-core's messages (network messages, timer and WAL requests), which are described too when
     * known (default {@link PayloadRegistry#shared()}).
     */
    public Builder anyTypes(PayloadRegistry registry) {
      this.anyTypes = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /**
     * Creates the directory if needed, creates the first file and starts the writer thread.
     *
     * @throws IOException if the directory or the first file cannot be created
     */
    public Recorder build() throws IOException {
      return new Recorder(this);
    }
  }
}
