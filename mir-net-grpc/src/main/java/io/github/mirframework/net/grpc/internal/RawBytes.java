package io.github.mirframework.net.grpc.internal;

import io.grpc.Drainable;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;

/**
 * A gRPC marshaller that passes message bytes through unparsed, so that the application parses (and
 * counts failures) itself, and serializes a message once for several destinations.
 */
public final class RawBytes implements MethodDescriptor.Marshaller<byte[]> {
  /** The shared instance. */
  public static final RawBytes INSTANCE = new RawBytes();

  private RawBytes() {}

  @Override
  public InputStream stream(byte[] value) {
    return new Stream(value);
  }

  @Override
  public byte[] parse(InputStream stream) {
    // gRPC has already buffered the whole message (within the configured maximum size) and tells
    // its length; readAllBytes() would allocate a 16 KiB buffer per message instead.
    try {
      if (stream instanceof KnownLength) {
        int n = stream.available();
        byte[] bytes = new byte[n];
        int read = stream.readNBytes(bytes, 0, n);
        if (read == n && stream.read() < 0) {
          return bytes;
        }
        throw new IOException("message length changed while reading");
      }
      return stream.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Lets gRPC see the length up front and copy the bytes without an intermediate buffer. */
  private static final class Stream extends ByteArrayInputStream implements KnownLength, Drainable {
    Stream(byte[] bytes) {
      super(bytes);
    }

    @Override
    public synchronized int drainTo(OutputStream target) throws IOException {
      int n = count - pos;
      target.write(buf, pos, n);
      pos = count;
      return n;
    }
  }
}
