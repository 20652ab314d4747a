package io.github.mirframework.iss;

import com.google.protobuf.ByteString;
import io.github.mirframework.availability.pb.Cert;
import io.github.mirframework.checkpoint.CheckpointEvents;
import io.github.mirframework.checkpoint.pb.AppSnapshotRequest;
import io.github.mirframework.checkpoint.pb.ClientProgress;
import io.github.mirframework.checkpoint.pb.Membership;
import io.github.mirframework.checkpoint.pb.StableCheckpoint;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.iss.pb.AppRestoreState;
import io.github.mirframework.iss.pb.DeliverCert;
import io.github.mirframework.iss.pb.NewEpoch;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.types.EpochNr;
import io.github.mirframework.types.LittleEndian;
import io.github.mirframework.types.ModuleId;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.function.LongFunction;

/**
 * A stand-in for the batch fetcher and the application behind it: records every delivered
 * certificate, answers {@code NewEpoch} with a {@code NewConfig} (by default of the same
 * membership) and snapshot requests with the number of delivered certificates (8 bytes LE) and
 * empty client progress, and restores that number from a checkpoint.
 */
final class FakeIssApp implements PassiveModule {
  final LongFunction<Membership> membership;

  /** Delivered certificates by sn, since the last state restoration. */
  final TreeMap<Long, Cert> delivered = new TreeMap<>();

  final List<String> problems = new ArrayList<>();
  final List<Long> epochs = new ArrayList<>();
  final List<Long> stableCheckpoints = new ArrayList<>();
  final List<Long> restoredAt = new ArrayList<>();
  long nextSn;

  FakeIssApp(Membership membership) {
    this(e -> membership);
  }

  /** An application that announces {@code membership.apply(e)} when epoch e starts. */
  FakeIssApp(LongFunction<Membership> membership) {
    this.membership = membership;
  }

  @Override
  public EventList applyEvents(EventList events) {
    EventList out = EventList.empty();
    for (Event e : events) {
      switch (e.payload()) {
        case DeliverCert d -> {
          if (d.getSn() != nextSn) {
            problems.add("delivered sn " + d.getSn() + ", expected " + nextSn);
          }
          if (delivered.put(d.getSn(), d.getCert()) != null) {
            problems.add("sn " + d.getSn() + " delivered twice");
          }
          nextSn = d.getSn() + 1;
        }
        case NewEpoch ne -> {
          epochs.add(ne.getEpochNr());
          out.add(
              IssEvents.newConfig(
                  Iss.DEFAULT_ID, EpochNr.of(ne.getEpochNr()), membership.apply(ne.getEpochNr())));
        }
        case AppSnapshotRequest r -> {
          ModuleId dest = ModuleId.of(r.getReplyTo());
          out.add(
              CheckpointEvents.appSnapshot(dest, ByteString.copyFrom(LittleEndian.u64(nextSn))));
          out.add(CheckpointEvents.clientProgress(dest, ClientProgress.getDefaultInstance()));
        }
        case StableCheckpoint sc -> stableCheckpoints.add(sc.getSn());
        case AppRestoreState rs -> {
          ByteString data = rs.getCheckpoint().getSnapshot().getAppData();
          long restored = data.size() == 8 ? LittleEndian.u64(data.toByteArray()) : 0;
          if (restored != rs.getCheckpoint().getSn()) {
            problems.add("restored " + restored + " at sn " + rs.getCheckpoint().getSn());
          }
          restoredAt.add(rs.getCheckpoint().getSn());
          nextSn = rs.getCheckpoint().getSn();
        }
        case io.github.mirframework.event.pb.Init i -> {}
        default -> throw new IllegalArgumentException("unexpected " + e.typeName());
      }
    }
    return out;
  }
}
