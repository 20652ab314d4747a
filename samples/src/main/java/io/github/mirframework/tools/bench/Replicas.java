package io.github.mirframework.tools.bench;

import com.google.protobuf.ByteString;
import io.github.mirframework.checkpoint.pb.StableCheckpoint;
import io.github.mirframework.crypto.PseudoCrypto;
import io.github.mirframework.module.Module;
import io.github.mirframework.module.Modules;
import io.github.mirframework.net.Membership;
import io.github.mirframework.net.Transport;
import io.github.mirframework.node.Node;
import io.github.mirframework.node.NodeConfig;
import io.github.mirframework.timer.TimerModule;
import io.github.mirframework.trantor.AppLogic;
import io.github.mirframework.trantor.Trantor;
import io.github.mirframework.types.LittleEndian;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.util.List;
import java.util.Map;

/** Builds the Trantor node of one bench replica. Stateless. */
final class Replicas {
  private Replicas() {}

  /**
   * The (not started) node {@code id} of {@code membership}, with a real timer, no WAL and real
   * ECDSA signatures from keys derived from {@code params.keySeed()}.
   */
  static Node build(
      NodeId id, Transport transport, Membership membership, BenchApp app, BenchParams params) {
    Trantor.Params tp = params.trantorParams(membership);
    StableCheckpoint genesis =
        Trantor.genesisCheckpoint(ByteString.copyFrom(LittleEndian.u64(0)), tp);
    List<NodeId> ids = List.copyOf(membership.ids());
    Map<ModuleId, Module> m =
        Trantor.modules(
            id,
            transport,
            genesis,
            PseudoCrypto.create(ids, id, params.keySeed()),
            AppLogic.fromStatic(app, membership),
            tp);
    m.put(ModuleId.of("timer"), new TimerModule());
    m.put(ModuleId.of("wal"), Modules.nullPassive());
    return Node.builder(id)
        .config(NodeConfig.defaults().withWorkerThreads(params.workerThreads()))
        .modules(m)
        .build();
  }
}
