/**
 * The PBFT orderer that ISS runs once per segment per epoch.
 *
 * <p>{@link io.github.mirframework.iss.pbft.PbftOrderer} is a plain state machine: ISS applies
 * {@link io.github.mirframework.iss.pbft.pb.PbftEvent}s to it (see {@link
 * io.github.mirframework.iss.pbft.PbftEvents}) and implements {@link
 * io.github.mirframework.iss.pbft.OrdererContext} to turn its actions into events of the node,
 * routed back by (epoch, instance). A {@link io.github.mirframework.iss.pbft.Segment} describes
 * what one orderer orders, {@link io.github.mirframework.iss.pbft.PbftParams} its timing.
 *
 * <p><b>How ISS hosts orderers.</b> ISS keeps one orderer per (epoch, instance) and one {@code
 * OrdererContext} per orderer that knows that pair. The context wraps each {@code PbftMessage} in
 * ISS's own SB message with the epoch and instance before sending it to ISS on the destination
 * nodes; each orderer event (timer events, WAL entries) in ISS's SB event; and each hash / sign /
 * verification origin in ISS's origin with the epoch and instance. ISS routes whatever comes back
 * by the pair, checks that the sender of a message is a member of that epoch, unwraps it and calls
 * {@code apply} with the factories of {@link io.github.mirframework.iss.pbft.PbftEvents}. It
 * answers {@code requestCert} by asking availability for a certificate and applying {@code
 * certReady} with the certificate's protobuf bytes, and turns {@code deliver} into a commit-log
 * entry. Timer repeats and WAL entries use the epoch as retention index, so garbage-collecting an
 * epoch stops its orderers' resends. Once an epoch is pruned, its orderers are dropped.
 */
package io.github.mirframework.iss.pbft;
