package io.github.mirframework.samples.pingpong;

import io.github.mirframework.dsl.DslModule;
import io.github.mirframework.event.Event;
import io.github.mirframework.event.EventList;
import io.github.mirframework.event.Events;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.samples.pingpong.pb.Ping;
import io.github.mirframework.samples.pingpong.pb.PingTime;
import io.github.mirframework.samples.pingpong.pb.Pong;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import io.github.mirframework.types.RetentionIndex;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Mir's pingpong sample as a DSL module: node "0" and node "1" each send the other a numbered ping
 * every period; each answers a ping with a pong carrying the same number. What happens is reported
 * to a listener.
 */
public final class PingPong implements PassiveModule {

  /**
   * IDs of the modules pingpong talks to.
   *
   * @param self this module ("pingpong")
   * @param net the transport ("net")
   * @param timer the timer ("timer")
   */
  public record Config(ModuleId self, ModuleId net, ModuleId timer) {
    /** Mir's IDs. */
    public static Config defaults() {
      return new Config(ModuleId.of("pingpong"), ModuleId.of("net"), ModuleId.of("timer"));
    }
  }

  /**
   * What a node observed.
   *
   * @param kind "ping" or "pong"
   * @param from the sender
   * @param seqNr the number carried
   */
  public record Observation(String kind, NodeId from, long seqNr) {
    @Override
    public String toString() {
      return "Received " + kind + " from " + from + ": " + seqNr;
    }
  }

  private final DslModule dsl;
  private long nextSn;

  /**
   * Creates the module of node {@code self} (which must be "0" or "1"), pinging every {@code
   * period}.
   *
   * @param listener told of every ping and pong received
   */
  public PingPong(Config config, NodeId self, Duration period, Consumer<Observation> listener) {
    Objects.requireNonNull(listener, "listener");
    if (!self.equals(NodeId.of("0")) && !self.equals(NodeId.of("1"))) {
      throw new IllegalArgumentException("pingpong runs on nodes 0 and 1, not " + self);
    }
    if (period.isNegative() || period.isZero()) {
      throw new IllegalArgumentException("period must be positive, got " + period);
    }
    NodeId peer = self.equals(NodeId.of("0")) ? NodeId.of("1") : NodeId.of("0");
    dsl = new DslModule(config.self());

    // upon Init: start a repeating timer that asks for a ping every period
    dsl.uponInit(
        () -> {
          nextSn = 0;
          dsl.emit(
              Events.timerRepeat(
                  config.timer(),
                  List.of(Event.of(config.self(), PingTime.getDefaultInstance())),
                  period,
                  RetentionIndex.ZERO));
        });

    // upon PingTime: send <PING, sn> to the peer; sn := sn + 1
    dsl.upon(
        PingTime.class,
        t ->
            dsl.sendMessage(
                config.net(),
                config.self(),
                Ping.newBuilder().setSeqNr(nextSn++).build(),
                List.of(peer)));

    // upon receiving <PING, sn> from q: send <PONG, sn> to q
    dsl.uponMessage(
        Ping.class,
        (from, ping) -> {
          listener.accept(new Observation("ping", from, ping.getSeqNr()));
          dsl.sendMessage(
              config.net(),
              config.self(),
              Pong.newBuilder().setSeqNr(ping.getSeqNr()).build(),
              List.of(from));
        });

    // upon receiving <PONG, sn> from q: report it
    dsl.uponMessage(
        Pong.class,
        (from, pong) -> listener.accept(new Observation("pong", from, pong.getSeqNr())));
  }

  /** Takes pings and pongs from the other node. */
  @Override
  public boolean receivesMessages() {
    return true;
  }

  @Override
  public EventList applyEvents(EventList events) throws Exception {
    return dsl.applyEvents(events);
  }
}
