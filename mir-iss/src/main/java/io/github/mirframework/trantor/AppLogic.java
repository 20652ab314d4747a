package io.github.mirframework.trantor;

import com.google.protobuf.ByteString;
import io.github.mirframework.checkpoint.pb.StableCheckpoint;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.net.Membership;
import io.github.mirframework.types.EpochNr;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * The replicated application of a Trantor node. Trantor calls it from one thread, in the order the
 * system decided, identically on every correct node; it must be deterministic.
 */
public interface AppLogic {

  /** Applies the next batch of ordered transactions (already de-duplicated). */
  void applyTxs(List<Request> txs) throws Exception;

  /**
   * Applies the next batch of ordered transactions, like {@link #applyTxs}, and returns the result
   * of each, in the same order (one per transaction): every replica sends it to the client, which
   * accepts a result once {@code f+1} replicas sent the same one. Results must therefore be
   * deterministic, like the state.
   *
   * <p>The default calls {@link #applyTxs} and returns an empty result for each transaction (the
   * client then learns only that its request was applied). Applications with results override this
   * method and implement {@link #applyTxs} by calling it.
   */
  default List<ByteString> applyTxsWithResults(List<Request> txs) throws Exception {
    applyTxs(txs);
    return Collections.nCopies(txs.size(), ByteString.EMPTY);
  }

  /**
   * Epoch {@code epoch} starts; returns the membership the application decides for a later epoch
   * (it takes effect {@code configOffset} epochs later). Return the current membership to keep it.
   */
  Membership newEpoch(EpochNr epoch) throws Exception;

  /** The application's state, to be included in the checkpoint at the start of the next epoch. */
  ByteString snapshot() throws Exception;

  /** Replaces the application's state with the one in {@code checkpoint} (after state transfer). */
  void restoreState(StableCheckpoint checkpoint) throws Exception;

  /** A checkpoint became stable (e.g. to store it); the default does nothing. */
  default void checkpoint(StableCheckpoint checkpoint) throws Exception {}

  /** An application whose membership never changes. */
  interface Static {
    /** See {@link AppLogic#applyTxs}. */
    void applyTxs(List<Request> txs) throws Exception;

    /** See {@link AppLogic#applyTxsWithResults}. */
    default List<ByteString> applyTxsWithResults(List<Request> txs) throws Exception {
      applyTxs(txs);
      return Collections.nCopies(txs.size(), ByteString.EMPTY);
    }

    /** See {@link AppLogic#snapshot}. */
    ByteString snapshot() throws Exception;

    /** See {@link AppLogic#restoreState}. */
    void restoreState(StableCheckpoint checkpoint) throws Exception;

    /** See {@link AppLogic#checkpoint}. */
    default void checkpoint(StableCheckpoint checkpoint) throws Exception {}
  }

  /** Adapts a {@link Static} application: every epoch keeps {@code membership}. */
  static AppLogic fromStatic(Static app, Membership membership) {
    Objects.requireNonNull(app, "app");
    Objects.requireNonNull(membership, "membership");
    return new AppLogic() {
      @Override
      public void applyTxs(List<Request> txs) throws Exception {
        app.applyTxs(txs);
      }

      @Override
      public List<ByteString> applyTxsWithResults(List<Request> txs) throws Exception {
        return app.applyTxsWithResults(txs);
      }

      @Override
      public Membership newEpoch(EpochNr epoch) {
        return membership;
      }

      @Override
      public ByteString snapshot() throws Exception {
        return app.snapshot();
      }

      @Override
      public void restoreState(StableCheckpoint checkpoint) throws Exception {
        app.restoreState(checkpoint);
      }

      @Override
      public void checkpoint(StableCheckpoint checkpoint) throws Exception {
        app.checkpoint(checkpoint);
      }
    };
  }
}
