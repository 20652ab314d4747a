package io.github.mirframework.messagebuffer;

import com.google.protobuf.Message;
import io.github.mirframework.types.NodeId;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** Helpers for sets of message buffers. */
public final class MessageBuffers {
  private MessageBuffers() {}

  /**
   * Returns one empty buffer per node, each with capacity {@code totalBytes / nodeIds.size()}
   * (rounded down, so the capacities may add up to a little less than {@code totalBytes}). Mir's
   * {@code NewBuffers}. The map is unmodifiable and iterates in the order of {@code nodeIds}.
   *
   * @throws IllegalArgumentException if {@code nodeIds} is empty or has duplicates, or {@code
   *     totalBytes} is negative
   */
  public static <M extends Message> Map<NodeId, MessageBuffer<M>> split(
      Collection<NodeId> nodeIds, int totalBytes) {
    if (nodeIds.isEmpty()) {
      throw new IllegalArgumentException("cannot split a buffer capacity among no nodes");
    }
    if (totalBytes < 0) {
      throw new IllegalArgumentException(
          "total buffer capacity must not be negative, given: " + totalBytes);
    }
    int each = totalBytes / nodeIds.size();
    Map<NodeId, MessageBuffer<M>> buffers = new LinkedHashMap<>();
    for (NodeId id : nodeIds) {
      if (buffers.put(id, MessageBuffer.create(each)) != null) {
        throw new IllegalArgumentException("duplicate node ID: " + id);
      }
    }
    return Collections.unmodifiableMap(buffers);
  }
}
