/**
 * Test support: an in-JVM {@link io.github.mirframework.testing.Deployment} of N nodes over a
 * simulated, in-process or provided transport, and a {@link io.github.mirframework.testing.FakeApp}
 * that records deliveries.
 */
package io.github.mirframework.testing;
