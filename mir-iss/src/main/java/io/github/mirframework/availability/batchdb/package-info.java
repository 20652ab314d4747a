/**
 * The batch database (Mir's {@code pkg/availability/batchdb}): where the availability layer keeps
 * the batches it vouches for.
 *
 * <p>Events ({@code LookupBatch}/{@code LookupBatchResponse}, {@code StoreBatch}/{@code
 * BatchStored}) are protobuf messages in {@code io.github.mirframework.availability.batchdb.pb};
 * {@link io.github.mirframework.availability.batchdb.BatchDbEvents} builds them and {@link
 * io.github.mirframework.availability.batchdb.BatchDbDsl} lets DSL modules request and handle them
 * with typed contexts. {@link io.github.mirframework.availability.batchdb.FakeBatchDb} is Mir's
 * in-memory implementation.
 */
package io.github.mirframework.availability.batchdb;
