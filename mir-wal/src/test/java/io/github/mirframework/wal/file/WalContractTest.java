package io.github.mirframework.wal.file;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.StringValue;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.PayloadRegistry;
import io.github.mirframework.event.pb.TestingString;
import io.github.mirframework.event.pb.WalAppend;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.RetentionIndex;
import io.github.mirframework.wal.WriteAheadLog;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The contract of a write-ahead log module, written once and run against every implementation
 * (subclasses provide the factory).
 *
 * @param <W> the implementation
 */
// "try": AutoCloseable.close() may throw InterruptedException; the implementations' close() does
// not.
@SuppressWarnings("try")
abstract class WalContractTest<W extends WriteAheadLog & PassiveModule & AutoCloseable> {
  static final ModuleId WAL = ModuleId.of("wal");
  static final ModuleId APP = ModuleId.of("app");

  private final List<W> opened = new ArrayList<>();

  /**
   * Opens the log under test over this test's storage. Called again after the previous log was
   * closed, it must see what the previous one persisted (a restart).
   */
  protected abstract W open(PayloadRegistry registry) throws Exception;

  private W open() throws Exception {
    W wal = open(PayloadRegistry.withCoreTypes());
    opened.add(wal);
    return wal;
  }

  @AfterEach
  void closeEverything() throws Exception {
    for (W w : opened) {
      w.close();
    }
  }

  static Event append(String value, long retentionIndex) {
    return Events.walAppend(
        WAL, Events.testingString(APP, value), RetentionIndex.of(retentionIndex));
  }

  static Event truncate(long retentionIndex) {
    return Events.walTruncate(WAL, RetentionIndex.of(retentionIndex));
  }

  static List<String> strings(EventList events) {
    List<String> out = new ArrayList<>();
    for (Event e : events) {
      out.add(e.payload(TestingString.class).getValue());
    }
    return out;
  }

  @Test
  void aNewLogLoadsNothing() throws Exception {
    assertThat(open().loadAll().isEmpty()).isTrue();
  }

  @Test
  void appendedEventsAreLoadedInAppendOrderWithTheirDestinations() throws Exception {
    W wal = open();
    wal.applyEvents(EventList.of(append("a", 0), append("b", 2)));
    wal.applyEvents(EventList.of(append("c", 1)));

    EventList loaded = wal.loadAll();

    assertThat(strings(loaded)).containsExactly("a", "b", "c");
    assertThat(loaded.toList()).allMatch(e -> e.destination().equals(APP));
  }

  @Test
  void applyEventsProducesNoEvents() throws Exception {
    W wal = open();
    assertThat(wal.applyEvents(EventList.of(append("a", 0), truncate(0))).isEmpty()).isTrue();
  }

  @Test
  void truncateKeepsEntriesAtOrAboveTheRetentionIndexInAppendOrder() throws Exception {
    W wal = open();
    long[] indices = {3, 1, 4, 1, 5, 9, 2, 6};
    EventList batch = EventList.empty();
    for (long ri : indices) {
      batch.add(append("ri" + ri, ri));
    }
    wal.applyEvents(batch);

    wal.applyEvents(EventList.of(truncate(4)));

    assertThat(strings(wal.loadAll())).containsExactly("ri4", "ri5", "ri9", "ri6");
  }

  @Test
  void truncateToALowerIndexThanBeforeChangesNothing() throws Exception {
    W wal = open();
    wal.applyEvents(EventList.of(append("a", 1), append("b", 5), truncate(3)));

    wal.applyEvents(EventList.of(truncate(1), truncate(0)));

    assertThat(strings(wal.loadAll())).containsExactly("b");
  }

  @Test
  void anEntryAppendedBelowTheRetentionIndexIsNeverLoaded() throws Exception {
    W wal = open();
    wal.applyEvents(EventList.of(truncate(10)));

    wal.applyEvents(EventList.of(append("old", 9), append("current", 10)));

    assertThat(strings(wal.loadAll())).containsExactly("current");
  }

  @Test
  void appendsAndTruncatesInOneBatchTakeEffectInOrder() throws Exception {
    W wal = open();

    wal.applyEvents(EventList.of(append("a", 1), truncate(2), append("b", 1), append("c", 2)));

    assertThat(strings(wal.loadAll())).containsExactly("c");
  }

  @Test
  void initIsAccepted() throws Exception {
    W wal = open();
    assertThat(wal.applyEvents(EventList.of(Events.init(WAL))).isEmpty()).isTrue();
    assertThat(wal.loadAll().isEmpty()).isTrue();
  }

  @Test
  void anyOtherEventTypeIsRejectedNamingTheType() throws Exception {
    W wal = open();
    assertThatThrownBy(() -> wal.applyEvents(EventList.of(Events.testingString(WAL, "x"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("mir.core.TestingString");
  }

  @Test
  void eventsBeforeARejectedOneAreAppliedAndTheLogStaysUsable() throws Exception {
    W wal = open();
    assertThatThrownBy(
            () -> wal.applyEvents(EventList.of(append("a", 0), Events.testingUint(WAL, 1))))
        .isInstanceOf(IllegalArgumentException.class);

    wal.applyEvents(EventList.of(append("b", 0)));

    assertThat(strings(wal.loadAll())).containsExactly("a", "b");
  }

  @Test
  void appendOfAPayloadTypeMissingFromTheRegistryIsRejectedNamingTheType() throws Exception {
    W wal = open();
    Event unregistered = Event.of(APP, StringValue.of("not replayable"));
    assertThatThrownBy(
            () ->
                wal.applyEvents(
                    EventList.of(Events.walAppend(WAL, unregistered, RetentionIndex.ZERO))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("google.protobuf.StringValue");
    assertThat(wal.loadAll().isEmpty()).isTrue();
  }

  @Test
  void walAppendWithoutAnEventIsRejected() throws Exception {
    W wal = open();
    assertThatThrownBy(
            () ->
                wal.applyEvents(
                    EventList.of(
                        Event.of(WAL, WalAppend.newBuilder().setRetentionIndex(1).build()))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no event");
  }

  @Test
  void eventsWithFollowUpsSurviveUnchanged() throws Exception {
    W wal = open();
    Event grandchild = Events.testingUint(ModuleId.of("c/sub"), 42);
    Event child = Events.testingString(ModuleId.of("b"), "child").withFollowUp(grandchild);
    Event parent =
        Events.testingString(APP, "parent")
            .withFollowUps(List.of(child, Events.testingUint(APP, 7)));

    wal.applyEvents(EventList.of(Events.walAppend(WAL, parent, RetentionIndex.of(3))));

    assertThat(wal.loadAll().toList()).containsExactly(parent);
  }

  @Test
  void loadAllSeesEntriesAppendedAfterAnEarlierLoad() throws Exception {
    W wal = open();
    wal.applyEvents(EventList.of(append("a", 0)));
    assertThat(strings(wal.loadAll())).containsExactly("a");

    wal.applyEvents(EventList.of(append("b", 0)));

    assertThat(strings(wal.loadAll())).containsExactly("a", "b");
  }

  @Test
  void aReopenedLogSeesEverythingIncludingTheRetentionIndex() throws Exception {
    W first = open();
    first.applyEvents(EventList.of(append("a", 1), append("b", 2), append("c", 3), truncate(2)));
    first.close();

    W second = open();
    assertThat(strings(second.loadAll())).containsExactly("b", "c");
    second.applyEvents(EventList.of(append("below", 1), append("d", 2)));
    second.close();

    W third = open();
    assertThat(strings(third.loadAll())).containsExactly("b", "c", "d");
  }

  @Test
  void closeIsIdempotentAndUseAfterCloseFails() throws Exception {
    W wal = open();
    wal.close();
    wal.close();

    assertThatThrownBy(wal::loadAll).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> wal.applyEvents(EventList.of(append("a", 0))))
        .isInstanceOf(IllegalStateException.class);
  }
}
