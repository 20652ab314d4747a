/** Logging helpers: rate-limited logging of rejected input from peers and clients. */
package io.github.mirframework.log;
