/**
 * Implementation details of {@code mir-net-grpc} shared by the transport and the client ingress:
 * marshallers, TLS plumbing, thread factories. Not a public API: may change without notice.
 */
package io.github.mirframework.net.grpc.internal;
