package io.github.mirframework.factory;

import com.google.protobuf.Any;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.types.ModuleId;

/**
 * Creates the submodules of a {@link FactoryModule}. Called on the factory's thread; must not
 * block.
 */
@FunctionalInterface
public interface ModuleGenerator {
  /**
   * Returns a new submodule.
   *
   * @param id the full ID of the new submodule, {@code <factory ID>/<sub-ID>}
   * @param params the parameters from the {@code NewModule} event, as sent; the generator checks
   *     their type (e.g. with {@code params.unpack(MyParams.class)})
   * @throws Exception if the submodule cannot be created; the factory's batch fails
   */
  PassiveModule generate(ModuleId id, Any params) throws Exception;
}
