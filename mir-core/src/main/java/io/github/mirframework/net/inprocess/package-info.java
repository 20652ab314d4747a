/** A transport for nodes in the same JVM (tests, demos, benchmarks). */
package io.github.mirframework.net.inprocess;
