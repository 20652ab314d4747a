/**
 * The DSL for writing protocol modules declaratively (Mir's {@code pkg/dsl}): a {@link
 * io.github.mirframework.dsl.DslModule} is a passive module assembled from handler registrations
 * ("upon event X do ...", "upon message Y from node p do ...", "upon condition C do ...") plus a
 * context store that correlates requests to other modules with their responses.
 *
 * <p>Protocol modules usually own a {@code DslModule}, register their handlers in their constructor
 * with the textbook pseudocode line as a comment above each one, and delegate {@code applyEvents}
 * to it. Other packages add typed helpers on top of {@link
 * io.github.mirframework.dsl.DslModule#upon}, {@link
 * io.github.mirframework.dsl.DslModule#uponResponse} and {@link
 * io.github.mirframework.dsl.DslModule#origin} for their own events (e.g. signing, hashing,
 * availability requests).
 */
package io.github.mirframework.dsl;
