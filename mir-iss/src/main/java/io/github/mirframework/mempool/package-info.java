/**
 * The mempool (Mir's {@code pkg/mempool}): where client transactions wait until the availability
 * layer asks for a batch, and where transaction and batch IDs are computed.
 *
 * <p>{@link io.github.mirframework.mempool.SimpleMempool} is Mir's simple mempool, a passive DSL
 * module. Its events ({@code RequestBatch}/{@code NewBatch}, {@code RequestTransactions}/{@code
 * TransactionsResponse}, {@code RequestTransactionIDs}/{@code TransactionIDsResponse}, {@code
 * RequestBatchID}/{@code BatchIDResponse}) are protobuf messages in {@code
 * io.github.mirframework.mempool.pb}; {@link io.github.mirframework.mempool.MempoolEvents} builds
 * them and {@link io.github.mirframework.mempool.MempoolDsl} lets other DSL modules request and
 * handle them with typed contexts. Transactions are {@code mir.client.Request}s.
 */
package io.github.mirframework.mempool;
