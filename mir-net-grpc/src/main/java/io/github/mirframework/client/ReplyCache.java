package io.github.mirframework.client;

import io.github.mirframework.client.pb.Reply;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The replies a receiver has sent, so that a client that resubmits an applied request (which the
 * protocol will not apply again) still gets its reply. Bounded in bytes overall and in entries per
 * client; the oldest replies go first. Thread-safe.
 */
final class ReplyCache {
  private record Key(String client, long reqNo) {}

  private final long maxBytes;
  private final int maxPerClient;
  private final LinkedHashMap<Key, Reply> entries = new LinkedHashMap<>();
  private final Map<String, ArrayDeque<Key>> perClient = new HashMap<>();
  private long bytes;

  ReplyCache(long maxBytes, int maxPerClient) {
    this.maxBytes = maxBytes;
    this.maxPerClient = maxPerClient;
  }

  private static long size(Reply r) {
    return 64L + r.getClientId().length() * 2L + r.getResult().size();
  }

  synchronized void put(Reply r) {
    Key k = new Key(r.getClientId(), r.getReqNo());
    if (entries.containsKey(k) || size(r) > maxBytes || maxPerClient == 0) {
      return;
    }
    entries.put(k, r);
    bytes += size(r);
    ArrayDeque<Key> q = perClient.computeIfAbsent(k.client(), c -> new ArrayDeque<>());
    q.addLast(k);
    if (q.size() > maxPerClient) {
      remove(q.pollFirst());
    }
    Iterator<Map.Entry<Key, Reply>> it = entries.entrySet().iterator();
    while (bytes > maxBytes && it.hasNext()) {
      Map.Entry<Key, Reply> oldest = it.next();
      it.remove();
      bytes -= size(oldest.getValue());
      // The globally oldest entry is also the oldest of its client.
      ArrayDeque<Key> cq = perClient.get(oldest.getKey().client());
      cq.pollFirst();
      if (cq.isEmpty()) {
        perClient.remove(oldest.getKey().client());
      }
    }
  }

  private void remove(Key k) {
    Reply r = entries.remove(k);
    if (r != null) {
      bytes -= size(r);
    }
    ArrayDeque<Key> q = perClient.get(k.client());
    if (q != null && q.isEmpty()) {
      perClient.remove(k.client());
    }
  }

  synchronized Reply get(String client, long reqNo) {
    return entries.get(new Key(client, reqNo));
  }

  synchronized long bytes() {
    return bytes;
  }

  synchronized int size() {
    return entries.size();
  }
}
