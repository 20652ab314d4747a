package io.github.mirframework.eventlog;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.TextFormat;
import com.google.protobuf.TypeRegistry;
import io.github.mirframework.event.PayloadRegistry;
import io.github.mirframework.event.pb.EventRecord;
import io.github.mirframework.eventlog.pb.LogEntry;
import io.github.mirframework.eventlog.pb.LogHeader;
import io.github.mirframework.eventlog.pb.LogRecord;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads the entries of an event log written by a {@link Recorder}: one file, or several files of a
 * rotated series in order. The application's classes are not needed: payload types are rebuilt from
 * the descriptors stored in the log and payloads are decoded as {@link DynamicMessage}s, except for
 * the types of an optional {@link PayloadRegistry}, which are decoded as instances of their
 * generated classes.
 *
 * <p>Reading is lazy and single-pass: {@link #next()}, {@link #iterator()} and {@link #readAll()}
 * all continue where the previous call stopped. Every problem with the input (missing file, not
 * gzip, corrupt data, unknown format version, a payload of a type the log does not describe, files
 * of a series missing or out of order) is reported as a {@link LogReadException} naming the file
 * and the record; a file that simply ends early, as after a crash of the recorder, is reported as
 * its subclass {@link TruncatedLogException}, after all complete entries before the cut. Once an
 * exception is thrown, every later read throws it again.
 *
 * <p>Not thread-safe: use one reader from one thread at a time. Reads block on file I/O.
 */
public final class LogReader implements AutoCloseable, Iterable<RecordedEntry> {
  private final List<Path> files;
  private final PayloadRegistry registry;
  private final DescriptorPool descriptors = new DescriptorPool();

  private int nextFile;
  private Path path;
  private InputStream in;
  private long recordIndex;
  private String seriesId;
  private long fileIndexInSeries;
  private LogReadException failure;
  private boolean closed;
  private TypeRegistry printerTypes;
  private TextFormat.Printer printer;

  private LogReader(List<Path> files, PayloadRegistry registry) {
    this.files = files;
    this.registry = registry;
  }

  /** Returns a reader of one log file. Does not open the file yet. */
  public static LogReader open(Path file) {
    return open(List.of(file));
  }

  /**
   * Returns a reader of consecutive files of one rotated series, in order (see {@link
   * #seriesFiles}). Does not open the files yet.
   *
   * @throws IllegalArgumentException if {@code files} is empty
   */
  public static LogReader open(List<Path> files) {
    return open(files, null);
  }

  /**
   * Returns a reader of consecutive files of one rotated series that decodes the payload types
   * known to {@code registry} as instances of their generated classes (the others as {@link
   * DynamicMessage}s).
   *
   * @param registry the known types, or null to decode every payload as a {@link DynamicMessage}
   * @throws IllegalArgumentException if {@code files} is empty
   */
  public static LogReader open(List<Path> files, PayloadRegistry registry) {
    List<Path> copy = List.copyOf(files);
    if (copy.isEmpty()) {
      throw new IllegalArgumentException("no log file to read");
    }
    return new LogReader(copy, registry);
  }

  /**
   * Returns the files of the series {@code <prefix>-NNNNN.gz} in {@code directory}, ordered by
   * index; empty if there are none. Blocks on directory I/O.
   *
   * @throws LogReadException if the directory cannot be listed
   */
  public static List<Path> seriesFiles(Path directory, String prefix) {
    TreeMap<Long, Path> byIndex = new TreeMap<>();
    try (DirectoryStream<Path> dir = Files.newDirectoryStream(directory)) {
      for (Path p : dir) {
        Matcher m = LogFormat.fileNamePattern(prefix).matcher(p.getFileName().toString());
        if (m.matches()) {
          try {
            byIndex.put(Long.parseLong(m.group(1)), p);
          } catch (NumberFormatException e) {
            // An index too large to be ours: not a file of the series.
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      throw new LogReadException(directory, -1, "cannot list the log files: " + e, e);
    }
    return List.copyOf(byIndex.values());
  }

  /**
   * Reads the next entry, opening the next file when one ends.
   *
   * @return the entry, or empty at the end of the last file
   * @throws LogReadException if the input is bad (see the class description)
   * @throws IllegalStateException if the reader is closed
   */
  public Optional<RecordedEntry> next() {
    if (closed) {
      throw new IllegalStateException("the log reader is closed");
    }
    if (failure != null) {
      throw failure;
    }
    try {
      while (true) {
        if (in == null) {
          if (nextFile >= files.size()) {
            return Optional.empty();
          }
          openFile(files.get(nextFile));
        }
        long index = recordIndex;
        LogRecord record = readRecord();
        if (record == null) {
          closeCurrent();
          nextFile++;
          continue;
        }
        switch (record.getKindCase()) {
          case ENTRY -> {
            return Optional.of(decodeEntry(record.getEntry(), index));
          }
          case DESCRIPTORS -> {
            try {
              descriptors.add(record.getDescriptors());
            } catch (DescriptorPool.BadDescriptorsException e) {
              throw error(index, e.getMessage(), e);
            }
          }
          case HEADER -> throw error(index, "unexpected second header", null);
          case KIND_NOT_SET -> throw error(index, "record of an unknown kind", null);
        }
      }
    } catch (LogReadException e) {
      failure = e;
      closeCurrent();
      throw e;
    }
  }

  /**
   * Reads all remaining entries.
   *
   * @throws LogReadException if the input is bad; the entries read before are lost, use {@link
   *     #next()} to keep them
   */
  public List<RecordedEntry> readAll() {
    List<RecordedEntry> out = new ArrayList<>();
    for (Optional<RecordedEntry> e = next(); e.isPresent(); e = next()) {
      out.add(e.get());
    }
    return out;
  }

  /**
   * Iterates the remaining entries (the reader is single-pass: iterating again continues where the
   * last read stopped). {@code hasNext()} and {@code next()} throw {@link LogReadException} on bad
   * input.
   */
  @Override
  public Iterator<RecordedEntry> iterator() {
    return new Iterator<>() {
      private RecordedEntry ahead;

      @Override
      public boolean hasNext() {
        if (ahead == null) {
          ahead = LogReader.this.next().orElse(null);
        }
        return ahead != null;
      }

      @Override
      public RecordedEntry next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        RecordedEntry e = ahead;
        ahead = null;
        return e;
      }
    };
  }

  /**
   * A registry of every message type described by the log so far, e.g. for printing {@code Any}
   * fields or parsing text.
   */
  public TypeRegistry typeRegistry() {
    return descriptors.typeRegistry();
  }

  /**
   * Formats an entry on several lines: a line with time, node, module and number of events, then
   * one indented line per event as by {@link #format(RecordedEvent)}.
   */
  public String format(RecordedEntry entry) {
    StringBuilder sb = new StringBuilder();
    sb.append("time=")
        .append(entry.timeMs())
        .append(" node=")
        .append(entry.nodeId())
        .append(" module=")
        .append(entry.moduleId())
        .append(" events=")
        .append(entry.events().size());
    for (RecordedEvent e : entry.events()) {
      sb.append("\n  ").append(format(e));
    }
    return sb.toString();
  }

  /**
   * Formats an event on one line: destination, payload type and fields in protobuf text format
   * (with {@code Any} fields expanded when their type is described in the log), and follow-ups.
   */
  public String format(RecordedEvent event) {
    StringBuilder sb = new StringBuilder();
    appendEvent(sb, event);
    return sb.toString();
  }

  private void appendEvent(StringBuilder sb, RecordedEvent event) {
    TypeRegistry types = descriptors.typeRegistry();
    if (printer == null || printerTypes != types) {
      printer = TextFormat.printer().usingTypeRegistry(types).emittingSingleLine(true);
      printerTypes = types;
    }
    sb.append(event.destination())
        .append(" <- ")
        .append(event.typeName())
        .append('{')
        .append(printer.printToString(event.payload()).trim())
        .append('}');
    if (!event.followUps().isEmpty()) {
      sb.append(" then [");
      for (int i = 0; i < event.followUps().size(); i++) {
        if (i > 0) {
          sb.append(", ");
        }
        appendEvent(sb, event.followUps().get(i));
      }
      sb.append(']');
    }
  }

  /** Closes the file being read. Idempotent; later reads throw {@link IllegalStateException}. */
  @Override
  public void close() {
    closed = true;
    closeCurrent();
  }

  private void closeCurrent() {
    if (in != null) {
      try {
        in.close();
      } catch (IOException e) {
        // Nothing was written; nothing can be lost.
      }
      in = null;
    }
  }

  private void openFile(Path file) {
    path = file;
    recordIndex = 0;
    InputStream raw;
    try {
      raw = Files.newInputStream(file);
    } catch (IOException | RuntimeException e) {
      throw error(-1, "cannot open: " + e, e);
    }
    try {
      in =
          new BufferedInputStream(
              new GZIPInputStream(raw, LogFormat.BUFFER_BYTES), LogFormat.BUFFER_BYTES);
    } catch (EOFException e) {
      closeQuietly(raw);
      throw new TruncatedLogException(file, 0, "the file ends inside its gzip header", e);
    } catch (ZipException e) {
      closeQuietly(raw);
      throw error(0, "not a gzip file (" + e.getMessage() + ")", e);
    } catch (IOException | RuntimeException e) {
      closeQuietly(raw);
      throw error(0, "cannot read: " + e, e);
    }
    LogRecord first = readRecord();
    if (first == null) {
      throw error(0, "the file holds no records, not even a header", null);
    }
    if (!first.hasHeader()) {
      throw error(0, "the first record is not a header: this is not an event log", null);
    }
    checkHeader(first.getHeader());
  }

  private void checkHeader(LogHeader h) {
    if (h.getFormatVersion() != LogFormat.FORMAT_VERSION) {
      throw error(
          0,
          "unknown format version "
              + Integer.toUnsignedString(h.getFormatVersion())
              + " (this reader knows version "
              + LogFormat.FORMAT_VERSION
              + ")",
          null);
    }
    if (nextFile > 0) {
      if (!h.getSeriesId().equals(seriesId)) {
        throw error(
            0,
            "belongs to another recording (series "
                + h.getSeriesId()
                + ") than the files before it (series "
                + seriesId
                + ")",
            null);
      }
      if (h.getFileIndex() != fileIndexInSeries + 1) {
        throw error(
            0,
            "is file "
                + Long.toUnsignedString(h.getFileIndex())
                + " of its series, expected file "
                + (fileIndexInSeries + 1)
                + " (files missing or out of order)",
            null);
      }
    }
    seriesId = h.getSeriesId();
    fileIndexInSeries = h.getFileIndex();
  }

  /** Reads the next record of the current file; null at its clean end. */
  private LogRecord readRecord() {
    long index = recordIndex;
    byte[] bytes;
    try {
      long length = readLength(index);
      if (length < 0) {
        return null;
      }
      bytes = in.readNBytes((int) length);
      if (bytes.length < length) {
        throw error(
            index,
            "record cut short ("
                + bytes.length
                + " of "
                + length
                + " bytes) although the gzip stream is complete: corrupt file",
            null);
      }
    } catch (EOFException e) {
      throw new TruncatedLogException(
          path, index, "the file ends inside its gzip stream (was the recorder interrupted?)", e);
    } catch (ZipException e) {
      throw error(index, "corrupt gzip data (" + e.getMessage() + ")", e);
    } catch (IOException e) {
      throw error(index, "cannot read: " + e, e);
    }
    recordIndex++;
    try {
      return LogRecord.parseFrom(bytes);
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      throw error(index, "not a valid log record (" + e.getMessage() + ")", e);
    }
  }

  /** Reads a zig-zag varint length prefix; -1 if the stream ends cleanly before it. */
  private long readLength(long index) throws IOException {
    long raw = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      int b = in.read();
      if (b < 0) {
        if (shift == 0) {
          return -1;
        }
        throw error(
            index,
            "length prefix cut short although the gzip stream is complete: corrupt file",
            null);
      }
      raw |= (long) (b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        long length = (raw >>> 1) ^ -(raw & 1);
        if (length < 0 || length > LogFormat.MAX_RECORD_BYTES) {
          throw error(index, "invalid record length " + length + ": corrupt file", null);
        }
        return length;
      }
    }
    throw error(index, "length prefix longer than 10 bytes: corrupt file", null);
  }

  private RecordedEntry decodeEntry(LogEntry entry, long index) {
    NodeId node;
    ModuleId module;
    try {
      node = NodeId.of(entry.getNodeId());
      module = ModuleId.of(entry.getModuleId());
    } catch (IllegalArgumentException e) {
      throw error(index, "bad entry: " + e.getMessage(), e);
    }
    List<RecordedEvent> events = new ArrayList<>(entry.getEventsCount());
    for (int i = 0; i < entry.getEventsCount(); i++) {
      events.add(decodeEvent(entry.getEvents(i), "event " + i, index));
    }
    return new RecordedEntry(node, module, entry.getTimeMs(), events);
  }

  // Recursion depth is bounded by the protobuf parser's recursion limit, which already applied to
  // the record.
  private RecordedEvent decodeEvent(EventRecord record, String where, long index) {
    ModuleId dest;
    try {
      dest = ModuleId.of(record.getDestination());
    } catch (IllegalArgumentException e) {
      throw error(index, where + ": bad destination: " + e.getMessage(), e);
    }
    if (!record.hasPayload()) {
      throw error(index, where + " (for " + dest + ") has no payload", null);
    }
    Any any = record.getPayload();
    String url = any.getTypeUrl();
    String typeName = url.substring(url.lastIndexOf('/') + 1);
    Message prototype = registry == null ? null : registry.lookup(url).orElse(null);
    Descriptor type = prototype != null ? null : descriptors.find(typeName);
    if (prototype == null && type == null) {
      throw error(
          index,
          where
              + " (for "
              + dest
              + "): payload type '"
              + abbreviate(url)
              + "' is not described in the log",
          null);
    }
    Message payload;
    try {
      payload =
          prototype != null
              ? prototype.getParserForType().parseFrom(any.getValue())
              : DynamicMessage.parseFrom(type, any.getValue());
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      throw error(
          index,
          where
              + " (for "
              + dest
              + "): malformed payload of type '"
              + abbreviate(typeName)
              + "': "
              + e,
          e);
    }
    List<RecordedEvent> followUps = new ArrayList<>(record.getFollowUpsCount());
    for (int i = 0; i < record.getFollowUpsCount(); i++) {
      followUps.add(decodeEvent(record.getFollowUps(i), where + ".followUp " + i, index));
    }
    return new RecordedEvent(dest, typeName, payload, followUps);
  }

  private LogReadException error(long index, String reason, Throwable cause) {
    return new LogReadException(path, index, reason, cause);
  }

  private static void closeQuietly(InputStream s) {
    try {
      s.close();
    } catch (IOException e) {
      // Nothing was written; nothing can be lost.
    }
  }

  private static String abbreviate(String s) {
    return s.length() <= 200 ? s : s.substring(0, 200) + "...";
  }

  @Override
  public String toString() {
    return "LogReader" + files;
  }
}
