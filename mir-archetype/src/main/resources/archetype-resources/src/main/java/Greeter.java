package ${package};

import ${package}.pb.AllGreeted;
import ${package}.pb.Hello;
import io.github.mirframework.dsl.DslModule;
import io.github.mirframework.event.EventList;
import io.github.mirframework.module.PassiveModule;
import io.github.mirframework.types.ModuleId;
import io.github.mirframework.types.NodeId;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A starting point: at start-up every node greets all members; when a node has been greeted by
 * every member, it tells its consumer module once. Replace it with your protocol.
 *
 * <p>Not thread-safe: a passive module, called by one thread at a time.
 */
public final class Greeter implements PassiveModule {
  public static final int MAX_TEXT_CHARS = 256;

  private final DslModule dsl;
  private final Set<NodeId> greetedBy = new LinkedHashSet<>();
  private boolean reported;

  /**
   * @param self this module's ID
   * @param net the transport module
   * @param consumer the module that gets {@link AllGreeted}
   * @param members every node, this one included
   * @param me this node
   */
  public Greeter(ModuleId self, ModuleId net, ModuleId consumer, List<NodeId> members, NodeId me) {
    dsl = new DslModule(self, net);
    dsl.uponInit(
        () -> dsl.sendMessage(Hello.newBuilder().setText("hello from " + me).build(), members));
    // Messages from non-members never reach the handler; they are counted as dropped.
    dsl.uponMemberMessage(
        Hello.class,
        members,
        (from, hello) -> {
          if (hello.getText().length() > MAX_TEXT_CHARS) {
            dsl.reject(from, hello, "text too long");
          } else if (!greetedBy.add(from)) {
            dsl.reject(from, hello, "greeted twice");
          }
        });
    dsl.uponCondition(
        () -> {
          if (!reported && greetedBy.size() == members.size()) {
            reported = true;
            AllGreeted.Builder done = AllGreeted.newBuilder();
            greetedBy.forEach(n -> done.addMembers(n.value()));
            dsl.emit(consumer, done.build());
          }
        });
  }

  @Override
  public EventList applyEvents(EventList events) throws Exception {
    return dsl.applyEvents(events);
  }

  /**
   * Takes messages from peers. A module gets network input only if it says so: the node drops
   * peer messages addressed to any other module.
   */
  @Override
  public boolean receivesMessages() {
    return true;
  }

  /** Messages dropped as invalid or duplicate. */
  public long droppedMessages() {
    return dsl.droppedMessages();
  }

  /** The members that greeted this node. */
  public Set<NodeId> greetedBy() {
    return Set.copyOf(greetedBy);
  }
}
