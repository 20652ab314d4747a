package io.github.mirframework.contextstore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.mirframework.event.pb.Origin;
import io.github.mirframework.types.ModuleId;
import org.junit.jupiter.api.Test;

/** Port of Mir's TestSequentialContextStoreImpl_RecoverAndDispose, plus ID assignment. */
class ContextStoreTest {

  @Test
  void recoverAndDispose() {
    ContextStore<String> cs = new ContextStore<>();
    long helloId = cs.store("Hello");
    long worldId = cs.store("World");

    assertThat(cs.recover(worldId)).isEqualTo("World");
    assertThat(cs.recover(helloId)).isEqualTo("Hello");

    cs.dispose(worldId);
    assertThatThrownBy(() -> cs.recover(worldId))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("ID " + worldId + " ");

    assertThat(cs.recoverAndDispose(helloId)).isEqualTo("Hello");
    assertThatThrownBy(() -> cs.recoverAndDispose(helloId))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("ID " + helloId + " ");

    assertThatCode(() -> cs.dispose(worldId)).doesNotThrowAnyException();
    assertThatCode(() -> cs.dispose(helloId)).doesNotThrowAnyException();
    assertThat(cs.size()).isZero();
  }

  @Test
  void idsAreSequentialFromZeroAndNeverReused() {
    ContextStore<String> cs = new ContextStore<>();
    assertThat(cs.store("a")).isZero();
    assertThat(cs.store("b")).isEqualTo(1);
    cs.dispose(0);
    cs.dispose(1);
    assertThat(cs.store("c")).isEqualTo(2);
    assertThat(cs.contains(2)).isTrue();
    assertThat(cs.contains(0)).isFalse();
  }

  @Test
  void recoveringANeverAssignedIdNamesTheId() {
    ContextStore<Object> cs = new ContextStore<>();
    assertThatThrownBy(() -> cs.recover(42))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("item with ID 42 is not present in the context store");
  }

  @Test
  void originCarriesTheItemIdInTheContextStoreBranch() {
    Origin o = ContextStore.origin(ModuleId.of("iss"), 7);
    assertThat(o.getModule()).isEqualTo("iss");
    assertThat(o.getContextCase()).isEqualTo(Origin.ContextCase.CONTEXT_STORE_ITEM);
    assertThat(o.getContextStoreItem()).isEqualTo(7);
  }
}
