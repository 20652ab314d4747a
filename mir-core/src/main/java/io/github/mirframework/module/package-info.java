/**
 * The module model: {@link io.github.mirframework.module.PassiveModule} (deterministic event
 * transformer) and {@link io.github.mirframework.module.ActiveModule} (also emits events on its own
 * through an {@link io.github.mirframework.module.EventSink}), plus helpers.
 */
package io.github.mirframework.module;
