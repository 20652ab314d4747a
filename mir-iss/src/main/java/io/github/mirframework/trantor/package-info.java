/**
 * Trantor (Mir's {@code systems/trantor}): a complete state-machine-replication system made of ISS,
 * its PBFT orderers, the availability layer, the mempool, the batch fetcher, checkpointing and an
 * {@link io.github.mirframework.trantor.AppLogic} supplied by the user.
 */
package io.github.mirframework.trantor;
