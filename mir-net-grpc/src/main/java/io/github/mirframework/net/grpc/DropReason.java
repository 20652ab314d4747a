package io.github.mirframework.net.grpc;

/**
 * Why the gRPC transport dropped a message; each reason has its own counter. (Streams from
 * unauthenticated or unknown senders are refused before any of their frames is read; they are
 * counted separately, see {@link TransportMetrics#refusedStreams()}.)
 */
public enum DropReason {
  // Sending side.
  /** The destination is not a known node (never made known by {@code connect}, or removed). */
  UNKNOWN_DESTINATION,
  /** The destination's send queue was full (the peer is down or too slow). */
  QUEUE_FULL,
  /** The message is larger than the maximum message size. */
  TOO_LARGE,
  /** The message was queued for a peer that was then removed, or the transport is stopped. */
  CLOSED,
  /** A message to this node itself found the inbox full. */
  INBOX_FULL,
  /** The outgoing message has no payload or an invalid destination module. */
  INVALID,

  // Receiving side.
  /** A received frame did not parse. */
  GARBAGE,
  /** A received frame parsed but lacks its payload or names an invalid destination module. */
  MALFORMED,
  /** A received frame's payload type is not one of the accepted types. */
  UNKNOWN_TYPE,
  /** A received frame was larger than the maximum message size (its stream was closed). */
  RECEIVED_TOO_LARGE
}
