/**
 * The timer: an {@link io.github.mirframework.timer.TimerModule active module} that emits events
 * after a delay or periodically, driven by a {@link io.github.mirframework.timer.TimerScheduler}.
 * In production the module runs its own timer thread; tests and simulations drive it with a {@link
 * io.github.mirframework.timer.ManualScheduler} in virtual time.
 */
package io.github.mirframework.timer;
