/**
 * The network API of a node: {@link io.github.mirframework.net.Transport} (Mir's {@code pkg/net})
 * and the value types it takes, {@link io.github.mirframework.net.NodeAddress} and {@link
 * io.github.mirframework.net.Membership}. Implementations: the in-process transport ({@code
 * net.inprocess}) and the gRPC transport (Maven module {@code mir-net-grpc}).
 */
package io.github.mirframework.net;
