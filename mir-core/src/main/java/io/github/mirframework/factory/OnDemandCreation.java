package io.github.mirframework.factory;

import com.google.protobuf.Any;
import io.github.mirframework.event.pb.NetMessage;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.util.Objects;
import java.util.Optional;

/**
 * Lets a {@link FactoryModule} create a submodule when the first peer message for it arrives,
 * instead of waiting for a {@code NewModule} event at this node. This fits protocols whose
 * instances are learned from messages (e.g. one reliable-broadcast instance per value a peer
 * broadcasts), where no local event announces the instance.
 *
 * <p>The decision is made from the message alone, which comes from the network: the policy is the
 * place to check that the instance is one this node should run (its sub-ID parses, it lies in the
 * current window, the sender may start it). A message it declines is handled as without a policy
 * (kept in the sender's early-message buffer). The factory bounds what a policy can be made to do:
 * at most {@link FactoryModule.Params#maxOnDemandSubmodules()} submodules created this way are
 * alive at a time, and none below the factory's retention index is created.
 *
 * <p>Called on the factory's thread; must not block. An exception thrown by the policy fails the
 * factory's batch (and stops the node), so a policy must return {@link Optional#empty()} for any
 * input a peer controls rather than throw.
 */
@FunctionalInterface
public interface OnDemandCreation {

  /**
   * How to create the submodule: the parameters passed to the {@link ModuleGenerator} and the
   * retention index it is registered under (as in a {@code NewModule} event).
   *
   * @param params the generator's parameters
   * @param retentionIndex the submodule's retention index
   */
  record Creation(Any params, long retentionIndex) {
    /** Validates the fields. */
    public Creation {
      Objects.requireNonNull(params, "params");
      if (retentionIndex < 0) {
        throw new IllegalArgumentException(
            "retentionIndex must not be negative, given: " + retentionIndex);
      }
    }
  }

  /**
   * Decides whether the first message for a submodule that does not exist creates it.
   *
   * @param id the full ID of the submodule the message is addressed to, {@code <factory ID>/<sub
   *     ID>} (the sub-ID is chosen by the sender: validate it)
   * @param from the authenticated sender
   * @param message the message (its destination is {@code id})
   * @return how to create the submodule, or empty to leave the message to the early-message buffer
   */
  Optional<Creation> onFirstMessage(ModuleId id, NodeId from, NetMessage message);
}
