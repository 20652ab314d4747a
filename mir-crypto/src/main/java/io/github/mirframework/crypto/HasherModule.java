package io.github.mirframework.crypto;

import com.google.protobuf.ByteString;
import io.github.mirframework.crypto.internal.Digests;
import io.github.mirframework.crypto.pb.HashData;
import io.github.mirframework.crypto.pb.HashRequest;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.pb.Init;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.types.ModuleId;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;

/**
 * The hasher module (Mir's {@code crypto.Hasher}).
 *
 * <ul>
 *   <li>{@code HashRequest{data, origin}} → {@code HashResult{digests, origin}} to the origin's
 *       module, with one digest per {@code HashData}, in order: the hash of the plain concatenation
 *       of its chunks (no lengths, no separators; an empty {@code HashData} hashes the empty
 *       string);
 *   <li>{@code Init} is ignored; any other event type is an error that stops the node, as does a
 *       request without an origin module.
 * </ul>
 *
 * <p>SHA-256 by default. Hashing runs on the calling thread: it is cheap next to signature checks.
 * Like every passive module, an instance must not be called by two threads at once.
 */
public final class HasherModule implements PassiveModule {
  /** Never takes network input: received messages addressed here are dropped by the node. */
  @Override
  public boolean receivesMessages() {
    return false;
  }

  /** Mir's default ID of the hasher module. */
  public static final ModuleId DEFAULT_ID = ModuleId.of("hasher");

  private final MessageDigest digest;

  /** Returns a SHA-256 hasher. */
  public HasherModule() {
    this.digest = Digests.newSha256();
  }

  /**
   * Returns a hasher using another JCA message digest algorithm.
   *
   * @param algorithm a {@link MessageDigest} algorithm name, e.g. {@code "SHA-512"}
   * @throws IllegalArgumentException if the JDK has no such algorithm
   */
  public HasherModule(String algorithm) {
    try {
      this.digest = MessageDigest.getInstance(algorithm);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalArgumentException("unknown hash algorithm '" + algorithm + "'", e);
    }
  }

  @Override
  public EventList applyEvents(EventList events) {
    EventList out = EventList.withCapacity(events.size());
    for (Event e : events) {
      switch (e.payload()) {
        case Init init -> {}
        case HashRequest r -> {
          CryptoEvents.originModule(r.getOrigin());
          List<ByteString> digests = new ArrayList<>(r.getDataCount());
          for (HashData d : r.getDataList()) {
            digests.add(ByteString.copyFrom(Digests.digest(digest, d.getDataList())));
          }
          out.add(CryptoEvents.hashResult(r.getOrigin(), digests));
        }
        default ->
            throw new IllegalArgumentException(
                "hasher module: unexpected event type " + e.typeName() + " in " + e);
      }
    }
    return out;
  }

  @Override
  public String toString() {
    return "HasherModule[" + digest.getAlgorithm() + "]";
  }
}
