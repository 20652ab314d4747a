/**
 * Which client requests have been delivered (Mir's {@code pkg/clientprogress}): per client a low
 * watermark and the set of delivered request numbers above it, used by the batch fetcher to deliver
 * each request at most once and stored in every checkpoint.
 *
 * <p>{@link io.github.mirframework.clientprogress.ClientProgress} tracks all clients; {@link
 * io.github.mirframework.clientprogress.DeliveredReqs} one client. Their protobuf form is {@code
 * io.github.mirframework.checkpoint.pb.ClientProgress}.
 */
package io.github.mirframework.clientprogress;
