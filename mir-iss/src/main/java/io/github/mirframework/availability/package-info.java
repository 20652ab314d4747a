/**
 * The availability layer's API (Mir's {@code pkg/availability}): the consensus layer orders small
 * availability certificates instead of whole batches, and gets the batches back from them.
 *
 * <p>Events, in {@code io.github.mirframework.availability.pb}: {@code RequestCert}/{@code NewCert}
 * (a certificate for a new batch from the mempool), {@code VerifyCert}/{@code CertVerified}, and
 * {@code RequestTransactions}/{@code ProvideTransactions} (the batch a certificate stands for,
 * fetched from other nodes if needed). {@code Cert} is a union with one variant per implementation;
 * the only one is the multisig collector's ({@link io.github.mirframework.availability.msc}).
 * {@link io.github.mirframework.availability.AvailabilityEvents} builds the events and certificates
 * and {@link io.github.mirframework.availability.AvailabilityDsl} lets DSL modules request and
 * handle them with typed contexts. The local batch store is in {@link
 * io.github.mirframework.availability.batchdb}.
 */
package io.github.mirframework.availability;
