package io.github.mirframework.availability;

import io.github.mirframework.availability.pb.Cert;
import io.github.mirframework.availability.pb.CertVerified;
import io.github.mirframework.availability.pb.NewCert;
import io.github.mirframework.availability.pb.ProvideTransactions;
import io.github.mirframework.availability.pb.RequestCert;
import io.github.mirframework.availability.pb.RequestTransactions;
import io.github.mirframework.availability.pb.VerifyCert;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.dsl.DslModule;
import io.github.mirframework.event.pb.Origin;
import io.github.mirframework.types.ModuleId;
import java.util.List;
import java.util.Objects;

/**
 * Typed DSL helpers for the availability layer's events (Mir's {@code availability/dsl}).
 *
 * <p>A request method stores a context object in the {@link DslModule} (see {@link
 * DslModule#origin}) and emits the request; the matching {@code upon…} response method registers a
 * handler that receives the response together with that context, but only for contexts of the class
 * it was registered with. The {@code upon<Request>} methods are for implementations of the
 * availability layer: their handlers get the request's arguments and its origin, to be copied into
 * the response.
 *
 * <p>Unlike Mir's {@code UponNewCert}, whose handler gets only the context, {@link #uponNewCert}
 * hands over the certificate too. Stateless; call the methods from the thread that applies the
 * module's events.
 */
public final class AvailabilityDsl {
  private AvailabilityDsl() {}

  /**
   * Handles a request to the availability layer.
   *
   * @param <A> the request's argument
   */
  @FunctionalInterface
  public interface RequestHandler<A> {
    /**
     * Handles one request.
     *
     * @param argument what the request is about
     * @param origin the request's origin, to be put into the response
     * @throws Exception to fail the batch (and stop the node)
     */
    void handle(A argument, Origin origin) throws Exception;
  }

  /**
   * Handles the answer to {@link #verifyCert}.
   *
   * @param <C> the context type
   */
  @FunctionalInterface
  public interface CertVerifiedHandler<C> {
    /**
     * Handles one verdict.
     *
     * @param valid whether the certificate is valid
     * @param error why it is not; empty if it is
     * @throws Exception to fail the batch (and stop the node)
     */
    void handle(boolean valid, String error, C context) throws Exception;
  }

  // ---- RequestCert / NewCert ----

  /** Asks {@code availability} for a certificate of a new batch; see {@link #uponNewCert}. */
  public static void requestCert(DslModule m, ModuleId availability, Object context) {
    m.emit(AvailabilityEvents.requestCert(availability, m.origin(context)));
  }

  /** Registers {@code handler} for {@code RequestCert} events; it gets the request's origin. */
  public static void uponRequestCert(DslModule m, DslModule.Handler<Origin> handler) {
    Objects.requireNonNull(handler, "handler");
    m.upon(RequestCert.class, r -> handler.handle(r.getOrigin()));
  }

  /**
   * Registers {@code handler} for certificates requested by {@link #requestCert} with a context of
   * class {@code contextType}.
   */
  public static <C> void uponNewCert(
      DslModule m,
      Class<C> contextType,
      DslModule.ResponseHandler<? super Cert, ? super C> handler) {
    Objects.requireNonNull(handler, "handler");
    m.uponResponse(
        NewCert.class, NewCert::getOrigin, contextType, (r, c) -> handler.handle(r.getCert(), c));
  }

  // ---- VerifyCert / CertVerified ----

  /** Asks {@code availability} whether {@code cert} is valid; see {@link #uponCertVerified}. */
  public static void verifyCert(DslModule m, ModuleId availability, Cert cert, Object context) {
    m.emit(AvailabilityEvents.verifyCert(availability, cert, m.origin(context)));
  }

  /** Registers {@code handler} for {@code VerifyCert} events (certificate, origin). */
  public static void uponVerifyCert(DslModule m, RequestHandler<? super Cert> handler) {
    Objects.requireNonNull(handler, "handler");
    m.upon(VerifyCert.class, r -> handler.handle(r.getCert(), r.getOrigin()));
  }

  /**
   * Registers {@code handler} for verdicts on certificates sent by {@link #verifyCert} with a
   * context of class {@code contextType}.
   */
  public static <C> void uponCertVerified(
      DslModule m, Class<C> contextType, CertVerifiedHandler<? super C> handler) {
    Objects.requireNonNull(handler, "handler");
    m.uponResponse(
        CertVerified.class,
        CertVerified::getOrigin,
        contextType,
        (r, c) -> handler.handle(r.getValid(), r.getErr(), c));
  }

  // ---- RequestTransactions / ProvideTransactions ----

  /**
   * Asks {@code availability} for the transactions certified by {@code cert}; see {@link
   * #uponProvideTransactions}.
   */
  public static void requestTransactions(
      DslModule m, ModuleId availability, Cert cert, Object context) {
    m.emit(AvailabilityEvents.requestTransactions(availability, cert, m.origin(context)));
  }

  /** Registers {@code handler} for {@code RequestTransactions} events (certificate, origin). */
  public static void uponRequestTransactions(DslModule m, RequestHandler<? super Cert> handler) {
    Objects.requireNonNull(handler, "handler");
    m.upon(RequestTransactions.class, r -> handler.handle(r.getCert(), r.getOrigin()));
  }

  /**
   * Registers {@code handler} for transactions requested by {@link #requestTransactions} with a
   * context of class {@code contextType}.
   */
  public static <C> void uponProvideTransactions(
      DslModule m,
      Class<C> contextType,
      DslModule.ResponseHandler<? super List<Request>, ? super C> handler) {
    Objects.requireNonNull(handler, "handler");
    m.uponResponse(
        ProvideTransactions.class,
        ProvideTransactions::getOrigin,
        contextType,
        (r, c) -> handler.handle(r.getTxsList(), c));
  }
}
