package io.github.mirframework.tools.bench;

import com.google.protobuf.ByteString;

/**
 * The replicas under test, however they run, seen from the load generator. Implementations are
 * thread-safe.
 */
interface Cluster extends AutoCloseable {

  /** Told of every request the observed replica (node 0) applies. */
  @FunctionalInterface
  interface AppliedListener {
    /** Request {@code reqNo} of client {@code client} was applied; called from any thread. */
    void applied(int client, long reqNo);

    /** The end of a batch of applied requests (e.g. to send notices in one write). */
    default void flush() {}
  }

  /** Sends requests into the cluster. */
  interface Submitter extends AutoCloseable {
    /**
     * Submits request {@code reqNo} of client {@code client}. A client's requests are submitted one
     * at a time, numbered 0, 1, 2, ...
     */
    void submit(int client, long reqNo, ByteString data);

    /**
     * Waits until every client can reach every replica (e.g. TLS connections are up), possibly by
     * submitting requests of its own.
     *
     * @return the number of the first request the load may submit per client
     * @throws java.util.concurrent.TimeoutException if that takes longer than {@code timeout}
     */
    default long awaitReady(java.time.Duration timeout) throws Exception {
      return 0;
    }

    /** Releases the clients (connections, threads). */
    @Override
    void close();
  }

  /**
   * CPU and GC use so far.
   *
   * @param replicaCpuNanos CPU time of the replica processes (in one JVM: of the whole JVM)
   * @param clientCpuNanos CPU time of the load generator's process if separate from the replicas,
   *     else 0
   * @param gcMillis time in garbage collections (all replica processes)
   * @param heapUsedBytes heap in use now (summed over replica processes)
   */
  record Usage(long replicaCpuNanos, long clientCpuNanos, long gcMillis, long heapUsedBytes) {
    Usage minus(Usage earlier) {
      return new Usage(
          replicaCpuNanos - earlier.replicaCpuNanos,
          clientCpuNanos - earlier.clientCpuNanos,
          gcMillis - earlier.gcMillis,
          heapUsedBytes);
    }
  }

  /** The submitter of the load (created once). */
  Submitter submitter() throws Exception;

  /** Current CPU and GC use. */
  Usage usage() throws Exception;

  /** Collects garbage everywhere and returns the heap in use afterwards (summed). */
  long heapAfterGc() throws Exception;

  /** Whether the replica CPU figure includes the clients (everything in one JVM). */
  boolean cpuIncludesClients();

  /** Stops every replica and releases everything; no thread or process is left. */
  @Override
  void close();
}
