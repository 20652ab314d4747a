package io.github.mirframework.node;

import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.eventlog.Interceptor;
import io.github.mirframework.metrics.ModuleGauges;
import io.github.mirframework.metrics.ModuleMetrics;
import io.github.mirframework.metrics.NodeGauges;
import io.github.mirframework.metrics.NodeMetrics;
import io.github.mirframework.metrics.TransportStats;
import io.github.mirframework.module.ActiveModule;
import io.github.mirframework.module.Module;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.node.internal.Engine;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import io.github.mirframework.wal.WriteAheadLog;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * A Mir node: a set of modules registered under top-level IDs, and the engine that routes events
 * between them.
 *
 * <p>Semantics (those of Go Mir): each module has a FIFO buffer; a module gets at most one batch
 * (of at most {@link NodeConfig#maxEventBatchSize()} events) at a time, so it is never called
 * concurrently; follow-up events are released after their parent has been applied; when more than
 * {@link NodeConfig#pauseInputThreshold()} events are buffered, active modules are paused (their
 * {@link io.github.mirframework.module.EventSink#emit} blocks) until at most {@link
 * NodeConfig#resumeInputThreshold()} remain; an event addressed to an unknown module stops the
 * node, except a received network message, which is dropped and counted; the first error stops the
 * node.
 *
 * <p>Start-up ({@link #start()}): the events of the write-ahead log, if any, are dispatched before
 * one {@code Init} event per module. Then one worker thread per module ({@code
 * mir-<node>-<module>}) runs, and active modules are started. {@link #stop()} ends every thread the
 * node started, closes active modules and the interceptor, and waits for all of that. A node is
 * single-use.
 *
 * <p>Instead of {@code start()}, {@link #debug()} runs the node step by step under the caller's
 * control.
 *
 * <p>Thread-safety: all public methods may be called from any thread.
 */
public final class Node implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Node.class);

  private enum State {
    NEW,
    RUNNING,
    DEBUGGING,
    STOPPING,
    TERMINATED
  }

  private final NodeId id;
  private final NodeConfig config;
  private final Engine engine;
  private final Interceptor interceptor;
  private final WriteAheadLog wal;
  // Per slot, or null when the node has no metrics (then nothing is measured).
  private final ModuleMetrics[] moduleMetrics;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition resumed = lock.newCondition();
  private final Condition[] wake;
  private final boolean[] waiting;
  // Pooled mode (workerThreads > 0): idle pool workers wait on poolWake.
  private final int workerThreads;
  private final Condition poolWake = lock.newCondition();
  private static final int POOLED = -1;
  private int idlePoolWorkers;
  private final CountDownLatch terminated = new CountDownLatch(1);
  private final AtomicInteger liveWorkers = new AtomicInteger();
  private final List<Thread> threads = new ArrayList<>();

  private volatile State state = State.NEW;
  private Throwable failure;
  private boolean stopping;

  private Node(Builder b) {
    this.id = b.id;
    this.config = b.config;
    this.engine = new Engine(b.modules, b.config);
    this.interceptor = b.interceptor;
    this.wal = b.wal;
    this.workerThreads = b.config.workerThreads();
    int n = engine.moduleCount();
    this.wake = new Condition[n];
    this.waiting = new boolean[n];
    for (int i = 0; i < n; i++) {
      wake[i] = lock.newCondition();
    }
    this.moduleMetrics = b.metrics == null ? null : registerMetrics(b.metrics);
  }

  /** Registers the modules, the node's gauges and any transport statistics with a binding. */
  private ModuleMetrics[] registerMetrics(NodeMetrics metrics) {
    int n = engine.moduleCount();
    ModuleMetrics[] out = new ModuleMetrics[n];
    for (int i = 0; i < n; i++) {
      int slot = i;
      out[i] =
          metrics.module(
              engine.moduleId(i),
              new ModuleGauges() {
                @Override
                public int bufferedEvents() {
                  return locked(() -> engine.bufferedEvents(slot));
                }

                @Override
                public long processedEvents() {
                  return locked(() -> engine.processedEvents(slot));
                }
              });
      if (engine.module(i) instanceof TransportStats t) {
        metrics.transport(engine.moduleId(i), t);
      }
    }
    metrics.node(
        new NodeGauges() {
          @Override
          public int bufferedEvents() {
            return locked(engine::bufferedEvents);
          }

          @Override
          public long bufferedBytes() {
            return locked(engine::bufferedBytes);
          }

          @Override
          public boolean inputPaused() {
            return locked(engine::inputPaused);
          }

          @Override
          public long droppedMessages() {
            return locked(engine::droppedMessages);
          }
        });
    return out;
  }

  private <T> T locked(java.util.function.Supplier<T> read) {
    lock.lock();
    try {
      return read.get();
    } finally {
      lock.unlock();
    }
  }

  /** Returns a builder for a node with the given ID. */
  public static Builder builder(NodeId id) {
    return new Builder(id);
  }

  /** This node's ID. */
  public NodeId id() {
    return id;
  }

  /** This node's configuration. */
  public NodeConfig config() {
    return config;
  }

  /** The IDs of the registered modules, in registration order. */
  public List<ModuleId> moduleIds() {
    return engine.moduleIds();
  }

  /**
   * Starts the node: loads the WAL, queues its events and then one {@code Init} per module, starts
   * the workers and the active modules. Returns immediately.
   *
   * @throws IllegalStateException if the node was already started
   * @throws MirException if the WAL cannot be loaded or holds an event for an unknown module; the
   *     node is then terminated
   */
  public void start() {
    lock.lock();
    try {
      if (state != State.NEW) {
        throw new IllegalStateException(
            "node " + id + " was already started (state " + state + ")");
      }
      state = State.RUNNING;
      try {
        loadWalAndInit(true);
      } catch (RuntimeException e) {
        failure = e;
        stopping = true;
        state = State.STOPPING;
      }
    } finally {
      lock.unlock();
    }
    if (failure != null) {
      cleanUp();
      throw new MirException("node " + id + " could not start: " + failure.getMessage(), failure);
    }
    lock.lock();
    try {
      if (workerThreads > 0) {
        liveWorkers.set(workerThreads);
        for (int i = 0; i < workerThreads; i++) {
          Thread t = new Thread(() -> workerLoop(POOLED), "mir-" + id + "-worker-" + i);
          t.setDaemon(true);
          threads.add(t);
        }
      } else {
        int n = engine.moduleCount();
        liveWorkers.set(n);
        for (int i = 0; i < n; i++) {
          int slot = i;
          Thread t = new Thread(() -> workerLoop(slot), "mir-" + id + "-" + engine.moduleId(i));
          t.setDaemon(true);
          threads.add(t);
        }
      }
      threads.forEach(Thread::start);
      startActiveModules(this::emit);
    } finally {
      lock.unlock();
    }
  }

  private void loadWalAndInit(boolean init) {
    if (wal != null) {
      EventList stored;
      try {
        stored = wal.loadAll();
      } catch (IOException | RuntimeException e) {
        throw new MirException("could not load the write-ahead log: " + e.getMessage(), e);
      }
      engine.route(stored);
    }
    if (init) {
      EventList inits = EventList.withCapacity(engine.moduleCount());
      for (ModuleId m : engine.moduleIds()) {
        inits.add(Events.init(m));
      }
      engine.route(inits);
    }
  }

  /** Starts the active modules, unless the node is stopping. Caller holds the lock. */
  private void startActiveModules(io.github.mirframework.module.EventSink sink) {
    for (int i = 0; i < engine.moduleCount() && !stopping; i++) {
      if (engine.module(i) instanceof ActiveModule a) {
        try {
          a.start(sink);
        } catch (Throwable t) {
          failLocked(new ModuleFailedException(engine.moduleId(i), "failed to start", t));
        }
      }
    }
  }

  /**
   * A worker's loop. With {@code slot >= 0} the worker serves that one module; with {@link #POOLED}
   * it is a pool worker that serves whichever module is ready (round-robin). Either way a module
   * processes one batch at a time and in order: a module with a batch in flight is never ready.
   */
  private void workerLoop(int slot) {
    boolean pooled = slot == POOLED;
    MDC.put("node", id.value());
    if (!pooled) {
      MDC.put("module", engine.moduleId(slot).value());
    }
    Engine.Batch batch = null;
    EventList output = null;
    lock.lock();
    try {
      while (true) {
        if (batch != null) {
          try {
            engine.complete(batch, output);
          } catch (RuntimeException e) {
            failLocked(e);
          }
          batch = null;
          output = null;
          wakeReadyLocked();
        }
        if (stopping) {
          break;
        }
        batch = pooled ? engine.nextBatch() : engine.takeBatch(slot);
        if (batch == null) {
          if (pooled) {
            idlePoolWorkers++;
            poolWake.awaitUninterruptibly();
            idlePoolWorkers--;
          } else {
            waiting[slot] = true;
            wake[slot].awaitUninterruptibly();
            waiting[slot] = false;
          }
          continue;
        }
        if (!engine.inputPaused()) {
          resumed.signalAll();
        }
        lock.unlock();
        if (pooled) {
          MDC.put("module", batch.moduleId().value());
        }
        try {
          output =
              Engine.process(
                  batch, interceptor, moduleMetrics == null ? null : moduleMetrics[batch.slot()]);
        } catch (Throwable t) {
          lock.lock();
          failLocked(t);
          break;
        }
        lock.lock();
      }
    } finally {
      lock.unlock();
      MDC.clear();
      if (liveWorkers.decrementAndGet() == 0) {
        cleanUp();
      }
    }
  }

  /** Wakes every waiting worker whose module has become ready. Caller holds the lock. */
  private void wakeReadyLocked() {
    if (workerThreads > 0) {
      int toWake = idlePoolWorkers;
      for (int i = 0; i < waiting.length && toWake > 0; i++) {
        if (engine.ready(i)) {
          poolWake.signal();
          toWake--;
        }
      }
      return;
    }
    for (int i = 0; i < waiting.length; i++) {
      if (waiting[i] && engine.ready(i)) {
        wake[i].signal();
      }
    }
  }

  private boolean emit(EventList events) throws InterruptedException {
    lock.lockInterruptibly();
    try {
      while (engine.inputPaused() && !stopping) {
        resumed.await();
      }
      if (stopping) {
        return false;
      }
      try {
        engine.route(events);
      } catch (RuntimeException e) {
        failLocked(e);
        return false;
      }
      wakeReadyLocked();
      return true;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Adds events from outside the node (e.g. client requests or a test driver). Never blocks for
   * back-pressure.
   *
   * @param events the events; the caller must not change the list afterwards
   * @throws UnknownDestinationException if an event (other than a received message) is addressed to
   *     no registered module; then no event of the list is added and the node keeps running
   * @throws NodeStoppedException if the node has stopped (the cause is the error that stopped it,
   *     if any)
   * @throws IllegalStateException if the node has not been started, or runs in debug mode
   */
  public void injectEvents(EventList events) {
    Objects.requireNonNull(events, "events");
    lock.lock();
    try {
      if (state == State.NEW || state == State.DEBUGGING) {
        throw new IllegalStateException(
            "node " + id + " is not running (state " + state + "); use start() or the debugger");
      }
      if (stopping) {
        throw new NodeStoppedException("node " + id + " has stopped", failure);
      }
      engine.checkRoutable(events);
      engine.route(events);
      wakeReadyLocked();
    } finally {
      lock.unlock();
    }
  }

  private void fail(Throwable t) {
    lock.lock();
    try {
      failLocked(t);
    } finally {
      lock.unlock();
    }
  }

  private void failLocked(Throwable t) {
    if (stopping) {
      return;
    }
    failure = t;
    LOG.error("node {} stopped by an error: {}", id, t.toString(), t);
    beginStopLocked();
  }

  private void beginStopLocked() {
    stopping = true;
    if (state == State.RUNNING || state == State.DEBUGGING) {
      state = State.STOPPING;
    }
    for (Condition c : wake) {
      c.signal();
    }
    poolWake.signalAll();
    resumed.signalAll();
  }

  /**
   * Stops the node and waits until every thread it started has ended, active modules and the
   * interceptor are closed. Idempotent. When called from one of the node's own threads (e.g. by a
   * module), only requests the stop.
   *
   * <p>A module is never interrupted in the middle of a batch while the node runs. If one is still
   * inside {@code applyEvents} {@link NodeConfig#stopGracePeriod()} after the stop was requested (a
   * module that blocks, which passive modules must not do), its thread is interrupted and a warning
   * names the module and shows where it is stuck; {@code stop()} then keeps waiting for the thread,
   * repeating the warning, so that no thread of the node outlives it.
   */
  public void stop() {
    boolean neverStarted;
    lock.lock();
    try {
      neverStarted = state == State.NEW;
      if (!stopping) {
        beginStopLocked();
      }
      if (neverStarted) {
        state = State.STOPPING;
      }
    } finally {
      lock.unlock();
    }
    if (neverStarted) {
      cleanUp();
      return;
    }
    List<Thread> toJoin;
    lock.lock();
    try {
      toJoin = List.copyOf(threads);
    } finally {
      lock.unlock();
    }
    if (toJoin.contains(Thread.currentThread())) {
      return;
    }
    long graceNanos = config.stopGracePeriod().toNanos();
    long graceEnd = System.nanoTime() + graceNanos;
    boolean interrupted = false;
    for (Thread t : toJoin) {
      boolean workerInterrupted = false;
      while (t.isAlive()) {
        long wait = workerInterrupted ? graceNanos : graceEnd - System.nanoTime();
        if (wait > 0) {
          try {
            TimeUnit.NANOSECONDS.timedJoin(t, wait);
          } catch (InterruptedException e) {
            interrupted = true;
          }
          if (!t.isAlive()) {
            break;
          }
          if (!workerInterrupted && System.nanoTime() - graceEnd < 0) {
            continue;
          }
        }
        warnStuck(t, !workerInterrupted);
        if (!workerInterrupted) {
          t.interrupt();
          workerInterrupted = true;
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    if (toJoin.isEmpty()) {
      cleanUp();
    }
    try {
      terminated.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void warnStuck(Thread t, boolean interrupting) {
    StringBuilder where = new StringBuilder();
    for (StackTraceElement f : t.getStackTrace()) {
      where.append("\n\tat ").append(f);
    }
    LOG.warn(
        "node {}: thread {} has not finished its batch {} after stop() was requested{}{}",
        id,
        t.getName(),
        config.stopGracePeriod(),
        interrupting ? "; interrupting it" : "; still waiting for it",
        where);
  }

  /** Same as {@link #stop()}. */
  @Override
  public void close() {
    stop();
  }

  private final AtomicInteger cleanedUp = new AtomicInteger();

  private void cleanUp() {
    if (cleanedUp.getAndIncrement() != 0) {
      return;
    }
    for (int i = 0; i < engine.moduleCount(); i++) {
      if (engine.module(i) instanceof ActiveModule a) {
        try {
          a.close();
        } catch (Throwable t) {
          LOG.warn("node {}: closing module '{}' failed", id, engine.moduleId(i), t);
        }
      }
    }
    if (interceptor != null) {
      try {
        interceptor.close();
      } catch (Throwable t) {
        // E.g. a recorder that could not flush its last entries: report it like any other failure.
        LOG.error("node {}: closing the interceptor failed", id, t);
        lock.lock();
        try {
          if (failure == null) {
            failure = new MirException("closing the interceptor failed: " + t, t);
          }
        } finally {
          lock.unlock();
        }
      }
    }
    state = State.TERMINATED;
    terminated.countDown();
  }

  /**
   * Waits until the node has terminated (stopped and cleaned up).
   *
   * @return whether it terminated within the timeout
   */
  public boolean awaitTermination(Duration timeout) throws InterruptedException {
    return terminated.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  /**
   * Starts the node and blocks until it terminates.
   *
   * @throws NodeStoppedException with the error as cause if the node was stopped by an error
   *     (returns normally after {@link #stop()})
   */
  public void run() throws InterruptedException {
    start();
    terminated.await();
    Optional<Throwable> f = failure();
    if (f.isPresent()) {
      throw new NodeStoppedException("node " + id + " failed: " + f.get().getMessage(), f.get());
    }
  }

  /** Whether the node has terminated. */
  public boolean isTerminated() {
    return state == State.TERMINATED;
  }

  /**
   * The error that stopped the node, if any (empty while running and after a normal {@link
   * #stop()}).
   */
  public Optional<Throwable> failure() {
    lock.lock();
    try {
      return Optional.ofNullable(failure);
    } finally {
      lock.unlock();
    }
  }

  /** Number of received network messages dropped because no module was registered for them. */
  public long droppedMessages() {
    lock.lock();
    try {
      return engine.droppedMessages();
    } finally {
      lock.unlock();
    }
  }

  /** Number of events buffered in the node right now. */
  public int bufferedEvents() {
    lock.lock();
    try {
      return engine.bufferedEvents();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Runs the node in debug mode: no threads process events; the returned {@link Debugger} processes
   * them when the caller steps. The WAL's events are queued, but no {@code Init} events are created
   * (inject them if wanted). Active modules are started; what they emit is collected by the
   * debugger.
   *
   * @throws IllegalStateException if the node was already started
   * @throws MirException if the WAL cannot be loaded
   */
  public Debugger debug() {
    lock.lock();
    try {
      if (state != State.NEW) {
        throw new IllegalStateException(
            "node " + id + " was already started (state " + state + ")");
      }
      state = State.DEBUGGING;
      try {
        loadWalAndInit(false);
      } catch (RuntimeException e) {
        failure = e;
        beginStopLocked();
      }
    } finally {
      lock.unlock();
    }
    if (failure != null) {
      cleanUp();
      throw new MirException("node " + id + " could not start: " + failure.getMessage(), failure);
    }
    Debugger d = new Debugger(this);
    lock.lock();
    try {
      startActiveModules(d::collect);
    } finally {
      lock.unlock();
    }
    return d;
  }

  // Accessors for the debugger (same package).
  Engine engine() {
    return engine;
  }

  Interceptor interceptor() {
    return interceptor;
  }

  ReentrantLock lock() {
    return lock;
  }

  boolean stoppingLocked() {
    return stopping;
  }

  void failFromDebugger(Throwable t) {
    fail(t);
  }

  /** Builds a {@link Node}. Not thread-safe. */
  public static final class Builder {
    private final NodeId id;
    private final Map<ModuleId, Module> modules = new LinkedHashMap<>();
    private NodeConfig config = NodeConfig.defaults();
    private Interceptor interceptor;
    private WriteAheadLog wal;
    private NodeMetrics metrics;

    private Builder(NodeId id) {
      this.id = Objects.requireNonNull(id, "node ID");
    }

    /**
     * Registers a module under a top-level ID. The node takes ownership: it starts and closes
     * active modules.
     *
     * @throws IllegalArgumentException if the ID is not top-level or already taken
     */
    public Builder module(ModuleId moduleId, Module module) {
      Objects.requireNonNull(moduleId, "module ID");
      Objects.requireNonNull(module, "module");
      if (!moduleId.isTopLevel()) {
        throw new IllegalArgumentException(
            "modules are registered under top-level IDs (no '/'), got '" + moduleId + "'");
      }
      if (modules.putIfAbsent(moduleId, module) != null) {
        throw new IllegalArgumentException("module ID '" + moduleId + "' is already registered");
      }
      return this;
    }

    /** Registers a passive module (this overload lets a lambda be passed). */
    public Builder module(ModuleId moduleId, PassiveModule module) {
      return module(moduleId, (Module) module);
    }

    /** Registers a module under a top-level ID given as text. */
    public Builder module(String moduleId, Module module) {
      return module(ModuleId.of(moduleId), module);
    }

    /** Registers a passive module under a top-level ID given as text (accepts a lambda). */
    public Builder module(String moduleId, PassiveModule module) {
      return module(ModuleId.of(moduleId), (Module) module);
    }

    /** Registers all modules of the map, in its iteration order. */
    public Builder modules(Map<ModuleId, ? extends Module> toAdd) {
      toAdd.forEach(this::module);
      return this;
    }

    /** Sets the engine configuration (default {@link NodeConfig#defaults()}). */
    public Builder config(NodeConfig config) {
      this.config = Objects.requireNonNull(config, "config");
      return this;
    }

    /** Sets an interceptor that sees every processed event; the node closes it when it stops. */
    public Builder interceptor(Interceptor interceptor) {
      this.interceptor = interceptor;
      return this;
    }

    /**
     * Reports what the node measures about itself to {@code metrics} (see the {@code
     * io.github.mirframework.metrics} package); default none, which measures nothing.
     */
    public Builder metrics(NodeMetrics metrics) {
      this.metrics = metrics;
      return this;
    }

    /** Sets the write-ahead log whose events are replayed at start-up. */
    public Builder wal(WriteAheadLog wal) {
      this.wal = wal;
      return this;
    }

    /**
     * Builds the node.
     *
     * @throws IllegalStateException if no module is registered
     */
    public Node build() {
      if (modules.isEmpty()) {
        throw new IllegalStateException("node " + id + " has no modules");
      }
      return new Node(this);
    }
  }
}
