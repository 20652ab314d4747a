package io.github.mirframework.checkpoint;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.github.mirframework.checkpoint.pb.AppSnapshot;
import io.github.mirframework.checkpoint.pb.AppSnapshotRequest;
import io.github.mirframework.checkpoint.pb.Checkpoint;
import io.github.mirframework.checkpoint.pb.ClientProgress;
import io.github.mirframework.checkpoint.pb.EpochConfig;
import io.github.mirframework.checkpoint.pb.EpochProgress;
import io.github.mirframework.checkpoint.pb.InstanceParams;
import io.github.mirframework.checkpoint.pb.StableCheckpoint;
import io.github.mirframework.event.Event;
import io.github.mirframework.factory.FactoryEvents;
import io.github.mirframework.types.EpochNr;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import io.github.mirframework.types.RetentionIndex;
import io.github.mirframework.types.SeqNr;
import java.time.Duration;
import java.util.List;

/** Factories for the events and messages of the checkpoint protocol. Stateless. */
public final class CheckpointEvents {
  private CheckpointEvents() {}

  /** The ID of the checkpoint instance of {@code epoch} under the factory {@code factory}. */
  public static ModuleId instanceId(ModuleId factory, EpochNr epoch) {
    return factory.then(Long.toString(epoch.value()));
  }

  /**
   * Asks the checkpoint factory {@code factory} to create the instance of {@code epoch} (ID {@code
   * factory/<epoch>}, retention index = epoch), run by {@code nodeIds}, for the checkpoint at
   * {@code seqNr}, resending its message every {@code resendPeriod}.
   */
  public static Event newInstance(
      ModuleId factory, List<NodeId> nodeIds, EpochNr epoch, SeqNr seqNr, Duration resendPeriod) {
    return FactoryEvents.newModule(
        factory,
        instanceId(factory, epoch),
        RetentionIndex.of(epoch.value()),
        instanceParams(nodeIds, epoch, seqNr, resendPeriod));
  }

  /** The generator parameters of one instance (Mir's {@code InstanceParams}). */
  public static InstanceParams instanceParams(
      List<NodeId> nodeIds, EpochNr epoch, SeqNr seqNr, Duration resendPeriod) {
    return InstanceParams.newBuilder()
        .addAllNodeIds(NodeId.strings(nodeIds))
        .setEpoch(epoch.value())
        .setSeqNr(seqNr.value())
        .setResendPeriodNs(resendPeriod.toNanos())
        .build();
  }

  /** The application's snapshot for checkpoint instance {@code dest}. */
  public static Event appSnapshot(ModuleId dest, ByteString appData) {
    return Event.of(dest, AppSnapshot.newBuilder().setAppData(appData).build());
  }

  /** Asks the application (via {@code app}) for a snapshot to be sent to {@code replyTo}. */
  public static Event appSnapshotRequest(ModuleId app, ModuleId replyTo) {
    return Event.of(app, AppSnapshotRequest.newBuilder().setReplyTo(replyTo.value()).build());
  }

  /** The epoch configuration for checkpoint instance {@code dest} (from ISS). */
  public static Event epochConfig(ModuleId dest, EpochConfig config) {
    return Event.of(dest, config);
  }

  /** The client progress for checkpoint instance {@code dest} (from the batch fetcher). */
  public static Event clientProgress(ModuleId dest, ClientProgress progress) {
    return Event.of(dest, progress);
  }

  /** A stable checkpoint, for {@code dest} (ISS). */
  public static Event stableCheckpoint(ModuleId dest, StableCheckpoint checkpoint) {
    return Event.of(dest, checkpoint);
  }

  /** Node {@code node} was seen in epoch {@code epoch}; for {@code dest} (ISS). */
  public static Event epochProgress(ModuleId dest, NodeId node, EpochNr epoch) {
    return Event.of(
        dest, EpochProgress.newBuilder().setNodeId(node.value()).setEpoch(epoch.value()).build());
  }

  /** A node's signed checkpoint message. */
  public static Checkpoint checkpointMessage(
      EpochNr epoch, SeqNr sn, ByteString snapshotHash, ByteString signature) {
    return Checkpoint.newBuilder()
        .setEpoch(epoch.value())
        .setSn(sn.value())
        .setSnapshotHash(snapshotHash)
        .setSignature(signature)
        .build();
  }

  /**
   * Prototypes of all event and message payload types of the checkpoint protocol, for registration
   * with a {@code PayloadRegistry}.
   */
  public static List<Message> payloadTypes() {
    return List.of(
        AppSnapshot.getDefaultInstance(),
        AppSnapshotRequest.getDefaultInstance(),
        EpochConfig.getDefaultInstance(),
        ClientProgress.getDefaultInstance(),
        StableCheckpoint.getDefaultInstance(),
        EpochProgress.getDefaultInstance(),
        InstanceParams.getDefaultInstance(),
        Checkpoint.getDefaultInstance());
  }
}
