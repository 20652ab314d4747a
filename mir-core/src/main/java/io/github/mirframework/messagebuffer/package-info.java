/**
 * Bounded backlogs for messages that arrived too early to be processed (Mir's {@code
 * messagebuffer}): e.g. a message for a future epoch, or for a submodule that does not exist yet.
 * Each {@link io.github.mirframework.messagebuffer.MessageBuffer} holds at most a given number of
 * bytes and evicts its oldest messages to make room for new ones; {@link
 * io.github.mirframework.messagebuffer.MessageBuffers#split} gives each sender its own buffer, so
 * that a Byzantine sender can only evict its own messages.
 */
package io.github.mirframework.messagebuffer;
