package io.github.mirframework.flood;

import java.io.IOException;
import java.net.Socket;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

/** Helpers shared by the floods. */
final class Floods {
  private Floods() {}

  /** Shuts {@code threads} down and waits for them (up to 30 s). */
  static void shutdown(ExecutorService threads, String owner) {
    threads.shutdown();
    boolean interrupted = false;
    try {
      if (!threads.awaitTermination(30, TimeUnit.SECONDS)) {
        threads.shutdownNow();
        throw new IllegalStateException(owner + ": threads did not end within 30 s");
      }
    } catch (InterruptedException e) {
      interrupted = true;
      threads.shutdownNow();
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** Waits for {@code t} to end (up to 30 s). */
  static void join(Thread t) {
    try {
      t.join(30_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    if (t.isAlive()) {
      throw new IllegalStateException(t.getName() + " did not end within 30 s");
    }
  }

  /** Closes {@code s}, ignoring an error (the attacker does not care). */
  static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // Nothing to do.
    }
  }
}
