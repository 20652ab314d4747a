/**
 * Deterministic simulation: several nodes built from the real modules run on one thread in virtual
 * time, with a simulated network (latency, loss, duplication, partitions), timers and crash/restart
 * with WAL replay, all driven by one seed. See {@link io.github.mirframework.sim.Simulation}.
 */
package io.github.mirframework.sim;
