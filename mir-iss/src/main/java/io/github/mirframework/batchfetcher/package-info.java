/**
 * The batch fetcher (Mir's {@code batchfetcher}): between ISS and the application, it turns ordered
 * availability certificates into ordered batches of transactions, drops transactions delivered
 * before, and keeps everything it passes on in ISS's order.
 */
package io.github.mirframework.batchfetcher;
