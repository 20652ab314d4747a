package io.github.mirframework.availability.msc;

import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Counts and logs the received messages the multisig collector drops. Not thread-safe. */
final class Rejections {
  private static final Logger LOG = LoggerFactory.getLogger(MultisigCollector.class);

  private final ModuleId module;
  private long count;

  Rejections(ModuleId module) {
    this.module = module;
  }

  /** Drops a message of type {@code type} from {@code from} because of {@code reason}. */
  void reject(NodeId from, String type, String reason) {
    count++;
    if (LOG.isDebugEnabled()) {
      LOG.debug("{}: dropping {} from {}: {}", module, type, from, reason);
    }
  }

  long count() {
    return count;
  }
}
