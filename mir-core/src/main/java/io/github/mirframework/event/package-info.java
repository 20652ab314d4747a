/**
 * Events: the immutable {@link io.github.mirframework.event.Event} envelope (destination, protobuf
 * payload, follow-ups), {@link io.github.mirframework.event.EventList}, factories for the core
 * events ({@link io.github.mirframework.event.Events}) and the {@link
 * io.github.mirframework.event.EventCodec} that serializes events at the edges of a node. Payload
 * types are open: every module defines its own protobuf messages.
 */
package io.github.mirframework.event;
