package io.github.mirframework.metrics;

/**
 * Records the progress of an ordering protocol (state machine replication) at one node: requests
 * applied, certificates delivered and how long they took, view changes, epochs and checkpoints.
 * Obtained from the node's binding with {@link NodeMetrics#ordering}; the protocol modules (ISS,
 * its PBFT orderers and Trantor's app module) call it, each from its own worker thread, at most a
 * few times per ordered batch. A module given {@code null} reports nothing and does nothing more
 * than a null check.
 *
 * <p>Implementations must be thread-safe (different modules of one node call it concurrently),
 * cheap and non-blocking.
 */
public interface OrderingMetrics {

  /**
   * The clock latencies are measured with, in nanoseconds (monotonic, arbitrary origin): the one
   * given to {@link NodeMetrics#ordering}, so that a simulation measures virtual time.
   */
  long nanoTime();

  /**
   * A batch of {@code requests} requests was applied by the application (ordered, fetched and
   * executed at this node); an empty batch is reported with 0.
   */
  void requestsApplied(int requests);

  /**
   * The protocol delivered the certificate (the agreed batch reference) of the next sequence
   * number, in order.
   *
   * @param aborted whether a view change decided that nothing is ordered at that sequence number
   */
  void certificateDelivered(boolean aborted);

  /**
   * A certificate this node proposed as leader was delivered (not aborted), {@code nanos} after the
   * proposal: the commit latency as this node sees it (see {@code docs/tools.md}).
   */
  void committed(long nanos);

  /**
   * An orderer of this node started a view change (it suspects the segment's leader).
   *
   * @param cause why: {@code "sn_timeout"} (no new commit in time) or {@code "segment_timeout"}
   *     (the segment not finished in time); a binding may use it as a tag
   */
  void viewChangeStarted(String cause);

  /**
   * The node started epoch {@code epoch}: at start-up, after finishing the previous epoch, or by
   * installing a stable checkpoint.
   */
  void epochStarted(long epoch);

  /** The node finished epoch {@code epoch} (delivered all its sequence numbers, checkpointed). */
  void epochCompleted(long epoch);

  /** A new stable checkpoint of epoch {@code epoch}, at sequence number {@code sn}, was agreed. */
  void checkpointStable(long epoch, long sn);

  /**
   * The node installed a stable checkpoint of epoch {@code epoch} it got from other nodes (state
   * transfer), skipping what it had not delivered itself.
   */
  void checkpointInstalled(long epoch);
}
