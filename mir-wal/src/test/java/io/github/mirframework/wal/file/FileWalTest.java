package io.github.mirframework.wal.file;

import static io.github.mirframework.wal.file.WalContractTest.APP;
import static io.github.mirframework.wal.file.WalContractTest.append;
import static io.github.mirframework.wal.file.WalContractTest.strings;
import static io.github.mirframework.wal.file.WalContractTest.truncate;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.google.protobuf.StringValue;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.PayloadRegistry;
import io.github.mirframework.types.RetentionIndex;
import io.github.mirframework.wal.file.FileWal.Durability;
import io.github.mirframework.wal.file.FileWal.Options;
import io.github.mirframework.wal.file.FileWal.RecoveryReport;
import io.github.mirframework.wal.file.FileWal.TornTail;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.ClosedByInterruptException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.LoggerFactory;

/** What only the file-based log does: files, segments, durability modes and crash recovery. */
class FileWalTest {
  private static final PayloadRegistry REGISTRY = PayloadRegistry.withCoreTypes();
  private static final Options SMALL_SEGMENTS = Options.defaults().withSegmentSizeBytes(256);

  @TempDir Path dir;

  private final List<FileWal> opened = new ArrayList<>();

  @AfterEach
  void closeEverything() throws IOException {
    for (FileWal w : opened) {
      w.close();
    }
  }

  private FileWal open(Path directory, Options options) throws IOException {
    FileWal wal = FileWal.open(directory, REGISTRY, options);
    opened.add(wal);
    return wal;
  }

  private FileWal open(Options options) throws IOException {
    return open(dir, options);
  }

  private FileWal open() throws IOException {
    return open(Options.defaults());
  }

  /** Appends one entry per value, one batch each; returns the segment size after each append. */
  private static List<Long> appendEach(FileWal wal, String... values) throws IOException {
    List<Long> sizes = new ArrayList<>();
    for (String v : values) {
      wal.applyEvents(EventList.of(append(v, 0)));
      sizes.add(Files.size(wal.segmentFiles().getLast()));
    }
    return sizes;
  }

  private static List<Path> segmentFiles(Path directory) throws IOException {
    try (Stream<Path> s = Files.list(directory)) {
      return s.filter(p -> p.getFileName().toString().endsWith(".seg")).sorted().toList();
    }
  }

  private static long firstIndexOf(Path segment) {
    return SegmentFormat.firstIndexOf(segment).orElseThrow();
  }

  private static void flipBit(Path file, long offset) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.seek(offset);
      int b = f.read();
      f.seek(offset);
      f.write(b ^ 0x10);
    }
  }

  private static void writeInt(Path file, long offset, int value) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.seek(offset);
      f.writeInt(value);
    }
  }

  private static void cut(Path file, long length) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.setLength(length);
    }
  }

  // ---- segments ----

  @Test
  void theLogsTakeNoNetworkInput() throws IOException {
    // A peer chooses the destination of what it sends: the node must drop messages addressed to
    // the WAL instead of handing them to a module that fails on them.
    assertThat(open(Options.defaults()).receivesMessages()).isFalse();
    assertThat(InMemoryWal.create(REGISTRY).receivesMessages()).isFalse();
  }

  @Test
  void aFullSegmentRollsOverToOneNamedByItsFirstEntryIndex() throws IOException {
    FileWal wal = open(SMALL_SEGMENTS);
    List<String> values = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      values.add("entry-" + i);
    }
    appendEach(wal, values.toArray(String[]::new));

    List<Path> segments = segmentFiles(dir);
    assertThat(segments).hasSizeGreaterThan(3);
    assertThat(segments.getFirst().getFileName()).hasToString("00000000000000000000.seg");
    long expectedFirst = 0;
    for (Path s : segments) {
      assertThat(firstIndexOf(s)).isEqualTo(expectedFirst);
      assertThat(Files.size(s)).isLessThanOrEqualTo(256);
      expectedFirst += countEntries(s);
    }
    assertThat(expectedFirst).isEqualTo(30);
    assertThat(strings(wal.loadAll())).isEqualTo(values);

    wal.close();
    assertThat(strings(open(SMALL_SEGMENTS).loadAll())).isEqualTo(values);
  }

  private static long countEntries(Path segment) throws IOException {
    return new SegmentScanner(
            Integer.MAX_VALUE - 64, new io.github.mirframework.event.EventCodec(REGISTRY))
        .scan(segment, firstIndexOf(segment), Files.size(segment), false, (ri, e) -> {})
        .count();
  }

  @Test
  void anEntryLargerThanTheSegmentSizeGetsASegmentOfItsOwn() throws IOException {
    FileWal wal = open(Options.defaults().withSegmentSizeBytes(64));
    String big = "x".repeat(500);

    appendEach(wal, "a", big, "b");

    assertThat(segmentFiles(dir)).hasSize(3);
    assertThat(strings(wal.loadAll())).containsExactly("a", big, "b");
  }

  @Test
  void truncateDeletesTheOldestSegmentsWhoseEntriesAreAllBelowTheIndex() throws IOException {
    FileWal wal = open(SMALL_SEGMENTS);
    for (int i = 0; i < 40; i++) {
      wal.applyEvents(EventList.of(append("e" + i, i / 10))); // ten entries per retention index
    }
    List<Path> before = segmentFiles(dir);

    wal.applyEvents(EventList.of(truncate(2)));

    List<Path> after = segmentFiles(dir);
    assertThat(after)
        .hasSizeLessThan(before.size())
        .isEqualTo(before.subList(before.size() - after.size(), before.size()));
    // The first kept segment holds an entry at index >= 2 (entries 20..); everything before it is
    // gone.
    assertThat(firstIndexOf(after.getFirst())).isBetween(11L, 20L);
    List<String> expected = new ArrayList<>();
    for (int i = 20; i < 40; i++) {
      expected.add("e" + i);
    }
    assertThat(strings(wal.loadAll())).isEqualTo(expected);

    wal.close();
    FileWal reopened = open(SMALL_SEGMENTS);
    assertThat(strings(reopened.loadAll())).isEqualTo(expected);
    assertThat(reopened.recoveryReport().retentionIndex()).isEqualTo(RetentionIndex.of(2));
  }

  @Test
  void aSegmentHoldingANewerEntryIsKeptAndSoAreAllAfterIt() throws IOException {
    FileWal wal = open(SMALL_SEGMENTS);
    wal.applyEvents(EventList.of(append("keep", 100)));
    for (int i = 0; i < 20; i++) {
      wal.applyEvents(EventList.of(append("old" + i, 0)));
    }
    List<Path> before = segmentFiles(dir);

    wal.applyEvents(EventList.of(truncate(1)));

    assertThat(segmentFiles(dir)).isEqualTo(before);
    assertThat(strings(wal.loadAll())).containsExactly("keep");
  }

  @Test
  void thePersistedRetentionIndexFiltersEntriesWhoseSegmentStillExists() throws IOException {
    FileWal wal = open();
    for (int i = 0; i < 10; i++) {
      wal.applyEvents(EventList.of(append("e" + i, i)));
    }
    wal.applyEvents(EventList.of(truncate(5)));
    wal.close();

    FileWal reopened = open();

    assertThat(strings(reopened.loadAll())).containsExactly("e5", "e6", "e7", "e8", "e9");
    assertThat(reopened.retentionIndex()).isEqualTo(RetentionIndex.of(5));
    RecoveryReport report = reopened.recoveryReport();
    assertThat(report.isClean()).isTrue();
    assertThat(report.entryCount()).isEqualTo(10);
    assertThat(report.liveEntryCount()).isEqualTo(5);
    assertThat(report.segmentCount()).isEqualTo(1);
  }

  // ---- durability ----

  @ParameterizedTest
  @EnumSource(Durability.class)
  void eachModeForcesAsConfiguredAndIsDurableAcrossReopen(Durability durability)
      throws IOException {
    FileWal wal = open(Options.defaults().withDurability(durability));
    List<String> expected = new ArrayList<>();
    for (int batch = 0; batch < 3; batch++) {
      EventList events = EventList.empty();
      for (int i = 0; i < 4; i++) {
        String v = "b" + batch + "e" + i;
        events.add(append(v, 0));
        expected.add(v);
      }
      wal.applyEvents(events);
    }
    wal.applyEvents(EventList.of(Events.init(WalContractTest.WAL), truncate(0)));

    assertThat(wal.syncCount()).isEqualTo(durability == Durability.GROUP_COMMIT ? 3 : 12);
    wal.close();
    assertThat(strings(open(Options.defaults().withDurability(durability)).loadAll()))
        .isEqualTo(expected);
  }

  @Test
  void anEntryAboveTheRecordLimitIsRejectedAndEarlierOnesAreKept() throws IOException {
    FileWal wal = open(Options.defaults().withMaxRecordBytes(100));

    assertThatThrownBy(
            () -> wal.applyEvents(EventList.of(append("small", 0), append("x".repeat(200), 0))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxRecordBytes 100");

    assertThat(wal.syncCount()).isEqualTo(1);
    assertThat(strings(wal.loadAll())).containsExactly("small");
  }

  @Test
  void aWriteFailureFailsTheLogUntilItIsReopened() throws IOException {
    FileWal wal = open();
    appendEach(wal, "a");

    // An interrupted thread makes FileChannel close the channel instead of writing.
    Thread.currentThread().interrupt();
    try {
      assertThatThrownBy(() -> wal.applyEvents(EventList.of(append("b", 0))))
          .isInstanceOf(ClosedByInterruptException.class);
    } finally {
      Thread.interrupted();
    }

    assertThatThrownBy(() -> wal.applyEvents(EventList.of(append("c", 0))))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("must be closed and reopened");
    assertThatThrownBy(wal::loadAll).isInstanceOf(IOException.class);
    wal.close();
    FileWal reopened = open();
    assertThat(strings(reopened.loadAll())).containsExactly("a");
    reopened.applyEvents(EventList.of(append("d", 0)));
    assertThat(strings(reopened.loadAll())).containsExactly("a", "d");
  }

  @Test
  void aSecondOpenOfTheSameDirectoryFails() throws IOException {
    open();
    assertThatThrownBy(() -> FileWal.open(dir, REGISTRY))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("already open");
  }

  @Test
  void optionsAreValidated() {
    assertThatThrownBy(() -> Options.defaults().withSegmentSizeBytes(10))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("segmentSizeBytes");
    assertThatThrownBy(() -> Options.defaults().withMaxRecordBytes(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxRecordBytes");
  }

  // ---- torn tails ----

  @Test
  void aTornLastRecordIsCutOffAtEveryOffsetAndReported() throws IOException {
    Path reference = dir.resolve("reference");
    FileWal wal = open(reference, Options.defaults());
    List<Long> sizes = appendEach(wal, "first", "second", "third-and-last");
    wal.close();
    Path segment = segmentFiles(reference).getFirst();
    byte[] full = Files.readAllBytes(segment);
    long lastStart = sizes.get(1);
    long end = sizes.get(2);
    assertThat((long) full.length).isEqualTo(end);

    for (long cutAt = lastStart + 1; cutAt < end; cutAt++) {
      Path copy = dir.resolve("cut-" + cutAt);
      Files.createDirectories(copy);
      Path seg = copy.resolve(segment.getFileName());
      Files.write(seg, full);
      cut(seg, cutAt);

      FileWal repaired = open(copy, Options.defaults());

      TornTail torn = repaired.recoveryReport().tornTail().orElseThrow();
      assertThat(torn.file()).isEqualTo(seg.toAbsolutePath());
      assertThat(torn.offset()).as("cut at %d", cutAt).isEqualTo(lastStart);
      assertThat(torn.discardedBytes()).isEqualTo(cutAt - lastStart);
      assertThat(repaired.recoveryReport().entryCount()).isEqualTo(2);
      assertThat(Files.size(seg)).isEqualTo(lastStart);
      assertThat(strings(repaired.loadAll())).containsExactly("first", "second");

      // The repaired log takes new entries and reopens cleanly.
      repaired.applyEvents(EventList.of(append("after", 0)));
      repaired.close();
      FileWal again = open(copy, Options.defaults());
      assertThat(again.recoveryReport().isClean()).isTrue();
      assertThat(strings(again.loadAll())).containsExactly("first", "second", "after");
      again.close();
    }
  }

  @Test
  void aRepairedTornTailIsLoggedAsAWarning() throws IOException {
    FileWal wal = open();
    List<Long> sizes = appendEach(wal, "a", "b");
    wal.close();
    Path seg = segmentFiles(dir).getFirst();
    cut(seg, sizes.get(1) - 3);
    Logger logger = (Logger) LoggerFactory.getLogger(FileWal.class);
    ListAppender<ILoggingEvent> captured = new ListAppender<>();
    captured.start();
    Level previous = logger.getLevel();
    logger.setLevel(Level.WARN);
    logger.setAdditive(false);
    logger.addAppender(captured);
    try {
      open();
    } finally {
      logger.detachAppender(captured);
      logger.setAdditive(true);
      logger.setLevel(previous);
    }

    assertThat(captured.list)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.getLevel()).isEqualTo(Level.WARN);
              assertThat(e.getFormattedMessage())
                  .contains("torn tail")
                  .contains(seg.getFileName().toString())
                  .contains("offset " + sizes.get(0));
            });
  }

  @Test
  void aChecksumMismatchInTheVeryLastRecordIsATornTail() throws IOException {
    FileWal wal = open();
    List<Long> sizes = appendEach(wal, "a", "b", "c");
    wal.close();
    Path seg = segmentFiles(dir).getFirst();
    flipBit(seg, sizes.get(2) - 1);

    FileWal repaired = open();

    TornTail torn = repaired.recoveryReport().tornTail().orElseThrow();
    assertThat(torn.offset()).isEqualTo(sizes.get(1));
    assertThat(torn.reason()).contains("checksum mismatch");
    assertThat(strings(repaired.loadAll())).containsExactly("a", "b");
  }

  @Test
  void aZeroFilledTailIsATornTail() throws IOException {
    FileWal wal = open();
    List<Long> sizes = appendEach(wal, "a", "b");
    wal.close();
    Path seg = segmentFiles(dir).getFirst();
    Files.write(seg, new byte[100], java.nio.file.StandardOpenOption.APPEND);

    FileWal repaired = open();

    TornTail torn = repaired.recoveryReport().tornTail().orElseThrow();
    assertThat(torn.offset()).isEqualTo(sizes.get(1));
    assertThat(torn.discardedBytes()).isEqualTo(100);
    assertThat(torn.reason()).contains("zero-filled");
    assertThat(strings(repaired.loadAll())).containsExactly("a", "b");
  }

  @Test
  void aSegmentWhoseHeaderWasCutShortIsRewritten() throws IOException {
    Path seg = dir.resolve(SegmentFormat.fileName(0));
    Files.write(seg, java.util.Arrays.copyOf(SegmentFormat.header(0), 5));

    FileWal repaired = open();

    assertThat(repaired.recoveryReport().tornTail().orElseThrow().reason()).contains("header");
    repaired.applyEvents(EventList.of(append("a", 0)));
    repaired.close();
    assertThat(strings(open().loadAll())).containsExactly("a");
  }

  @Test
  void anIntactLogIsReportedClean() throws IOException {
    FileWal wal = open(SMALL_SEGMENTS);
    appendEach(wal, "a", "b", "c", "d", "e", "f", "g", "h");
    wal.close();

    RecoveryReport report = open(SMALL_SEGMENTS).recoveryReport();

    assertThat(report.isClean()).isTrue();
    assertThat(report.entryCount()).isEqualTo(8);
    assertThat(report.liveEntryCount()).isEqualTo(8);
    assertThat(report.segmentCount()).isEqualTo(segmentFiles(dir).size()).isGreaterThan(1);
  }

  // ---- corruption ----

  @Test
  void aFlippedBitInAMiddleRecordFailsNamingFileAndOffset() throws IOException {
    FileWal wal = open();
    List<Long> sizes = appendEach(wal, "a", "b", "c");
    wal.close();
    Path seg = segmentFiles(dir).getFirst();
    flipBit(seg, sizes.get(1) - 2); // inside the payload of "b"

    assertThatThrownBy(this::open)
        .isInstanceOfSatisfying(
            WalCorruptedException.class,
            e -> {
              assertThat(e.file()).isEqualTo(seg.toAbsolutePath());
              assertThat(e.offset()).isEqualTo(sizes.get(0));
              assertThat(e.problem()).contains("checksum mismatch");
            })
        .hasMessageContaining(seg.getFileName().toString())
        .hasMessageContaining("offset " + sizes.get(0));
    assertThat(Files.size(seg)).as("nothing was cut").isEqualTo(sizes.get(2));
  }

  @Test
  void aBadChecksumAtTheEndOfAnOlderSegmentIsCorruption() throws IOException {
    FileWal wal = open(Options.defaults().withSegmentSizeBytes(64));
    appendEach(wal, "a", "b");
    wal.close();
    Path older = segmentFiles(dir).getFirst();
    flipBit(older, Files.size(older) - 1);

    assertThatThrownBy(() -> open(Options.defaults().withSegmentSizeBytes(64)))
        .isInstanceOfSatisfying(
            WalCorruptedException.class,
            e -> assertThat(e.file()).isEqualTo(older.toAbsolutePath()));
  }

  @Test
  void anOversizedRecordLengthIsCorruptionEvenInTheLastRecord() throws IOException {
    FileWal wal = open();
    List<Long> sizes = appendEach(wal, "a", "b");
    wal.close();
    Path seg = segmentFiles(dir).getFirst();
    writeInt(seg, sizes.get(0), Integer.MAX_VALUE);

    assertThatThrownBy(this::open)
        .isInstanceOfSatisfying(
            WalCorruptedException.class,
            e -> {
              assertThat(e.offset()).isEqualTo(sizes.get(0));
              assertThat(e.problem()).contains("bad record length");
            });
  }

  @Test
  void aWrongLengthInAMiddleRecordIsCorruption() throws IOException {
    FileWal wal = open();
    List<Long> sizes = appendEach(wal, "a", "b", "c");
    wal.close();
    Path seg = segmentFiles(dir).getFirst();
    long start = sizes.get(0);
    int length = (int) (sizes.get(1) - start - SegmentFormat.RECORD_HEADER_BYTES);
    writeInt(seg, start, length + 3);

    assertThatThrownBy(this::open)
        .isInstanceOfSatisfying(
            WalCorruptedException.class, e -> assertThat(e.offset()).isEqualTo(start));
  }

  @Test
  void anEntryOfATypeMissingFromTheRegistryIsCorruptionNamingTheType() throws IOException {
    PayloadRegistry withStringValue =
        PayloadRegistry.withCoreTypes().register(StringValue.getDefaultInstance());
    FileWal wal = FileWal.open(dir, withStringValue);
    wal.applyEvents(
        EventList.of(
            append("fine", 0),
            Events.walAppend(
                WalContractTest.WAL, Event.of(APP, StringValue.of("s")), RetentionIndex.ZERO)));
    wal.close();

    assertThatThrownBy(this::open)
        .isInstanceOf(WalCorruptedException.class)
        .hasMessageContaining("google.protobuf.StringValue")
        .hasMessageContaining("entry 1");
  }

  @Test
  void aGarbageSegmentFileIsRejectedClearly() throws IOException {
    byte[] garbage = new byte[1000];
    new Random(7).nextBytes(garbage);
    Path seg = dir.resolve(SegmentFormat.fileName(0));
    Files.write(seg, garbage);

    assertThatThrownBy(this::open)
        .isInstanceOfSatisfying(
            WalCorruptedException.class,
            e -> {
              assertThat(e.file()).isEqualTo(seg.toAbsolutePath());
              assertThat(e.offset()).isZero();
              assertThat(e.problem()).contains("not a Mir-Java WAL segment");
            });
  }

  @Test
  void aFileThatLooksLikeASegmentButIsMisnamedIsRejected() throws IOException {
    Files.write(dir.resolve("17.seg"), new byte[] {1, 2, 3});

    assertThatThrownBy(this::open)
        .isInstanceOf(WalCorruptedException.class)
        .hasMessageContaining("17.seg")
        .hasMessageContaining("unexpected segment file name");
  }

  @Test
  void unrelatedFilesInTheDirectoryAreIgnored() throws IOException {
    Files.writeString(dir.resolve("README.txt"), "not a segment");
    FileWal wal = open();
    wal.applyEvents(EventList.of(append("a", 0)));
    wal.close();
    assertThat(strings(open().loadAll())).containsExactly("a");
  }

  @Test
  void aMissingSegmentInTheMiddleIsAGap() throws IOException {
    FileWal wal = open(Options.defaults().withSegmentSizeBytes(64));
    appendEach(wal, "a", "b", "c");
    wal.close();
    List<Path> segments = segmentFiles(dir);
    assertThat(segments).hasSize(3);
    Files.delete(segments.get(1));

    assertThatThrownBy(() -> open(Options.defaults().withSegmentSizeBytes(64)))
        .isInstanceOfSatisfying(
            WalCorruptedException.class,
            e -> {
              assertThat(e.file()).isEqualTo(segments.get(2).toAbsolutePath());
              assertThat(e.problem()).contains("gap in segment numbering");
            });
  }

  @Test
  void aDamagedRetentionIndexFileIsCorruption() throws IOException {
    FileWal wal = open();
    wal.applyEvents(EventList.of(append("a", 3), truncate(2)));
    wal.close();
    Path retention = dir.resolve(RetentionFile.NAME);
    flipBit(retention, 8);

    assertThatThrownBy(this::open)
        .isInstanceOf(WalCorruptedException.class)
        .hasMessageContaining(retention.toString())
        .hasMessageContaining("checksum mismatch");
  }
}
