/**
 * A store for the context of outstanding requests: a module keeps whatever it needs to finish a
 * piece of work under a small numeric ID, sends the ID along with a request to another module and
 * recovers the context when the response comes back with the same ID (Mir's {@code contextstore}).
 */
package io.github.mirframework.contextstore;
