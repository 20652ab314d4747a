package io.github.mirframework.tools.bench;

import com.google.protobuf.ByteString;
import io.github.mirframework.checkpoint.pb.StableCheckpoint;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.types.LittleEndian;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The replicated application of the bench: counts applied requests and tells an optional listener
 * about each one. Its state (the count) is what checkpoints carry. Called by one node thread at a
 * time; {@link #applied()} may be read from any thread.
 */
final class BenchApp implements io.github.mirframework.trantor.AppLogic.Static {
  /** Client IDs of the bench are {@code c<index>}. */
  static String clientId(int index) {
    return "c" + index;
  }

  /** The index of a bench client ID, or -1 if it is not one. */
  static int clientIndex(String id) {
    if (id.length() < 2 || id.length() > 10 || id.charAt(0) != 'c') {
      return -1;
    }
    int n = 0;
    for (int i = 1; i < id.length(); i++) {
      char c = id.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      n = n * 10 + (c - '0');
      if (n > 100_000_000) {
        return -1;
      }
    }
    return n;
  }

  private final Cluster.AppliedListener listener;
  private final AtomicLong applied = new AtomicLong();

  /** An app that reports to {@code listener} (may be null). */
  BenchApp(Cluster.AppliedListener listener) {
    this.listener = listener;
  }

  @Override
  public void applyTxs(List<Request> txs) {
    applied.addAndGet(txs.size());
    if (listener != null) {
      for (Request r : txs) {
        int c = clientIndex(r.getClientId());
        if (c >= 0) {
          listener.applied(c, r.getReqNo());
        }
      }
      listener.flush();
    }
  }

  @Override
  public ByteString snapshot() {
    return ByteString.copyFrom(LittleEndian.u64(applied.get()));
  }

  @Override
  public void restoreState(StableCheckpoint checkpoint) {
    ByteString s = checkpoint.getSnapshot().getAppData();
    applied.set(s.size() == 8 ? LittleEndian.u64(s.toByteArray()) : 0);
  }

  /** Requests applied so far. */
  long applied() {
    return applied.get();
  }
}
