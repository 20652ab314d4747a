package io.github.mirframework.flood;

import com.google.protobuf.ByteString;
import io.github.mirframework.checkpoint.pb.StableCheckpoint;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.trantor.AppLogic;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.BitSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The replicated application of the flood tests: it remembers which request numbers of which client
 * it applied, counts requests applied twice and requests whose data says they were forged, and
 * chains a digest over the order of application. Its snapshot holds all of that, so a replica that
 * catches up from a checkpoint (state transfer) has the same state as one that applied every
 * request itself. Thread-safe: the node's application thread applies, the test thread reads.
 */
final class FloodApp implements AppLogic.Static {
  /** Data of requests an attacker forged under another client's ID starts with this. */
  static final ByteString FORGED = ByteString.copyFromUtf8("forged:");

  /** What a replica has applied. */
  record State(
      long count, long duplicates, long forged, String orderDigest, Map<String, BitSet> applied) {
    /** Request numbers of {@code client} applied, as a bit set. */
    BitSet of(String client) {
      return applied.getOrDefault(client, new BitSet());
    }
  }

  private final Map<String, BitSet> applied = new TreeMap<>();
  private long count;
  private long duplicates;
  private long forged;
  private long outOfRange;
  private byte[] chain = new byte[32];
  private final MessageDigest sha256;

  FloodApp() {
    try {
      sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public synchronized void applyTxs(List<Request> txs) {
    for (Request r : txs) {
      count++;
      if (r.getData().startsWith(FORGED)) {
        forged++;
      }
      if (r.getReqNo() < 0 || r.getReqNo() > Integer.MAX_VALUE) {
        outOfRange++;
      } else {
        BitSet b = applied.computeIfAbsent(r.getClientId(), c -> new BitSet());
        int no = (int) r.getReqNo();
        if (b.get(no)) {
          duplicates++;
        } else {
          b.set(no);
        }
      }
      sha256.update(chain);
      sha256.update(r.getClientId().getBytes(StandardCharsets.UTF_8));
      sha256.update(longBytes(r.getReqNo()));
      chain = sha256.digest();
    }
  }

  private static byte[] longBytes(long v) {
    byte[] b = new byte[8];
    for (int i = 0; i < 8; i++) {
      b[i] = (byte) (v >>> (8 * i));
    }
    return b;
  }

  @Override
  public synchronized ByteString snapshot() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeLong(count);
      out.writeLong(duplicates);
      out.writeLong(forged);
      out.writeLong(outOfRange);
      out.write(chain);
      out.writeInt(applied.size());
      for (Map.Entry<String, BitSet> e : applied.entrySet()) {
        out.writeUTF(e.getKey());
        byte[] set = e.getValue().toByteArray();
        out.writeInt(set.length);
        out.write(set);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return ByteString.copyFrom(bytes.toByteArray());
  }

  @Override
  public synchronized void restoreState(StableCheckpoint checkpoint) throws IOException {
    ByteString data = checkpoint.getSnapshot().getAppData();
    if (data.isEmpty()) {
      // The genesis state.
      applied.clear();
      count = duplicates = forged = outOfRange = 0;
      chain = new byte[32];
      return;
    }
    try (DataInputStream in = new DataInputStream(data.newInput())) {
      long c = in.readLong();
      long d = in.readLong();
      long f = in.readLong();
      long o = in.readLong();
      byte[] ch = in.readNBytes(32);
      int clients = in.readInt();
      Map<String, BitSet> a = new TreeMap<>();
      for (int i = 0; i < clients; i++) {
        String id = in.readUTF();
        byte[] set = in.readNBytes(in.readInt());
        a.put(id, BitSet.valueOf(set));
      }
      applied.clear();
      applied.putAll(a);
      count = c;
      duplicates = d;
      forged = f;
      outOfRange = o;
      chain = ch;
    }
  }

  /** Requests applied so far (including those taken over from a checkpoint). */
  synchronized long count() {
    return count;
  }

  /** A copy of the state. */
  synchronized State state() {
    Map<String, BitSet> copy = new LinkedHashMap<>();
    applied.forEach((k, v) -> copy.put(k, (BitSet) v.clone()));
    return new State(count, duplicates + outOfRange, forged, HexFormat.of().formatHex(chain), copy);
  }
}
