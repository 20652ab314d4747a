package io.github.mirframework.tools.mircat;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.github.mirframework.bcb.BcbEvents;
import io.github.mirframework.bcb.BcbModule;
import io.github.mirframework.bcb.pb.BroadcastRequest;
import io.github.mirframework.crypto.CryptoEvents;
import io.github.mirframework.crypto.CryptoModule;
import io.github.mirframework.crypto.PseudoCrypto;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.samples.pingpong.PingPong;
import io.github.mirframework.samples.pingpong.pb.Ping;
import io.github.mirframework.samples.pingpong.pb.PingTime;
import io.github.mirframework.samples.pingpong.pb.Pong;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The module sets {@code mircat --debug} knows without help: the samples' protocols. */
final class BuiltinReplayModules {
  private BuiltinReplayModules() {}

  /** All built-ins, by name. */
  static List<ReplayModules> all() {
    return List.of(new PingPongModules(), new BcbModules());
  }

  /** The pingpong sample: the {@code pingpong} module; net and timer are boundaries. */
  static final class PingPongModules implements ReplayModules {
    @Override
    public String name() {
      return "pingpong";
    }

    @Override
    public String description() {
      return "the pingpong sample's module (-P period-ms=N, default 1000, as pingpong --period-ms)";
    }

    @Override
    public Map<ModuleId, PassiveModule> create(ReplaySetup setup) {
      long periodMs = setup.longParam("period-ms", 1000);
      if (periodMs <= 0) {
        throw new IllegalArgumentException("period-ms must be positive, got " + periodMs);
      }
      PingPong.Config cfg = PingPong.Config.defaults();
      Map<ModuleId, PassiveModule> m = new LinkedHashMap<>();
      m.put(cfg.self(), new PingPong(cfg, setup.self(), Duration.ofMillis(periodMs), o -> {}));
      return m;
    }

    /** The sample always runs nodes 0 and 1. */
    @Override
    public List<NodeId> defaultMembership() {
      return NodeId.range(2);
    }

    @Override
    public List<Message> payloadTypes() {
      return List.of(
          Ping.getDefaultInstance(), Pong.getDefaultInstance(), PingTime.getDefaultInstance());
    }
  }

  /**
   * The bcb sample: the BCB instance and the (pseudo) crypto module; net and app are boundaries.
   */
  static final class BcbModules implements ReplayModules {
    @Override
    public String name() {
      return "bcb";
    }

    @Override
    public String description() {
      return "the bcb sample's BCB and pseudo-crypto modules (-P instance=ID, default bcb-demo;"
          + " -P leader=NODE, default the first member; -P key-seed=N, default 12345)";
    }

    @Override
    public Map<ModuleId, PassiveModule> create(ReplaySetup setup) {
      List<NodeId> nodes = setup.membership();
      NodeId leader = NodeId.of(setup.param("leader", nodes.get(0).value()));
      BcbModule.Params params =
          new BcbModule.Params(
              ByteString.copyFromUtf8(setup.param("instance", "bcb-demo")), nodes, leader);
      BcbModule.Config config = BcbModule.Config.defaults(ModuleId.of("app"));
      Map<ModuleId, PassiveModule> m = new LinkedHashMap<>();
      long seed = setup.longParam("key-seed", PseudoCrypto.DEFAULT_SEED);
      m.put(
          CryptoModule.DEFAULT_ID,
          new CryptoModule(PseudoCrypto.create(nodes, setup.self(), seed)));
      m.put(config.self(), new BcbModule(config, params, setup.self()));
      return m;
    }

    /** The sample always runs nodes 0 to 3. */
    @Override
    public List<NodeId> defaultMembership() {
      return NodeId.range(4);
    }

    @Override
    public List<Message> payloadTypes() {
      List<Message> types = new ArrayList<>(BcbEvents.payloadTypes());
      types.addAll(CryptoEvents.payloadTypes());
      return types;
    }

    /** The leader's value comes from the user (the demo injects the broadcast request). */
    @Override
    public Set<String> externalInputTypes() {
      return Set.of(BroadcastRequest.getDescriptor().getFullName());
    }
  }
}
