package io.github.mirframework.samples.chatdemo;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

/** Test helpers: collecting a chat's output lines and reading each replica's history from them. */
final class ChatIo {
  private ChatIo() {}

  /** An output stream that collects complete lines; thread-safe. */
  static final class Lines extends OutputStream {
    private final ByteArrayOutputStream partial = new ByteArrayOutputStream();
    private final List<String> lines = new ArrayList<>();

    @Override
    public synchronized void write(int b) {
      if (b == '\n') {
        lines.add(partial.toString(StandardCharsets.UTF_8));
        partial.reset();
        notifyAll();
      } else {
        partial.write(b);
      }
    }

    synchronized List<String> lines() {
      return List.copyOf(lines);
    }

    /** Waits until some line matches. */
    synchronized void await(String what, Duration timeout, Predicate<List<String>> condition)
        throws InterruptedException {
      long end = System.nanoTime() + timeout.toNanos();
      while (!condition.test(lines)) {
        long left = end - System.nanoTime();
        if (left <= 0) {
          throw new AssertionError(
              "timed out waiting for " + what + "; output:\n" + String.join("\n", lines));
        }
        wait(Math.max(1, left / 1_000_000));
      }
    }

    /**
     * Copies {@code in} into this until its end, on a daemon thread the test joins via the process.
     */
    Thread pump(InputStream in, String name) {
      Thread t =
          new Thread(
              () -> {
                byte[] buf = new byte[8192];
                try {
                  for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                    for (int i = 0; i < n; i++) {
                      write(buf[i]);
                    }
                  }
                } catch (IOException e) {
                  // the process ended
                }
              },
              name);
      t.setDaemon(true);
      t.start();
      return t;
    }
  }

  /**
   * The chat history each replica showed, by replica ID: its "Client ..." and " -> ..." lines in
   * order, restarting after each "CHAT STATE RESTORED" line.
   */
  static Map<String, List<String>> histories(List<String> lines) {
    Map<String, List<String>> h = new TreeMap<>();
    for (String line : lines) {
      if (!line.startsWith("[")) {
        continue;
      }
      int close = line.indexOf("] ");
      if (close < 0) {
        continue;
      }
      String id = line.substring(1, close);
      String rest = line.substring(close + 2);
      List<String> mine = h.computeIfAbsent(id, k -> new ArrayList<>());
      if (rest.startsWith(ChatApp.RESTORED_MARK)) {
        mine.clear();
      } else if (rest.startsWith("Client ") || rest.startsWith("  -> ")) {
        mine.add(rest);
      }
    }
    return h;
  }

  /** Whether replica {@code id} showed a history line ending with {@code text}. */
  static Predicate<List<String>> showed(String id, String text) {
    return lines -> {
      List<String> h = histories(lines).get(id);
      return h != null && h.stream().anyMatch(l -> l.endsWith(text));
    };
  }

  /** Whether every replica of {@code ids} showed a history line ending with {@code text}. */
  static Predicate<List<String>> allShowed(List<String> ids, String text) {
    return lines -> ids.stream().allMatch(id -> showed(id, text).test(lines));
  }
}
