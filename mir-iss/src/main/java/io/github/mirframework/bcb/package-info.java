/**
 * Byzantine consistent broadcast (Mir's {@code pkg/bcb}): one leader broadcasts one value, and no
 * two correct nodes deliver different values even if the leader is Byzantine.
 *
 * <p>{@link io.github.mirframework.bcb.BcbModule} is the protocol, a passive module written with
 * the DSL; it talks to a transport and to a {@link io.github.mirframework.crypto.CryptoModule}.
 * {@link io.github.mirframework.bcb.BcbEvents} and {@link io.github.mirframework.bcb.BcbMessages}
 * build its events and messages, whose protobuf types are in {@code io.github.mirframework.bcb.pb}.
 */
package io.github.mirframework.bcb;
