/**
 * Client ingress (Mir's {@code requestreceiver} and {@code dummyclient}): the {@link
 * io.github.mirframework.client.RequestReceiver}, a gRPC service through which clients submit
 * requests to a node, and {@link io.github.mirframework.client.MirClient}, a client that submits
 * each request to every node and resubmits what a node has not acknowledged after a reconnection.
 */
package io.github.mirframework.client;
