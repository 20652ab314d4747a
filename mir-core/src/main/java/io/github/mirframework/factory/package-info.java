/**
 * The factory module (Mir's {@code factorymodule}): a passive module that creates submodules on
 * request ({@link io.github.mirframework.factory.pb.NewModule}), routes events to them by their
 * full ID {@code <factory ID>/<sub-ID>} and garbage-collects them by retention index ({@link
 * io.github.mirframework.factory.pb.GarbageCollect}). Protocols use it for per-instance state such
 * as one multisig collector or one checkpoint protocol per epoch.
 */
package io.github.mirframework.factory;
