package io.github.mirframework.factory;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import io.github.mirframework.event.Event;
import io.github.mirframework.factory.pb.GarbageCollect;
import io.github.mirframework.factory.pb.NewModule;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.RetentionIndex;

/** Factories for the events of the factory module. */
public final class FactoryEvents {
  private FactoryEvents() {}

  /**
   * Asks the factory {@code factory} to create submodule {@code id} (which must be {@code
   * factory/<sub-ID>}) under {@code retentionIndex}, passing {@code params} to its generator.
   */
  public static Event newModule(
      ModuleId factory, ModuleId id, RetentionIndex retentionIndex, Message params) {
    return Event.of(
        factory,
        NewModule.newBuilder()
            .setModuleId(id.value())
            .setRetentionIndex(retentionIndex.value())
            .setParams(params instanceof Any any ? any : Any.pack(params))
            .build());
  }

  /**
   * Asks the factory {@code factory} to delete every submodule whose retention index is below
   * {@code retentionIndex}.
   */
  public static Event garbageCollect(ModuleId factory, RetentionIndex retentionIndex) {
    return Event.of(
        factory, GarbageCollect.newBuilder().setRetentionIndex(retentionIndex.value()).build());
  }
}
