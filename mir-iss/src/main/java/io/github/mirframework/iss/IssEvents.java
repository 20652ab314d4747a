package io.github.mirframework.iss;

import com.google.protobuf.Message;
import io.github.mirframework.availability.pb.Cert;
import io.github.mirframework.checkpoint.pb.Membership;
import io.github.mirframework.checkpoint.pb.StableCheckpoint;
import io.github.mirframework.event.Event;
import io.github.mirframework.iss.pb.AppRestoreState;
import io.github.mirframework.iss.pb.CheckpointHashOrigin;
import io.github.mirframework.iss.pb.CheckpointSigVerOrigin;
import io.github.mirframework.iss.pb.DeliverCert;
import io.github.mirframework.iss.pb.LogEntryHashOrigin;
import io.github.mirframework.iss.pb.NewConfig;
import io.github.mirframework.iss.pb.NewEpoch;
import io.github.mirframework.iss.pb.PersistedCheckpoint;
import io.github.mirframework.iss.pb.PushCheckpoint;
import io.github.mirframework.iss.pb.SbEvent;
import io.github.mirframework.iss.pb.SbHashOrigin;
import io.github.mirframework.iss.pb.SbMessage;
import io.github.mirframework.iss.pb.SbSigVerOrigin;
import io.github.mirframework.iss.pb.SbSignOrigin;
import io.github.mirframework.iss.pb.StableCheckpointMessage;
import io.github.mirframework.iss.pbft.pb.PbftEvent;
import io.github.mirframework.iss.pbft.pb.PbftMessage;
import io.github.mirframework.types.EpochNr;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.SeqNr;
import java.util.List;

/**
 * Factories for the events ISS exchanges with the application side and for ISS's own messages.
 * Stateless.
 */
public final class IssEvents {
  private IssEvents() {}

  /** The certificate ordered at {@code sn}, for {@code app} (empty for an aborted sn). */
  public static Event deliverCert(ModuleId app, SeqNr sn, Cert cert) {
    return Event.of(app, DeliverCert.newBuilder().setSn(sn.value()).setCert(cert).build());
  }

  /** ISS entered {@code epoch}; for {@code app}. */
  public static Event newEpoch(ModuleId app, EpochNr epoch) {
    return Event.of(app, NewEpoch.newBuilder().setEpochNr(epoch.value()).build());
  }

  /** The application's membership decided in {@code epoch}, for ISS ({@code iss}). */
  public static Event newConfig(ModuleId iss, EpochNr epoch, Membership membership) {
    return Event.of(
        iss, NewConfig.newBuilder().setEpochNr(epoch.value()).setMembership(membership).build());
  }

  /** Restore the application's state from {@code checkpoint}; for {@code app}. */
  public static Event appRestoreState(ModuleId app, StableCheckpoint checkpoint) {
    return Event.of(app, AppRestoreState.newBuilder().setCheckpoint(checkpoint).build());
  }

  /** A message for orderer {@code instance} of {@code epoch}. */
  public static SbMessage sbMessage(long epoch, long instance, PbftMessage msg) {
    return SbMessage.newBuilder().setEpoch(epoch).setInstance(instance).setMsg(msg).build();
  }

  /** An event of orderer {@code instance} of {@code epoch}, for {@code iss}. */
  public static Event sbEvent(ModuleId iss, long epoch, long instance, PbftEvent event) {
    return Event.of(
        iss, SbEvent.newBuilder().setEpoch(epoch).setInstance(instance).setEvent(event).build());
  }

  /**
   * Prototypes of all event and message payload types of ISS, for registration with a {@code
   * PayloadRegistry}.
   */
  public static List<Message> payloadTypes() {
    return List.of(
        SbMessage.getDefaultInstance(),
        StableCheckpointMessage.getDefaultInstance(),
        SbEvent.getDefaultInstance(),
        PushCheckpoint.getDefaultInstance(),
        PersistedCheckpoint.getDefaultInstance(),
        SbHashOrigin.getDefaultInstance(),
        SbSignOrigin.getDefaultInstance(),
        SbSigVerOrigin.getDefaultInstance(),
        LogEntryHashOrigin.getDefaultInstance(),
        CheckpointHashOrigin.getDefaultInstance(),
        CheckpointSigVerOrigin.getDefaultInstance(),
        DeliverCert.getDefaultInstance(),
        NewEpoch.getDefaultInstance(),
        NewConfig.getDefaultInstance(),
        AppRestoreState.getDefaultInstance());
  }
}
