package io.github.mirframework.contextstore;

import io.github.mirframework.event.pb.Origin;
import io.github.mirframework.types.ModuleId;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Keeps arbitrary items under IDs that it assigns itself, deterministically: 0, 1, 2, ... in the
 * order of {@link #store} calls (Mir's sequential context store). An ID is never reused, even after
 * its item was disposed of.
 *
 * <p>Recovering an ID that was never assigned or whose item was disposed of is a programming error
 * (responses come from local modules, never from peers) and throws {@link IllegalStateException}
 * naming the ID. Disposing of an absent ID does nothing.
 *
 * <p>Not thread-safe: meant to be owned by one module, which the node never calls concurrently.
 *
 * @param <T> the type of the stored items
 */
public final class ContextStore<T> {
  private final Map<Long, T> items = new HashMap<>();
  private long nextId;

  /** Creates an empty store whose first ID will be 0. */
  public ContextStore() {}

  /**
   * Stores {@code item} and returns its new ID.
   *
   * @throws NullPointerException if {@code item} is null
   */
  public long store(T item) {
    Objects.requireNonNull(item, "item");
    long id = nextId++;
    items.put(id, item);
    return id;
  }

  /**
   * Returns the item stored under {@code id}, which stays in the store.
   *
   * @throws IllegalStateException if no item is stored under {@code id}
   */
  public T recover(long id) {
    T item = items.get(id);
    if (item == null) {
      throw new IllegalStateException(
          "item with ID " + Long.toUnsignedString(id) + " is not present in the context store");
    }
    return item;
  }

  /** Removes the item stored under {@code id}, if any. Idempotent. */
  public void dispose(long id) {
    items.remove(id);
  }

  /**
   * Returns the item stored under {@code id} and removes it.
   *
   * @throws IllegalStateException if no item is stored under {@code id}
   */
  public T recoverAndDispose(long id) {
    T item = recover(id);
    items.remove(id);
    return item;
  }

  /** Whether an item is stored under {@code id}. */
  public boolean contains(long id) {
    return items.containsKey(id);
  }

  /** The number of items currently stored. */
  public int size() {
    return items.size();
  }

  /**
   * Returns an origin telling a responder to answer {@code module} and to carry {@code itemId} back
   * in the origin's {@code context_store_item} (Mir's {@code contextstore.Origin} and friends).
   */
  public static Origin origin(ModuleId module, long itemId) {
    return Origin.newBuilder().setModule(module.value()).setContextStoreItem(itemId).build();
  }
}
