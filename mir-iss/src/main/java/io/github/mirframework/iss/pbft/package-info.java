/**
 * The PBFT orderer that ISS runs once per segment per epoch.
 *
 * <p>{@link io.github.mirframework.iss.pbft.PbftOrderer} is a plain state machine: ISS applies
 * {@link io.github.mirframework.iss.pbft.pb.PbftEvent}s to it (see {@link
 * io.github.mirframework.iss.pbft.PbftEvents}) and implements {@link
 * io.github.mirframework.iss.pbft.OrdererContext} to turn its actions into events of the node,
 * routed back by (epoch, instance). A {@link io.github.mirframework.iss.pbft.Segment} describes
 * what one orderer orders, {@link io.github.mirframework.iss.pbft.PbftParams} its timing.
 */
package io.github.mirframework.iss.pbft;
