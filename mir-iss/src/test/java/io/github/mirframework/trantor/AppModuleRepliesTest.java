package io.github.mirframework.trantor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.github.mirframework.batchfetcher.pb.NewOrderedBatch;
import io.github.mirframework.checkpoint.pb.StableCheckpoint;
import io.github.mirframework.client.ReplyModule;
import io.github.mirframework.client.pb.ClientReplies;
import io.github.mirframework.client.pb.Reply;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.iss.Iss;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The app module sends the application's results to the reply sink. */
class AppModuleRepliesTest {

  /** An application written before results existed: it implements only applyTxs. */
  static final class OldApp implements AppLogic.Static {
    final List<Request> applied = new ArrayList<>();

    @Override
    public void applyTxs(List<Request> txs) {
      applied.addAll(txs);
    }

    @Override
    public ByteString snapshot() {
      return ByteString.EMPTY;
    }

    @Override
    public void restoreState(StableCheckpoint checkpoint) {}
  }

  /** An application with results: the running count of its transactions. */
  static final class Counter extends AppLogicAdapter {
    long count;

    @Override
    public List<ByteString> applyTxsWithResults(List<Request> txs) {
      List<ByteString> out = new ArrayList<>();
      for (Request r : txs) {
        out.add(ByteString.copyFromUtf8(r.getData().toStringUtf8() + "#" + ++count));
      }
      return out;
    }
  }

  /** Everything but results, as a test base. */
  abstract static class AppLogicAdapter implements AppLogic {
    @Override
    public void applyTxs(List<Request> txs) throws Exception {
      applyTxsWithResults(txs);
    }

    @Override
    public io.github.mirframework.net.Membership newEpoch(io.github.mirframework.types.EpochNr e) {
      throw new UnsupportedOperationException();
    }

    @Override
    public ByteString snapshot() {
      return ByteString.EMPTY;
    }

    @Override
    public void restoreState(StableCheckpoint checkpoint) {}
  }

  static Request tx(String client, long reqNo, String data) {
    return Request.newBuilder()
        .setClientId(client)
        .setReqNo(reqNo)
        .setData(ByteString.copyFromUtf8(data))
        .build();
  }

  static EventList batch(Request... txs) {
    return EventList.of(
        Event.of(Trantor.APP, NewOrderedBatch.newBuilder().addAllTxs(List.of(txs)).build()));
  }

  @Test
  void theResultOfEveryAppliedRequestGoesToTheReplySink() throws Exception {
    AppModule app = new AppModule(new Counter(), Iss.DEFAULT_ID, null, ReplyModule.DEFAULT_ID);
    EventList out = app.applyEvents(batch(tx("alice", 0, "a"), tx("bob", 7, "b")));
    assertThat(out.size()).isEqualTo(1);
    assertThat(out.get(0).destination()).isEqualTo(ReplyModule.DEFAULT_ID);
    assertThat(out.get(0).payload(ClientReplies.class).getRepliesList())
        .containsExactly(
            Reply.newBuilder()
                .setClientId("alice")
                .setReqNo(0)
                .setResult(ByteString.copyFromUtf8("a#1"))
                .build(),
            Reply.newBuilder()
                .setClientId("bob")
                .setReqNo(7)
                .setResult(ByteString.copyFromUtf8("b#2"))
                .build());
    assertThat(app.applyEvents(batch()).isEmpty()).isTrue();
  }

  @Test
  void anOldApplicationStillCompilesAndRepliesWithEmptyResults() throws Exception {
    OldApp old = new OldApp();
    AppModule app =
        new AppModule(
            AppLogic.fromStatic(old, io.github.mirframework.net.Membership.of(java.util.Map.of())),
            Iss.DEFAULT_ID,
            null,
            ReplyModule.DEFAULT_ID);
    EventList out = app.applyEvents(batch(tx("alice", 0, "a")));
    assertThat(old.applied).hasSize(1);
    assertThat(out.get(0).payload(ClientReplies.class).getReplies(0).getResult()).isEmpty();
    // Without a reply sink nothing is emitted.
    AppModule silent =
        new AppModule(
            AppLogic.fromStatic(old, io.github.mirframework.net.Membership.of(java.util.Map.of())),
            Iss.DEFAULT_ID,
            null);
    assertThat(silent.applyEvents(batch(tx("alice", 1, "b"))).isEmpty()).isTrue();
  }

  @Test
  void anApplicationReturningTheWrongNumberOfResultsIsABug() {
    AppLogic broken =
        new AppLogicAdapter() {
          @Override
          public List<ByteString> applyTxsWithResults(List<Request> txs) {
            return List.of();
          }
        };
    AppModule app = new AppModule(broken, Iss.DEFAULT_ID, null, ReplyModule.DEFAULT_ID);
    assertThatThrownBy(() -> app.applyEvents(batch(tx("alice", 0, "a"))))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("0 results for 1 transactions");
  }
}
