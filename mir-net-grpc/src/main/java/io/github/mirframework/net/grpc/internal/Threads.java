package io.github.mirframework.net.grpc.internal;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.MDC;

/**
 * Creates, and at the end joins, the threads of one gRPC component; every thread is named, a
 * daemon, and has the node's ID in its logging MDC. Thread-safe.
 */
public final class Threads {
  private final String node;
  private final List<Thread> created = new ArrayList<>();

  /** Threads of the component of node {@code node}. */
  public Threads(String node) {
    this.node = node;
  }

  /** A thread factory naming threads {@code <prefix>-<n>-<m>}. */
  public ThreadFactory factory(String prefix) {
    DefaultThreadFactory netty = new DefaultThreadFactory(prefix, true);
    return r -> {
      Thread t =
          netty.newThread(
              () -> {
                MDC.put("node", node);
                r.run();
              });
      synchronized (created) {
        created.add(t);
      }
      return t;
    };
  }

  /** A Netty NIO event loop group of {@code threads} threads. */
  public EventLoopGroup eventLoops(int threads, String prefix) {
    return new MultiThreadIoEventLoopGroup(threads, factory(prefix), NioIoHandler.newFactory());
  }

  /**
   * A pool for the few blocking jobs gRPC offloads (e.g. name resolution): at most {@code max}
   * threads, which end when idle.
   */
  public ExecutorService offload(int max, String prefix) {
    ThreadPoolExecutor pool =
        new ThreadPoolExecutor(
            max, max, 10, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), factory(prefix));
    pool.allowCoreThreadTimeOut(true);
    return pool;
  }

  /**
   * Waits up to {@code timeout} until every thread created so far has ended (after their pools were
   * shut down).
   *
   * @return whether all ended
   */
  public boolean joinAll(Duration timeout) {
    List<Thread> all;
    synchronized (created) {
      all = List.copyOf(created);
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    boolean interrupted = false;
    boolean allEnded = true;
    for (Thread t : all) {
      while (t.isAlive()) {
        long left = deadline - System.nanoTime();
        if (left <= 0 || t == Thread.currentThread()) {
          allEnded = false;
          break;
        }
        try {
          t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    return allEnded;
  }

  /** Shuts {@code group} down and waits up to {@code timeout} for its threads to end. */
  public static boolean shutdown(EventLoopGroup group, Duration timeout) {
    if (group == null) {
      return true;
    }
    group.shutdownGracefully(0, timeout.toMillis(), TimeUnit.MILLISECONDS);
    return awaitUninterruptibly(group, timeout);
  }

  /** Shuts {@code pool} down and waits up to {@code timeout} for its threads to end. */
  public static boolean shutdown(ExecutorService pool, Duration timeout) {
    if (pool == null) {
      return true;
    }
    pool.shutdownNow();
    return awaitUninterruptibly(pool, timeout);
  }

  private static boolean awaitUninterruptibly(ExecutorService e, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    boolean interrupted = false;
    try {
      while (true) {
        try {
          return e.awaitTermination(
              Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException ie) {
          interrupted = true;
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
