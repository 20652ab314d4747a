/**
 * Signatures and hashing for Mir-Java nodes (Mir's {@code pkg/crypto}).
 *
 * <p>{@link io.github.mirframework.crypto.Crypto} is the signing API that protocol code relies on,
 * with three implementations: {@link io.github.mirframework.crypto.EcdsaCrypto} (ECDSA P-256,
 * deterministic RFC 6979 signatures), {@link io.github.mirframework.crypto.PseudoCrypto} (the same,
 * with keys every node derives from a shared seed; for tests and demos only) and {@link
 * io.github.mirframework.crypto.DummyCrypto} (a constant signature). {@link
 * io.github.mirframework.crypto.KeyFiles} reads and writes keys as PEM files.
 *
 * <p>Protocol modules do not call these directly: they send events to the {@link
 * io.github.mirframework.crypto.CryptoModule} ({@code SignRequest}, {@code VerifyNodeSigs}) and to
 * the {@link io.github.mirframework.crypto.HasherModule} ({@code HashRequest}), built with {@link
 * io.github.mirframework.crypto.CryptoEvents}, and receive the results as events addressed to the
 * module named in the request's {@code Origin}. All data to sign, verify or hash is a list of byte
 * chunks that is processed as their plain concatenation (no lengths, no separators).
 */
package io.github.mirframework.crypto;
