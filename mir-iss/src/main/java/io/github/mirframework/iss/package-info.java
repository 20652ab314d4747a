/**
 * ISS, Insanely Scalable SMR (Mir's {@code pkg/iss}): the ordering module {@link
 * io.github.mirframework.iss.Iss} that runs one PBFT orderer ({@link
 * io.github.mirframework.iss.pbft}) per segment per epoch, its leader selection policies and the
 * events it exchanges with the application side ({@link io.github.mirframework.iss.IssEvents}).
 * Protobuf types are in {@code io.github.mirframework.iss.pb}.
 */
package io.github.mirframework.iss;
