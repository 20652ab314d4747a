package io.github.mirframework.tools.mircat;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.github.mirframework.checkpoint.pb.StableCheckpoint;
import io.github.mirframework.client.ClientEvents;
import io.github.mirframework.client.pb.NewRequests;
import io.github.mirframework.client.pb.Request;
import io.github.mirframework.crypto.PseudoCrypto;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.PayloadRegistry;
import io.github.mirframework.mempool.SimpleMempool;
import io.github.mirframework.module.Module;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.net.Membership;
import io.github.mirframework.net.NodeAddress;
import io.github.mirframework.trantor.AppLogic;
import io.github.mirframework.trantor.Trantor;
import io.github.mirframework.trantor.TrantorSystem;
import io.github.mirframework.types.LittleEndian;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Trantor (ISS + PBFT + availability + checkpoints) run of 4 nodes, recorded in the simulation,
 * is replayed node by node into freshly built Trantor modules through a user-defined {@link
 * ReplayModules} factory: every event is reproduced, and a nondeterministic application (whose
 * snapshot differs in the replay) is caught at its first checkpoint.
 */
@Timeout(120)
class TrantorReplayTest {
  static final List<NodeId> NODES = NodeId.range(4);
  static final Membership MEMBERSHIP =
      new Membership(
          NODES.stream()
              .collect(
                  Collectors.toMap(
                      Function.identity(), n -> NodeAddress.of("10.0.0." + n.value(), 7000))));
  static final Trantor.Params PARAMS =
      Trantor.Params.defaults(MEMBERSHIP).adjustSpeed(Duration.ofMillis(100));

  @TempDir Path dir;

  /**
   * Counts applied requests; its snapshot is the count plus a salt (a nonzero salt stands for an
   * application whose state depends on something outside the log).
   */
  static final class CountingApp implements AppLogic.Static {
    private final long salt;
    long applied;

    CountingApp(long salt) {
      this.salt = salt;
    }

    @Override
    public void applyTxs(List<Request> txs) {
      applied += txs.size();
    }

    @Override
    public ByteString snapshot() {
      return ByteString.copyFrom(LittleEndian.u64(applied + salt));
    }

    @Override
    public void restoreState(StableCheckpoint checkpoint) {
      applied = LittleEndian.u64(checkpoint.getSnapshot().getAppData().toByteArray());
    }
  }

  static StableCheckpoint genesis() {
    return Trantor.genesisCheckpoint(ByteString.copyFrom(LittleEndian.u64(0)), PARAMS);
  }

  static Map<ModuleId, Module> trantorModules(NodeId id, AppLogic.Static app) {
    return Trantor.modules(
        id,
        null,
        genesis(),
        PseudoCrypto.create(NODES, id),
        AppLogic.fromStatic(app, MEMBERSHIP),
        PARAMS);
  }

  /** The replay factory: Trantor's modules as the simulation built them. */
  record TrantorModules(long salt) implements ReplayModules {
    @Override
    public String name() {
      return "trantor-test";
    }

    @Override
    public String description() {
      return "Trantor with pseudo crypto and a counting app";
    }

    @Override
    public Map<ModuleId, PassiveModule> create(ReplaySetup setup) {
      Map<ModuleId, PassiveModule> m = new LinkedHashMap<>();
      trantorModules(setup.self(), new CountingApp(salt))
          .forEach(
              (id, module) -> {
                if (module instanceof PassiveModule p) {
                  m.put(id, p);
                }
              });
      return m;
    }

    @Override
    public List<Message> payloadTypes() {
      PayloadRegistry r = TrantorSystem.payloadRegistry();
      List<Message> types = new ArrayList<>();
      types.add(NewRequests.getDefaultInstance());
      for (String url : r.typeUrls()) {
        r.lookup(url).ifPresent(types::add);
      }
      return types;
    }

    /** Clients submit requests to the mempool from outside. */
    @Override
    public Set<String> externalInputTypes() {
      return Set.of(NewRequests.getDescriptor().getFullName());
    }
  }

  @Test
  void aRecordedTrantorRunIsReproducedExactlyAndAnAppWithAnotherStateIsCaught() throws Exception {
    ReplayTest.recordSimulation(
        dir,
        3,
        NODES,
        (id, env) -> {
          Map<ModuleId, Module> m = trantorModules(id, new CountingApp(0));
          m.put(Trantor.NET, env.transport());
          m.put(ModuleId.of("timer"), env.timer());
          m.put(ModuleId.of("wal"), env.wal());
          return m;
        },
        sim -> {
          List<Request> reqs = new ArrayList<>();
          for (int i = 0; i < 40; i++) {
            reqs.add(
                Request.newBuilder()
                    .setClientId("c" + (i % 4))
                    .setReqNo(i / 4)
                    .setData(ByteString.copyFromUtf8("tx" + i))
                    .build());
          }
          for (NodeId id : NODES) {
            sim.inject(id, EventList.of(ClientEvents.newRequests(SimpleMempool.DEFAULT_ID, reqs)));
          }
          sim.runFor(Duration.ofSeconds(8));
        });

    for (NodeId n : NODES) {
      Replayer r = ReplayTest.replay(dir.resolve("node-" + n), new TrantorModules(0), NODES);
      assertThat(r.divergence()).as("node " + n).isEmpty();
      assertThat(r.matchedEvents()).as("node " + n).isGreaterThan(500);
      assertThat(r.undecodableTypes()).isEmpty();
    }

    // An application whose state is not what it was in the recorded run: the first checkpoint
    // snapshot the app module hands to ISS differs.
    Replayer.Divergence d =
        ReplayTest.replay(dir.resolve("node-2"), new TrantorModules(7), NODES)
            .divergence()
            .orElseThrow();
    assertThat(d.producer()).contains(Trantor.APP);
    assertThat(d.expected()).contains("app_data");
  }
}
