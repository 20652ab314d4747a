/**
 * Fault injection by proxy (Mir's {@code eventmangler}): an {@link
 * io.github.mirframework.eventmangler.EventMangler} installed in front of a module (typically the
 * transport) drops, delays and duplicates the events addressed to it, using a seeded random source
 * so that a run can be reproduced.
 */
package io.github.mirframework.eventmangler;
