/**
 * The multisig collector (Mir's {@code pkg/availability/multisigcollector}), the availability layer
 * of Trantor: a certificate is f+1 signatures of members that stored the batch.
 *
 * <p>{@link io.github.mirframework.availability.msc.MultisigCollector} is the protocol, a passive
 * DSL module; {@link io.github.mirframework.availability.msc.MultisigCollector#reconfigurable}
 * makes the {@link io.github.mirframework.availability.msc.MultisigCollectorFactory} of one
 * instance per epoch that ISS uses. {@link io.github.mirframework.availability.msc.MscMessages}
 * builds the messages nodes exchange (protobuf types in {@code
 * io.github.mirframework.availability.msc.pb}) and defines the signed data. The module talks to a
 * mempool ({@link io.github.mirframework.mempool}), a batch database ({@link
 * io.github.mirframework.availability.batchdb}), a transport and a crypto module.
 */
package io.github.mirframework.availability.msc;
