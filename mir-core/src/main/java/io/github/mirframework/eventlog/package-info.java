/**
 * Event recording: the {@link io.github.mirframework.eventlog.Interceptor} hook of the node, a
 * recorder that writes self-describing event logs and a reader that iterates them without the
 * application's classes.
 */
package io.github.mirframework.eventlog;
