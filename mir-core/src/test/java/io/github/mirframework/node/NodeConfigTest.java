package io.github.mirframework.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.mirframework.module.Modules;
import io.github.mirframework.types.NodeId;
import org.junit.jupiter.api.Test;

/** Port of Mir's TestNode_Config, plus builder validation. */
class NodeConfigTest {

  @Test
  void defaultConfigIsValidAndHasMirDefaults() {
    NodeConfig c = NodeConfig.defaults();
    assertThat(c.maxEventBatchSize()).isEqualTo(512);
    assertThat(c.pauseInputThreshold()).isEqualTo(8192);
    assertThat(c.resumeInputThreshold()).isEqualTo(6144);
  }

  @Test
  void zeroBatchSizeIsRejectedNamingTheValue() {
    assertThatThrownBy(() -> new NodeConfig(0, 10, 5, NodeConfig.DEFAULT_STOP_GRACE_PERIOD))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxEventBatchSize")
        .hasMessageContaining("0");
    assertThatThrownBy(() -> NodeConfig.defaults().withMaxEventBatchSize(-3))
        .hasMessageContaining("-3");
  }

  @Test
  void pauseThresholdBelowResumeThresholdIsRejected() {
    assertThatThrownBy(() -> new NodeConfig(1, 5, 10, NodeConfig.DEFAULT_STOP_GRACE_PERIOD))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("pauseInputThreshold (5)")
        .hasMessageContaining("resumeInputThreshold (10)");
  }

  @Test
  void negativeResumeThresholdIsRejected() {
    assertThatThrownBy(() -> NodeConfig.defaults().withInputThresholds(10, -1))
        .hasMessageContaining("resumeInputThreshold")
        .hasMessageContaining("-1");
  }

  @Test
  void nonPositiveStopGracePeriodIsRejected() {
    assertThatThrownBy(() -> NodeConfig.defaults().withStopGracePeriod(java.time.Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("stopGracePeriod");
    assertThatThrownBy(() -> NodeConfig.defaults().withStopGracePeriod(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("stopGracePeriod");
    assertThat(NodeConfig.defaults().stopGracePeriod()).hasSeconds(5);
  }

  @Test
  void withCopiesKeepOtherFields() {
    NodeConfig c = NodeConfig.defaults().withMaxEventBatchSize(7).withInputThresholds(100, 50);
    assertThat(c).isEqualTo(new NodeConfig(7, 100, 50, NodeConfig.DEFAULT_STOP_GRACE_PERIOD));
  }

  @Test
  void builderRejectsBadModuleRegistrations() {
    Node.Builder b = Node.builder(NodeId.of("n"));
    assertThatThrownBy(() -> b.module("a/b", Modules.nullPassive()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'a/b'");
    b.module("a", Modules.nullPassive());
    assertThatThrownBy(() -> b.module("a", Modules.nullPassive()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("already registered");
    assertThatThrownBy(() -> Node.builder(NodeId.of("n")).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("no modules");
  }
}
