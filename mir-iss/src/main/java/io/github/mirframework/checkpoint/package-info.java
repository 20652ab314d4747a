/**
 * Checkpoints (Mir's {@code pkg/checkpoint}): the per-epoch checkpoint protocol ({@link
 * io.github.mirframework.checkpoint.CheckpointProtocol}, created per epoch by its factory), stable
 * checkpoints and their certificates ({@link io.github.mirframework.checkpoint.StableCheckpoints}),
 * and the exact byte layouts hashed and signed ({@link
 * io.github.mirframework.checkpoint.SnapshotHashing}).
 *
 * <p>The protobuf types are in {@code io.github.mirframework.checkpoint.pb}: the shared state types
 * ({@code StateSnapshot}, {@code EpochData}, {@code EpochConfig}, {@code Membership}, {@code
 * ClientProgress}) and the protocol's events and messages. {@link
 * io.github.mirframework.checkpoint.CheckpointEvents} builds them.
 */
package io.github.mirframework.checkpoint;
