/**
 * Client ingress (Mir's {@code requestreceiver} and {@code dummyclient}): the {@link
 * io.github.mirframework.client.RequestReceiver}, a gRPC service through which clients submit
 * requests to a node and which sends results back, and {@link
 * io.github.mirframework.client.MirClient}, a client that signs its requests and completes a future
 * per request with f+1 matching replies.
 */
package io.github.mirframework.client;
