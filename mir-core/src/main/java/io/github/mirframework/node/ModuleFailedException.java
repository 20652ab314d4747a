package io.github.mirframework.node;

import io.github.mirframework.types.ModuleId;

/** A module threw while processing events (or an interceptor failed); this stopped the node. */
public final class ModuleFailedException extends MirException {
  private static final long serialVersionUID = 1L;

  private final transient ModuleId moduleId;

  /** Creates the exception for module {@code moduleId}. */
  public ModuleFailedException(ModuleId moduleId, String what, Throwable cause) {
    super("module '" + moduleId + "' " + what + ": " + cause, cause);
    this.moduleId = moduleId;
  }

  /** The module that failed. */
  public ModuleId moduleId() {
    return moduleId;
  }
}
