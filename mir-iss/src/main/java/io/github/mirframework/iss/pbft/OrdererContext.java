package io.github.mirframework.iss.pbft;

import com.google.protobuf.ByteString;
import io.github.mirframework.crypto.pb.HashData;
import io.github.mirframework.crypto.pb.SigVerItem;
import io.github.mirframework.iss.pbft.pb.PbftEvent;
import io.github.mirframework.iss.pbft.pb.PbftHashOrigin;
import io.github.mirframework.iss.pbft.pb.PbftMessage;
import io.github.mirframework.iss.pbft.pb.PbftSigVerOrigin;
import io.github.mirframework.iss.pbft.pb.PbftSignOrigin;
import io.github.mirframework.types.NodeId;
import io.github.mirframework.types.SeqNr;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

/**
 * Everything a {@link PbftOrderer} does to the outside world (Mir's {@code sbEventService} plus the
 * two events ISS handles itself, {@code SBCertRequest} and {@code SBDeliver}).
 *
 * <p>ISS implements it once per orderer, knowing the orderer's epoch and instance: each call
 * becomes one event, wrapped so that whatever comes back (a received message, a hash, a signature,
 * a verification result, a timer event, a certificate) is routed to the same orderer by {@code
 * (epoch, instance)} and applied with {@link PbftOrderer#apply}. Calls happen synchronously inside
 * {@code apply}; the events they produce must be emitted in call order.
 *
 * <p>Implementations need not be thread-safe: an orderer calls its context from the thread that
 * calls {@code apply}.
 */
public interface OrdererContext {

  /** Sends {@code msg} to the orderer of the same segment on each of {@code destinations}. */
  void sendMessage(PbftMessage msg, List<NodeId> destinations);

  /**
   * Asks the hasher for one digest per element of {@code data}; the result comes back as a {@code
   * PbftHashResult} carrying {@code origin} unchanged.
   */
  void hashRequest(List<HashData> data, PbftHashOrigin origin);

  /**
   * Asks the crypto module to sign the concatenation of {@code data} with this node's key; the
   * result comes back as a {@code PbftSignResult} carrying {@code origin} unchanged.
   */
  void signRequest(List<ByteString> data, PbftSignOrigin origin);

  /**
   * Asks the crypto module to check node signatures; the result comes back as a {@code
   * PbftNodeSigsVerified} (one verdict per item, in order) carrying {@code origin} unchanged.
   */
  void verifyNodeSigs(List<SigVerItem> items, PbftSigVerOrigin origin);

  /**
   * Appends {@code entry} (one of the {@code persist_*} cases of {@link PbftEvent}) to the WAL with
   * the segment's epoch as retention index, and emits what {@code afterPersisted} does only once
   * the entry is durable: ISS runs {@code afterPersisted} right away against a context that
   * collects events, and attaches them as follow-ups of the WAL append.
   */
  void walAppend(PbftEvent entry, Consumer<OrdererContext> afterPersisted);

  /**
   * Applies {@code event} (one of the orderer's timeout events) to the orderer after {@code delay}.
   */
  void timerDelay(Duration delay, PbftEvent event);

  /**
   * Applies {@code event} (one of the orderer's timeout events) to the orderer every {@code period}
   * until ISS garbage-collects the segment's epoch (retention index = epoch).
   */
  void timerRepeat(Duration period, PbftEvent event);

  /**
   * Asks the availability layer for a new certificate; ISS answers with a {@code PbftCertReady}
   * holding the certificate's serialized bytes (these bytes are what the orderer agrees on).
   */
  void requestCert();

  /**
   * Delivers the outcome of sequence number {@code sn}: the agreed certificate bytes, or {@code
   * aborted} (with empty {@code certData}) when the view change decided that nothing is ordered
   * there. Called once per sequence number of the segment, in commit order (not necessarily in
   * ascending order).
   */
  void deliver(SeqNr sn, ByteString certData, boolean aborted);

  /**
   * Tells that this node, the segment's leader, just proposed a certificate for {@code sn} (for
   * metrics: the commit latency runs from here to the delivery). Produces no event. Default:
   * nothing.
   */
  default void proposed(SeqNr sn) {}

  /**
   * Tells that the orderer starts a view change because of {@code cause} ({@code "sn_timeout"} or
   * {@code "segment_timeout"}), for metrics. Produces no event. Default: nothing.
   */
  default void viewChangeStarted(String cause) {}
}
