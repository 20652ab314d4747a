/**
 * Threshold signatures (Mir's {@code pkg/threshcrypto}): a group of {@code n} nodes shares one
 * public key, each node holds a share of the private key, and any {@code t} valid signature shares
 * over the same data combine into the group's signature, which anyone can check with the group
 * public key.
 *
 * <p>{@link io.github.mirframework.threshcrypto.ThreshCrypto} is the API; {@link
 * io.github.mirframework.threshcrypto.TblsCrypto} implements it with BLS signatures on BLS12-381
 * and keys from a trusted dealer (it needs the optional {@code tech.pegasys:jblst} dependency);
 * {@link io.github.mirframework.threshcrypto.DummyThreshCrypto} is a stand-in for tests. Protocol
 * modules use it through events to the {@link
 * io.github.mirframework.threshcrypto.ThreshCryptoModule}, built with {@link
 * io.github.mirframework.threshcrypto.ThreshCryptoEvents}. As in {@code
 * io.github.mirframework.crypto}, the data is a list of byte chunks that is processed as their
 * plain concatenation.
 */
package io.github.mirframework.threshcrypto;
