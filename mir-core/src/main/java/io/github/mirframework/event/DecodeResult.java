package io.github.mirframework.event;

import java.util.Objects;
import java.util.function.Function;

/**
 * The outcome of decoding untrusted bytes: either a value or an error that says what was wrong.
 * Decoders in Mir-Java return this instead of throwing, so that garbage from a peer or a file can
 * never escape as an exception.
 *
 * @param <T> the decoded type
 */
public sealed interface DecodeResult<T> {

  /** Returns a successful result. */
  static <T> DecodeResult<T> ok(T value) {
    return new Ok<>(Objects.requireNonNull(value));
  }

  /** Returns a failed result with the given reason. */
  static <T> DecodeResult<T> error(String reason) {
    return new Error<>(Objects.requireNonNull(reason));
  }

  /** Whether decoding succeeded. */
  boolean isOk();

  /**
   * The decoded value.
   *
   * @throws IllegalStateException with the error's reason if decoding failed
   */
  T orElseThrow();

  /** Applies {@code f} to a successful value; passes an error on unchanged. */
  <R> DecodeResult<R> map(Function<? super T, ? extends R> f);

  /**
   * A successfully decoded value.
   *
   * @param value the value
   */
  record Ok<T>(T value) implements DecodeResult<T> {
    @Override
    public boolean isOk() {
      return true;
    }

    @Override
    public T orElseThrow() {
      return value;
    }

    @Override
    public <R> DecodeResult<R> map(Function<? super T, ? extends R> f) {
      return ok(f.apply(value));
    }
  }

  /**
   * A decoding failure.
   *
   * @param reason what was wrong with the input
   */
  record Error<T>(String reason) implements DecodeResult<T> {
    @Override
    public boolean isOk() {
      return false;
    }

    @Override
    public T orElseThrow() {
      throw new IllegalStateException(reason);
    }

    @Override
    public <R> DecodeResult<R> map(Function<? super T, ? extends R> f) {
      return error(reason);
    }
  }
}
