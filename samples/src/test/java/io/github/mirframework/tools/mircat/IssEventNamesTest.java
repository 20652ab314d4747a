package io.github.mirframework.tools.mircat;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.TypeRegistry;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.event.pb.MessageReceived;
import io.github.mirframework.event.pb.NetMessage;
import io.github.mirframework.event.pb.TestingString;
import io.github.mirframework.eventlog.Recorder;
import io.github.mirframework.iss.pb.NewEpoch;
import io.github.mirframework.iss.pb.SbEvent;
import io.github.mirframework.iss.pb.SbMessage;
import io.github.mirframework.iss.pbft.pb.Commit;
import io.github.mirframework.iss.pbft.pb.PbftEvent;
import io.github.mirframework.iss.pbft.pb.PbftMessage;
import io.github.mirframework.iss.pbft.pb.Preprepare;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --iss-event}: ISS event names and the filter, as in Mir's mircat. */
class IssEventNamesTest {
  static final TypeRegistry TYPES =
      TypeRegistry.newBuilder().add(SbMessage.getDescriptor()).build();
  static final SbEvent PERSIST =
      SbEvent.newBuilder()
          .setEpoch(1)
          .setEvent(PbftEvent.newBuilder().setPersistPreprepare(Preprepare.getDefaultInstance()))
          .build();
  static final MessageReceived COMMIT_RECEIVED =
      MessageReceived.newBuilder()
          .setFrom("1")
          .setMsg(
              NetMessage.newBuilder()
                  .setDestModule("iss")
                  .setPayload(
                      Any.pack(
                          SbMessage.newBuilder()
                              .setMsg(
                                  PbftMessage.newBuilder().setCommit(Commit.getDefaultInstance()))
                              .build())))
          .build();

  @Test
  void issEventsAreNamedByTypeAndTheCaseInsideThem() {
    assertThat(IssEventNames.of(PERSIST, TYPES)).contains("SbEvent:PersistPreprepare");
    assertThat(IssEventNames.of(COMMIT_RECEIVED, TYPES)).contains("SbMessage:Commit");
    assertThat(IssEventNames.of(NewEpoch.getDefaultInstance(), TYPES)).contains("NewEpoch");
    assertThat(IssEventNames.of(TestingString.getDefaultInstance(), TYPES)).isEmpty();
  }

  @Test
  void aFilterMatchesEitherPartOrTheWholeNameIgnoringCaseAndUnderscores() {
    for (String f :
        List.of(
            "SbEvent", "persist_preprepare", "PERSISTPREPREPARE", "sbevent:persistPreprepare")) {
      assertThat(IssEventNames.matches(f, "SbEvent:PersistPreprepare")).as(f).isTrue();
    }
    assertThat(IssEventNames.matches("Commit", "SbEvent:PersistPreprepare")).isFalse();
    assertThat(IssEventNames.matches("Preprepare", "SbEvent:PersistPreprepare")).isFalse();
  }

  @Test
  void mircatShowsOnlyTheSelectedIssEvents(@TempDir Path dir) throws Exception {
    ModuleId iss = ModuleId.of("iss");
    try (Recorder r = Recorder.builder(NodeId.of("0"), dir).build()) {
      r.intercept(
          iss,
          EventList.of(
              io.github.mirframework.event.Event.of(iss, PERSIST),
              io.github.mirframework.event.Event.of(iss, COMMIT_RECEIVED),
              io.github.mirframework.event.Event.of(iss, NewEpoch.getDefaultInstance()),
              Events.testingString(iss, "not ISS")));
    }
    ReplayTest.Result commits =
        ReplayTest.mircat("", "--src", dir.toString(), "--iss-event", "commit");
    assertThat(commits.rc()).isZero();
    assertThat(commits.out()).contains("[ MessageReceived ]").doesNotContain("[ SbEvent ]");
    assertThat(commits.out()).doesNotContain("not ISS").doesNotContain("[ NewEpoch ]");

    ReplayTest.Result mixed =
        ReplayTest.mircat(
            "", "--src", dir.toString(), "-s", "SbEvent", "-s", "NewEpoch", "-e", "TestingString");
    assertThat(mixed.out())
        .contains("[ SbEvent ]")
        .contains("[ NewEpoch ]")
        .contains("not ISS")
        .doesNotContain("[ MessageReceived ]");
  }
}
