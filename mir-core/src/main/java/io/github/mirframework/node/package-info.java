/**
 * The {@link io.github.mirframework.node.Node}: the event engine that connects modules, with its
 * configuration, its debug mode ({@link io.github.mirframework.node.Debugger}) and the exceptions
 * it reports.
 */
package io.github.mirframework.node;
