package io.github.mirframework.iss.pbft;

import com.google.protobuf.ByteString;
import io.github.mirframework.crypto.CryptoEvents;
import io.github.mirframework.crypto.pb.HashData;
import io.github.mirframework.crypto.pb.SigVerItem;
import io.github.mirframework.iss.pbft.pb.CatchUpRequest;
import io.github.mirframework.iss.pbft.pb.Commit;
import io.github.mirframework.iss.pbft.pb.Done;
import io.github.mirframework.iss.pbft.pb.NewView;
import io.github.mirframework.iss.pbft.pb.PSetEntry;
import io.github.mirframework.iss.pbft.pb.PbftEvent;
import io.github.mirframework.iss.pbft.pb.PbftHashOrigin;
import io.github.mirframework.iss.pbft.pb.PbftHashResult;
import io.github.mirframework.iss.pbft.pb.PbftMessage;
import io.github.mirframework.iss.pbft.pb.PbftNodeSigsVerified;
import io.github.mirframework.iss.pbft.pb.PbftSigVerOrigin;
import io.github.mirframework.iss.pbft.pb.PbftSignOrigin;
import io.github.mirframework.iss.pbft.pb.PbftSignResult;
import io.github.mirframework.iss.pbft.pb.Prepare;
import io.github.mirframework.iss.pbft.pb.PrepareEntry;
import io.github.mirframework.iss.pbft.pb.Preprepare;
import io.github.mirframework.iss.pbft.pb.PreprepareRequest;
import io.github.mirframework.iss.pbft.pb.QSetEntry;
import io.github.mirframework.iss.pbft.pb.ReceivedViewChange;
import io.github.mirframework.iss.pbft.pb.SignedViewChange;
import io.github.mirframework.iss.pbft.pb.VcSnTimeout;
import io.github.mirframework.iss.pbft.pb.ViewChange;
import io.github.mirframework.messagebuffer.MessageBuffer;
import io.github.mirframework.messagebuffer.MessageBuffers;
import io.github.mirframework.types.NodeId;
import io.github.mirframework.types.SeqNr;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PBFT orderer of one ISS segment (Mir's {@code pbftInstance}, Castro and Liskov's PBFT adapted
 * to Sequenced Broadcast): it agrees, among the segment's members, on one availability certificate
 * (or an abort) for each of the segment's sequence numbers.
 *
 * <p><b>Model.</b> A plain state machine, not a module: ISS creates one per segment per epoch,
 * feeds it {@link PbftEvent}s with {@link #apply} (its Init, certificates it asked for, messages
 * received from members, hash, signature and verification results, and its own timer events), and
 * the orderer acts only through its {@link OrdererContext}.
 *
 * <p><b>Good case.</b> The segment leader, in view 0, asks for a certificate whenever the proposal
 * timer fired and no request is outstanding, and proposes it for the next free sequence number
 * (Preprepare, persisted first). Every member hashes the Preprepare (digest = H(sn, aborted, cert
 * data), the view excluded), sends a Prepare, after a strong quorum of matching Prepares a Commit,
 * and after a strong quorum of matching Commits delivers the certificate.
 *
 * <p><b>View change.</b> In view v a node changes to v+1 when no slot committed for {@code
 * viewChangeSnTimeout × 2^v} or the segment is not finished after {@code viewChangeSegmentTimeout ×
 * 2^v} (unless the segment is stable). It signs a ViewChange with its P set (latest prepared digest
 * per sequence number) and Q set (latest view each digest was preprepared in) and resends it to the
 * new primary until the view is installed. The new primary collects a strong quorum, decides per
 * sequence number to abort it or re-propose a digest, fetches Preprepares it lacks from nodes that
 * preprepared them, and sends a NewView that every replica checks completely (signatures, that the
 * ViewChanges are for that view, and that each Preprepare is justified by them) before entering the
 * view. After view 0 nothing new is proposed: later views only re-propose or abort.
 *
 * <p><b>Segment checkpoint.</b> A node that committed every slot broadcasts (and periodically
 * resends) Done with the digests of all slots. A weak quorum of identical Done messages lets a
 * lagging node fetch the missing Preprepares (CatchUpRequest/CatchUpResponse, checked against the
 * Done digests); a strong quorum plus its own Done makes the segment stable, ending view changes.
 *
 * <p><b>Untrusted input.</b> Every received message is checked before it causes work: the sender
 * must be a member; sequence numbers must be in the segment; views must not be older than the
 * current one for messages that only matter in it, nor more than {@link #MAX_VIEWS_AHEAD} ahead;
 * digests and signatures must be of sane size; Preprepares must come from the primary of their view
 * (Mir only logged that); ViewChanges must be well-formed and correctly signed (Mir went on after a
 * failed check), NewViews complete and consistent. A correct node never signs badly and a correct
 * primary never sends a bad NewView, so after one invalid ViewChange from a sender for a view, or
 * one invalid NewView for a view, later ones are ignored: each costs a Byzantine node at most one
 * signature check per view. Anything else is logged at debug level, counted in {@link
 * #rejectedMessages()}, and ignored; a Byzantine member never makes {@code apply} throw. Events
 * from the local node (results, timers) are trusted: a malformed one is a bug of the caller and
 * throws {@link IllegalArgumentException}.
 *
 * <p><b>Differences from Mir</b> (besides the validation above): messages for a future view, or for
 * the current view while a view change is in progress, are buffered and re-applied once the view is
 * installed (Mir buffered them and never looked at them again); the "in view change" state is real
 * (Mir cleared the flag right after setting it); a new primary asks for missing Preprepares the
 * nodes that have them except itself (Mir excluded the node called "1"); resending of the
 * ViewChange and Done messages and of catch-up requests goes through the orderer's own timer events
 * (Mir put the send events themselves into the timer), so catch-up requests only name slots still
 * missing; the aborted Preprepares of a NewView are not hashed by the primary (Mir hashed them and
 * never used the result).
 *
 * <p>Not thread-safe: ISS applies events from one thread.
 */
public final class PbftOrderer {
  /** How many views ahead of its own a node accepts messages (and buffers them). */
  public static final long MAX_VIEWS_AHEAD = 32;

  /** Largest accepted signature in a received message, in bytes. */
  public static final int MAX_SIGNATURE_BYTES = 1024;

  /** Above this view, view-change timeouts stop doubling (to stay far from overflow). */
  private static final int MAX_DOUBLINGS = 20;

  private static final Logger LOG = LoggerFactory.getLogger(PbftOrderer.class);

  private final NodeId self;
  private final Segment segment;
  private final PbftParams params;
  private final OrdererContext ctx;
  private final String logPrefix;

  private final Map<NodeId, MessageBuffer<PbftMessage>> buffers;

  // Proposal state (leader only).
  private int proposalsMade;
  private boolean certRequested;
  private long certRequestedView;
  private long proposalTimeout;

  // view -> sn -> slot, for every view this node entered.
  private final TreeMap<Long, TreeMap<SeqNr, Slot>> slots = new TreeMap<>();
  private final SegmentCheckpoint checkpoint;
  private List<ByteString> ownDoneDigests;
  private long view;
  private boolean inViewChange;
  private boolean initialized;

  // Primary side of view changes, per target view.
  private final TreeMap<Long, ViewChanges.State> viewChangeStates = new TreeMap<>();
  // ViewChanges whose signature is being checked, as "view/sender" (one at a time per sender).
  private final Set<String> pendingViewChanges = new HashSet<>();
  // ViewChanges with an invalid signature, as "view/sender": a correct node never sends one, so
  // the sender's later ViewChanges for that view are not checked again (bounds the work).
  private final Set<String> badViewChanges = new HashSet<>();
  // Views whose NewView is being checked.
  private final Set<Long> pendingNewViews = new HashSet<>();
  // Views whose primary sent an invalid NewView: later ones for that view are ignored.
  private final Set<Long> badNewViews = new HashSet<>();
  // This node's signed ViewChange, per target view, for resending.
  private final Map<Long, SignedViewChange> ownViewChanges = new HashMap<>();

  // NewViews this node sent as primary and knows to be persisted (it received them back from
  // itself, or replayed them from the WAL), by view: answered to members still waiting for them,
  // and never replaced by another NewView for the same view.
  private final Map<Long, NewView> persistedNewViews = new HashMap<>();

  // Retransmission: resend ticks so far, and the requests answered since the last tick (as
  // "type/sn/sender"), so that each member gets at most one answer per request kind and slot per
  // resend period, whatever it sends.
  private long tick;
  private final Set<String> answered = new HashSet<>();

  // Whether WAL entries were applied before Init (a restart).
  private boolean restored;

  private long rejected;
  private int delivered;

  /**
   * Creates the orderer of {@code segment} at node {@code self}.
   *
   * @throws IllegalArgumentException if {@code self} is not a member of the segment
   */
  public PbftOrderer(NodeId self, Segment segment, PbftParams params, OrdererContext ctx) {
    this.self = Objects.requireNonNull(self, "self");
    this.segment = Objects.requireNonNull(segment, "segment");
    this.params = Objects.requireNonNull(params, "params");
    this.ctx = Objects.requireNonNull(ctx, "ctx");
    if (!segment.membership().contains(self)) {
      throw new IllegalArgumentException(
          "node " + self + " is not a member of the segment " + segment.membership());
    }
    this.logPrefix = "pbft[" + self + " e" + segment.epoch() + " i" + segment.instance() + "]";
    this.buffers = MessageBuffers.split(segment.membership(), params.msgBufCapacity());
    this.checkpoint = new SegmentCheckpoint(segment);
    createSlots(0);
  }

  // ---------------------------------------------------------------------------------------------
  // Accessors

  /** The segment this orderer orders. */
  public Segment segment() {
    return segment;
  }

  /** The current view. */
  public long view() {
    return view;
  }

  /**
   * Whether this node started a view change to {@link #view()} and waits for its NewView (messages
   * of that view are buffered meanwhile).
   */
  public boolean inViewChange() {
    return inViewChange;
  }

  /** Whether every slot is committed here and a strong quorum reported the same outcome. */
  public boolean isStable() {
    return checkpoint.stable();
  }

  /** How many sequence numbers this orderer delivered. */
  public int deliveredCount() {
    return delivered;
  }

  /** How many received messages (or their verification results) were rejected as invalid. */
  public long rejectedMessages() {
    return rejected;
  }

  // ---------------------------------------------------------------------------------------------
  // Dispatch

  /**
   * Applies one event to the orderer; its reactions go to the {@link OrdererContext}.
   *
   * <p>WAL entries (the {@code persist_*} cases, which the orderer itself appends before it sends
   * the corresponding message) are applied only before Init, when a restarted node replays its WAL,
   * in the order they were appended: they restore what this node proposed, voted for and signed, so
   * that it never sends a message conflicting with one it sent before the crash.
   *
   * @throws IllegalArgumentException if a local event (anything but a received message) is
   *     malformed, including a WAL entry inconsistent with the earlier ones
   * @throws IllegalStateException if Init is applied twice, or a WAL entry after Init
   */
  public void apply(PbftEvent event) {
    switch (event.getTypeCase()) {
      case INIT -> onInit();
      case MESSAGE_RECEIVED ->
          onMessageReceived(
              event.getMessageReceived().getFrom(), event.getMessageReceived().getMsg());
      case CERT_READY -> onCertReady(event.getCertReady().getCertData());
      case HASH_RESULT -> onHashResult(event.getHashResult());
      case SIGN_RESULT -> onSignResult(event.getSignResult());
      case NODE_SIGS_VERIFIED -> onNodeSigsVerified(event.getNodeSigsVerified());
      case PERSIST_PREPREPARE,
          PERSIST_PREPARE,
          PERSIST_COMMIT,
          PERSIST_SIGNED_VIEW_CHANGE,
          PERSIST_NEW_VIEW ->
          restore(event);
      case PROPOSE_TIMEOUT -> onProposeTimeout(event.getProposeTimeout());
      case VIEW_CHANGE_SN_TIMEOUT -> onViewChangeSnTimeout(event.getViewChangeSnTimeout());
      case VIEW_CHANGE_SEG_TIMEOUT -> onViewChangeSegmentTimeout(event.getViewChangeSegTimeout());
      case RESEND_VIEW_CHANGE -> onResendViewChange(event.getResendViewChange());
      case RESEND_DONE -> onResendDone();
      case CATCH_UP_START -> onCatchUpStart();
      case CATCH_UP_TICK -> sendCatchUpRequests();
      case RESEND_TICK -> onResendTick();
      case TYPE_NOT_SET -> throw new IllegalArgumentException(logPrefix + ": empty PbftEvent");
    }
  }

  private void onMessageReceived(String fromString, PbftMessage msg) {
    NodeId from = memberOrNull(fromString);
    if (from == null) {
      rejectRaw(fromString, msg.getTypeCase().toString(), "sender is not a member");
      return;
    }
    handleMessage(from, msg);
  }

  private void handleMessage(NodeId from, PbftMessage msg) {
    switch (msg.getTypeCase()) {
      case PREPREPARE -> onPreprepare(msg.getPreprepare(), from, msg);
      case PREPARE -> onPrepare(msg.getPrepare(), from, msg);
      case COMMIT -> onCommit(msg.getCommit(), from, msg);
      case SIGNED_VIEW_CHANGE -> onSignedViewChange(msg.getSignedViewChange(), from);
      case PREPREPARE_REQUEST -> onPreprepareRequest(msg.getPreprepareRequest(), from);
      case MISSING_PREPREPARE -> onMissingPreprepare(msg.getMissingPreprepare(), from);
      case NEW_VIEW -> onNewView(msg.getNewView(), from);
      case DONE -> onDone(msg.getDone(), from);
      case CATCH_UP_REQUEST -> onCatchUpRequest(msg.getCatchUpRequest(), from);
      case CATCH_UP_RESPONSE -> onCatchUpResponse(msg.getCatchUpResponse(), from);
      case TYPE_NOT_SET -> reject(from, "message", "no message type set");
    }
  }

  private void onHashResult(PbftHashResult r) {
    PbftHashOrigin origin = r.getOrigin();
    switch (origin.getTypeCase()) {
      case PREPREPARE -> onPreprepareHashed(single(r), origin.getPreprepare());
      case MISSING_PREPREPARE ->
          onMissingPreprepareHashed(single(r), origin.getMissingPreprepare());
      case NEW_VIEW -> onNewViewHashed(r.getDigestsList(), origin.getNewView());
      case CATCH_UP_RESPONSE -> onCatchUpResponseHashed(single(r), origin.getCatchUpResponse());
      case TYPE_NOT_SET ->
          throw new IllegalArgumentException(logPrefix + ": hash result without origin");
    }
  }

  private ByteString single(PbftHashResult r) {
    if (r.getDigestsCount() != 1) {
      throw new IllegalArgumentException(
          logPrefix + ": expected 1 digest, got " + r.getDigestsCount());
    }
    return r.getDigests(0);
  }

  private void onSignResult(PbftSignResult r) {
    if (r.getOrigin().getTypeCase() != PbftSignOrigin.TypeCase.VIEW_CHANGE) {
      throw new IllegalArgumentException(logPrefix + ": sign result without origin");
    }
    onViewChangeSigned(r.getSignature(), r.getOrigin().getViewChange());
  }

  private void onNodeSigsVerified(PbftNodeSigsVerified r) {
    PbftSigVerOrigin origin = r.getOrigin();
    boolean allOk = r.getAllOk();
    for (boolean v : r.getValidList()) {
      allOk &= v;
    }
    switch (origin.getTypeCase()) {
      case SIGNED_VIEW_CHANGE -> onViewChangeVerified(origin.getSignedViewChange(), allOk, r);
      case NEW_VIEW -> onNewViewVerified(origin.getNewView(), allOk, r);
      case TYPE_NOT_SET ->
          throw new IllegalArgumentException(logPrefix + ": verification result without origin");
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Views

  private void createSlots(long v) {
    TreeMap<SeqNr, Slot> previous = slots.isEmpty() ? null : slots.get(view);
    TreeMap<SeqNr, Slot> fresh = new TreeMap<>();
    for (SeqNr sn : segment.seqNrs()) {
      fresh.put(sn, Slot.carriedOver(previous == null ? null : previous.get(sn), v));
    }
    slots.put(v, fresh);
  }

  private TreeMap<SeqNr, Slot> currentSlots() {
    return slots.get(view);
  }

  /** Starts view {@code v} (> the current one, or 0 at Init): new slots and view-change timers. */
  private void initView(long v) {
    if (v != 0 && v <= view) {
      throw new IllegalStateException(logPrefix + ": cannot start view " + v + " in view " + view);
    }
    LOG.debug("{}: initializing view {}", logPrefix, v);
    if (v != 0) {
      createSlots(v);
    }
    view = v;
    viewChangeStates.headMap(v).clear();
    armViewChangeTimers(v);
  }

  private void armViewChangeTimers(long v) {
    ctx.timerDelay(
        timeout(params.viewChangeSnTimeout(), v),
        PbftEvent.newBuilder()
            .setViewChangeSnTimeout(
                VcSnTimeout.newBuilder().setView(v).setNumCommitted(numCommitted()))
            .build());
    ctx.timerDelay(
        timeout(params.viewChangeSegmentTimeout(), v),
        PbftEvent.newBuilder().setViewChangeSegTimeout(v).build());
  }

  static Duration timeout(Duration base, long view) {
    return base.multipliedBy(1L << Math.min(view, MAX_DOUBLINGS));
  }

  private int numCommitted() {
    int n = 0;
    for (Slot s : currentSlots().values()) {
      n += s.committed ? 1 : 0;
    }
    return n;
  }

  private boolean allCommitted() {
    return numCommitted() == segment.seqNrs().size();
  }

  // ---------------------------------------------------------------------------------------------
  // Good case

  // upon event <Init> do initView(0); start the proposal timer
  // (after a restart: resume the restored view, resend what was persisted)
  private void onInit() {
    if (initialized) {
      throw new IllegalStateException(logPrefix + ": initialized twice");
    }
    initialized = true;
    if (!restored) {
      initView(0);
      ctx.timerDelay(params.maxProposeDelay(), PbftEvent.newBuilder().setProposeTimeout(1).build());
    } else {
      resumeAfterRestart();
    }
    ctx.timerRepeat(params.voteResendPeriod(), PbftEvent.newBuilder().setResendTick(true).build());
  }

  // ---------------------------------------------------------------------------------------------
  // Crash recovery: WAL entries replayed before Init

  private void restore(PbftEvent entry) {
    if (initialized) {
      throw new IllegalStateException(
          logPrefix + ": WAL entry " + entry.getTypeCase() + " applied after Init");
    }
    restored = true;
    switch (entry.getTypeCase()) {
      case PERSIST_PREPREPARE -> restoreProposal(entry.getPersistPreprepare());
      case PERSIST_PREPARE -> restorePrepare(entry.getPersistPrepare());
      case PERSIST_COMMIT -> restoreCommit(entry.getPersistCommit());
      case PERSIST_SIGNED_VIEW_CHANGE -> restoreViewChange(entry.getPersistSignedViewChange());
      case PERSIST_NEW_VIEW -> restoreNewView(entry.getPersistNewView());
      default -> throw new IllegalArgumentException(logPrefix + ": not a WAL entry");
    }
  }

  /**
   * The slot of {@code sn} in view {@code v} while replaying: a view above the current one becomes
   * the current one (this node had entered it, or started changing to it).
   */
  private Slot restoredSlot(long v, long sn, String what) {
    if (!segment.containsRaw(sn) || v < 0) {
      throw new IllegalArgumentException(
          logPrefix + ": WAL entry " + what + " for sn " + sn + " view " + v + " is not ours");
    }
    if (v > view) {
      createSlots(v);
      view = v;
      inViewChange = false;
    }
    TreeMap<SeqNr, Slot> viewSlots = slots.get(v);
    if (viewSlots == null) {
      // A view below the current one that this node skipped (no entry made it the current one).
      viewSlots = new TreeMap<>();
      for (SeqNr s : segment.seqNrs()) {
        viewSlots.put(s, new Slot());
      }
      slots.put(v, viewSlots);
    }
    return viewSlots.get(SeqNr.of(sn));
  }

  // This node, leader of the segment, proposed pp in view 0.
  private void restoreProposal(Preprepare pp) {
    if (pp.getView() != 0 || !self.equals(segment.leader())) {
      throw new IllegalArgumentException(logPrefix + ": WAL holds a proposal of another node");
    }
    Slot slot = restoredSlot(0, pp.getSn(), "Preprepare");
    if (slot.preprepare == null) {
      slot.preprepare = pp;
    }
    slot.ownPreprepare = true;
    int index = Collections.binarySearch(segment.seqNrs(), SeqNr.of(pp.getSn()));
    proposalsMade = Math.max(proposalsMade, index + 1);
  }

  // This node preprepared pp with digest d and sent <Prepare | sn, v, d>.
  private void restorePrepare(PrepareEntry e) {
    Preprepare pp = e.getPreprepare();
    Slot slot = restoredSlot(pp.getView(), pp.getSn(), "Prepare");
    if (slot.preprepared && !slot.digest.equals(e.getDigest())) {
      throw new IllegalArgumentException(
          logPrefix + ": WAL holds two Prepares for sn " + pp.getSn() + " in view " + pp.getView());
    }
    slot.preprepare = pp;
    slot.digest = e.getDigest();
    slot.preprepared = true;
    slot.prepares.put(self, e.getDigest());
    // Persisted as this node's own proposal (the Preprepare entry, or its NewView) if it is the
    // primary of that view: a correct primary prepares only its own Preprepares.
    slot.ownPreprepare = self.equals(segment.primary(pp.getView()));
  }

  // This node prepared (sn, v, d) and sent <Commit | sn, v, d>.
  private void restoreCommit(Commit c) {
    Slot slot = restoredSlot(c.getView(), c.getSn(), "Commit");
    if (!slot.preprepared || !slot.digest.equals(c.getDigest())) {
      throw new IllegalArgumentException(
          logPrefix + ": WAL holds a Commit for sn " + c.getSn() + " without its Prepare");
    }
    slot.prepared = true;
    slot.commits.put(self, c.getDigest());
  }

  // This node signed and sent a ViewChange to view v.
  private void restoreViewChange(SignedViewChange svc) {
    long v = svc.getViewChange().getView();
    if (v > view) {
      createSlots(v);
      view = v;
      inViewChange = true;
    }
    ownViewChanges.put(v, svc);
  }

  // This node, primary of v, sent the NewView nv: it enters v as soon as it restarts.
  private void restoreNewView(NewView nv) {
    long v = nv.getView();
    if (!self.equals(segment.primary(v))) {
      throw new IllegalArgumentException(logPrefix + ": WAL holds a NewView of another node");
    }
    persistedNewViews.put(v, nv);
    if (v > view || (v == view && inViewChange)) {
      if (v > view) {
        createSlots(v);
        view = v;
      }
      inViewChange = false;
    }
  }

  /**
   * Init after WAL replay: rearms the timers of the restored view, resends the persisted ViewChange
   * (the persisted votes follow with the resend tick), re-applies the own NewView and re-hashes own
   * proposals not yet preprepared, and lets a leader go on proposing after its last persisted
   * proposal.
   */
  private void resumeAfterRestart() {
    LOG.info("{}: resuming after a restart in view {}", logPrefix, view);
    armViewChangeTimers(view);
    if (inViewChange) {
      SignedViewChange svc = ownViewChanges.get(view);
      if (svc != null) {
        onResendViewChange(view);
        ctx.timerRepeat(
            params.viewChangeResendPeriod(),
            PbftEvent.newBuilder().setResendViewChange(view).build());
      }
      return;
    }
    NewView nv = persistedNewViews.get(view);
    if (nv != null) {
      for (Preprepare pp : nv.getPrepreparesList()) {
        onPreprepare(pp, self, PbftMessage.newBuilder().setPreprepare(pp).build());
      }
    }
    for (Slot slot : currentSlots().values()) {
      if (slot.preprepare != null && !slot.preprepared && slot.preprepare.getView() == view) {
        ctx.hashRequest(
            List.of(PbftData.preprepareHashData(slot.preprepare)),
            PbftHashOrigin.newBuilder().setPreprepare(slot.preprepare).build());
      }
    }
    // The persisted votes go out again with the resend tick, one period from now (not all at
    // once here: a restart from a long WAL stays fast).
    if (self.equals(segment.leader()) && view == 0) {
      ctx.timerDelay(
          params.maxProposeDelay(),
          PbftEvent.newBuilder().setProposeTimeout(proposalsMade + 1L).build());
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Retransmission

  // upon resend tick: resend own votes at least one period old; re-request missing Preprepares
  private void onResendTick() {
    tick++;
    answered.clear();
    resendVotes();
    Map.Entry<Long, ViewChanges.State> pending = latestPendingState();
    if (pending != null && pending.getKey() == view) {
      requestMissingPreprepares(pending.getValue());
    }
  }

  /**
   * Resends this node's Preprepare (as primary), Prepare and Commit of the current view for every
   * slot, unless the segment is stable here. Only messages this node knows to be persisted are
   * resent: those it received back from itself (it sends each of them to itself too, as a follow-up
   * of its WAL append) or replayed from its WAL. The Preprepare and Prepare go only to members
   * whose Commit for the slot has not arrived (a node that committed has them); the Commit goes to
   * every other member: only this node's Done tells that they no longer need it.
   */
  private void resendVotes() {
    if (!initialized || inViewChange || checkpoint.stable()) {
      return;
    }
    boolean primary = self.equals(segment.primary(view));
    for (Map.Entry<SeqNr, Slot> e : currentSlots().entrySet()) {
      SeqNr sn = e.getKey();
      Slot slot = e.getValue();
      if (slot.sentTick > tick - 2) {
        continue;
      }
      List<NodeId> others = new ArrayList<>(segment.n() - 1);
      List<NodeId> uncommitted = new ArrayList<>(segment.n() - 1);
      for (NodeId p : segment.membership()) {
        if (!p.equals(self)) {
          others.add(p);
          if (!slot.commits.containsKey(p)) {
            uncommitted.add(p);
          }
        }
      }
      boolean sent = false;
      if (primary && slot.ownPreprepare && !uncommitted.isEmpty()) {
        ctx.sendMessage(
            PbftMessage.newBuilder().setPreprepare(slot.preprepare).build(), uncommitted);
        sent = true;
      }
      ByteString prepared = slot.prepares.get(self);
      if (prepared != null && !uncommitted.isEmpty()) {
        ctx.sendMessage(
            PbftMessage.newBuilder()
                .setPrepare(
                    Prepare.newBuilder().setSn(sn.value()).setView(view).setDigest(prepared))
                .build(),
            uncommitted);
        sent = true;
      }
      ByteString committed = slot.commits.get(self);
      if (committed != null && !others.isEmpty()) {
        ctx.sendMessage(
            PbftMessage.newBuilder()
                .setCommit(Commit.newBuilder().setSn(sn.value()).setView(view).setDigest(committed))
                .build(),
            others);
        sent = true;
      }
      if (sent) {
        slot.sentTick = tick;
      }
    }
  }

  /**
   * Whether a request of kind {@code kind} for {@code sn} from {@code from} may be answered now: at
   * most once per resend period, so that a Byzantine member cannot make this node send more than
   * one answer per slot and period, however many requests it sends.
   */
  private boolean mayAnswer(String kind, long sn, NodeId from) {
    if (answered.add(kind + "/" + sn + "/" + from.value())) {
      return true;
    }
    LOG.debug(
        "{}: already answered {} for sn {} from {} in this period", logPrefix, kind, sn, from);
    return false;
  }

  // upon proposal timeout k: if k is new and the leader can propose, request a certificate
  private void onProposeTimeout(long numProposals) {
    if (numProposals > proposalTimeout) {
      proposalTimeout = numProposals;
      if (canPropose()) {
        certRequested = true;
        certRequestedView = view;
        ctx.requestCert();
      }
    }
  }

  private boolean canPropose() {
    return self.equals(segment.leader())
        && view == 0
        && !inViewChange
        && !certRequested
        && proposalsMade < segment.seqNrs().size()
        && proposalTimeout > proposalsMade
        && nextProposalSlotFree();
  }

  /**
   * Whether the slot of the next proposal has no Preprepare yet: a leader that restarted or lagged
   * behind may have learned the slot's outcome by catch-up meanwhile (Mir proposed anyway).
   */
  private boolean nextProposalSlotFree() {
    Slot next = currentSlots().get(segment.seqNrs().get(proposalsMade));
    return next.preprepare == null && !next.committed;
  }

  // upon certificate c ready: if still in the view it was requested in, Preprepare(next sn, c)
  private void onCertReady(ByteString certData) {
    if (!certRequested) {
      LOG.warn("{}: ignoring a certificate that was not requested", logPrefix);
      return;
    }
    certRequested = false;
    if (certRequestedView != view || inViewChange || !nextProposalSlotFree()) {
      // The view moved on (the sequence number stays free and the next view change aborts it),
      // or the slot was decided by catch-up meanwhile.
      LOG.debug("{}: dropping a certificate requested in view {}", logPrefix, certRequestedView);
      return;
    }
    SeqNr sn = segment.seqNrs().get(proposalsMade);
    proposalsMade++;
    long nextTimeout = proposalsMade + 1L;
    Preprepare pp =
        Preprepare.newBuilder()
            .setSn(sn.value())
            .setView(view)
            .setCertData(certData)
            .setAborted(false)
            .build();
    LOG.debug("{}: proposing sn {}", logPrefix, sn);
    ctx.proposed(sn);
    ctx.walAppend(
        PbftEvent.newBuilder().setPersistPreprepare(pp).build(),
        c -> {
          c.sendMessage(PbftMessage.newBuilder().setPreprepare(pp).build(), segment.membership());
          c.timerDelay(
              params.maxProposeDelay(),
              PbftEvent.newBuilder().setProposeTimeout(nextTimeout).build());
        });
  }

  /**
   * Checks the view and sequence number of a Preprepare, Prepare or Commit. Returns the slot of the
   * current view it concerns, or null if it must not be processed now (it may have been buffered).
   */
  private Slot preprocess(long sn, long msgView, PbftMessage msg, NodeId from, String type) {
    if (!segment.containsRaw(sn)) {
      reject(from, type, "sn " + Long.toUnsignedString(sn) + " is not in the segment");
      return null;
    }
    if (msgView < 0 || msgView > view + MAX_VIEWS_AHEAD) {
      reject(from, type, "view " + Long.toUnsignedString(msgView) + " is too far ahead");
      return null;
    }
    if (msgView < view) {
      LOG.debug("{}: ignoring {} of old view {} from {}", logPrefix, type, msgView, from);
      return null;
    }
    if (msgView > view || inViewChange) {
      LOG.debug("{}: buffering {} of view {} from {}", logPrefix, type, msgView, from);
      buffers.get(from).store(msg);
      return null;
    }
    // Committed slots are returned too: this node still votes for them in later views (see
    // onPreprepare), it just never delivers them again.
    return currentSlots().get(SeqNr.of(sn));
  }

  // upon <Preprepare | sn, v, c> from the primary of v do store it; hash it
  private void onPreprepare(Preprepare pp, NodeId from, PbftMessage msg) {
    if (pp.getView() >= 0 && !from.equals(segment.primary(pp.getView()))) {
      reject(from, "Preprepare", "sender is not the primary of view " + pp.getView());
      return;
    }
    if (pp.getAborted() && !pp.getCertData().isEmpty()) {
      reject(from, "Preprepare", "aborted but carries certificate data");
      return;
    }
    Slot slot = preprocess(pp.getSn(), pp.getView(), msg, from, "Preprepare");
    if (slot == null) {
      return;
    }
    if (slot.committed && !slot.preprepared) {
      // Committed in an earlier view: the NewView must re-propose the same certificate (same sn,
      // aborted flag and data, hence the same digest). Vote for it so that nodes that did not
      // commit it yet can; Mir ignored such Preprepares, which can leave every node missing a
      // different slot, none of them done, and the segment stuck.
      if (pp.getAborted() != slot.preprepare.getAborted()
          || !pp.getCertData().equals(slot.preprepare.getCertData())) {
        LOG.warn(
            "{}: the NewView re-proposes something else for committed sn {}",
            logPrefix,
            pp.getSn());
        reject(from, "Preprepare", "conflicts with the committed certificate");
        return;
      }
      slot.preprepared = true;
      sendPrepare(SeqNr.of(pp.getSn()), slot);
      advance(slot, SeqNr.of(pp.getSn()));
      return;
    }
    if (slot.preprepare != null) {
      LOG.debug("{}: ignoring a second Preprepare for sn {}", logPrefix, pp.getSn());
      return;
    }
    slot.preprepare = pp;
    // From itself as primary: sent as a follow-up of its WAL append (or from its own NewView).
    slot.ownPreprepare = from.equals(self);
    ctx.hashRequest(
        List.of(PbftData.preprepareHashData(pp)),
        PbftHashOrigin.newBuilder().setPreprepare(pp).build());
  }

  //     upon digest d of the Preprepare: preprepared := true; send <Prepare | sn, v, d> to all
  private void onPreprepareHashed(ByteString digest, Preprepare pp) {
    if (pp.getView() != view) {
      return; // the view moved on while hashing
    }
    SeqNr sn = SeqNr.of(pp.getSn());
    Slot slot = currentSlots().get(sn);
    if (slot.preprepared || slot.committed || !pp.equals(slot.preprepare)) {
      return;
    }
    slot.digest = digest;
    slot.preprepared = true;
    sendPrepare(sn, slot);
    advance(slot, sn);
  }

  private void sendPrepare(SeqNr sn, Slot slot) {
    ByteString digest = slot.digest;
    Prepare prepare =
        Prepare.newBuilder().setSn(sn.value()).setView(view).setDigest(digest).build();
    slot.sentTick = tick;
    Preprepare pp = slot.preprepare;
    ctx.walAppend(
        PbftEvent.newBuilder()
            .setPersistPrepare(PrepareEntry.newBuilder().setPreprepare(pp).setDigest(digest))
            .build(),
        c ->
            c.sendMessage(
                PbftMessage.newBuilder().setPrepare(prepare).build(), segment.membership()));
  }

  // upon <Prepare | sn, v, d> from p do prepares[p] := d; advance
  private void onPrepare(Prepare p, NodeId from, PbftMessage msg) {
    if (!ViewChanges.validDigest(p.getDigest())) {
      reject(from, "Prepare", "malformed digest");
      return;
    }
    Slot slot = preprocess(p.getSn(), p.getView(), msg, from, "Prepare");
    if (slot == null || slot.prepares.containsKey(from)) {
      return;
    }
    slot.prepares.put(from, p.getDigest());
    advance(slot, SeqNr.of(p.getSn()));
  }

  // upon <Commit | sn, v, d> from p do commits[p] := d; advance
  private void onCommit(Commit cm, NodeId from, PbftMessage msg) {
    if (!ViewChanges.validDigest(cm.getDigest())) {
      reject(from, "Commit", "malformed digest");
      return;
    }
    Slot slot = preprocess(cm.getSn(), cm.getView(), msg, from, "Commit");
    if (slot == null || slot.commits.containsKey(from)) {
      return;
    }
    slot.commits.put(from, cm.getDigest());
    advance(slot, SeqNr.of(cm.getSn()));
  }

  // upon preprepared and a strong quorum of Prepares for d: prepared := true; send <Commit | sn, v,
  // d>
  // upon prepared and a strong quorum of Commits for d: committed := true; deliver
  private void advance(Slot slot, SeqNr sn) {
    int q = segment.strongQuorum();
    if (!slot.prepared && slot.checkPrepared(q)) {
      slot.prepared = true;
      slot.sentTick = tick;
      Commit commit =
          Commit.newBuilder().setSn(sn.value()).setView(view).setDigest(slot.digest).build();
      ctx.walAppend(
          PbftEvent.newBuilder().setPersistCommit(commit).build(),
          c ->
              c.sendMessage(
                  PbftMessage.newBuilder().setCommit(commit).build(), segment.membership()));
    }
    if (!slot.committed && slot.checkCommitted(q)) {
      slot.committed = true;
      if (!checkpoint.stable()) {
        // Re-arm the "no new commit" timer (with the base timeout, as Mir).
        ctx.timerDelay(
            params.viewChangeSnTimeout(),
            PbftEvent.newBuilder()
                .setViewChangeSnTimeout(
                    VcSnTimeout.newBuilder().setView(view).setNumCommitted(numCommitted()))
                .build());
      }
      finishCommit(slot, sn);
    }
  }

  private void finishCommit(Slot slot, SeqNr sn) {
    if (allCommitted() && !checkpoint.isDone()) {
      checkpoint.setDone();
      startDone();
    }
    delivered++;
    ctx.deliver(sn, slot.preprepare.getCertData(), slot.preprepare.getAborted());
  }

  // ---------------------------------------------------------------------------------------------
  // View change

  // upon SN timeout (v, k): if still in v, k commits, and not stable: start a view change
  private void onViewChangeSnTimeout(VcSnTimeout t) {
    if (t.getView() == view && t.getNumCommitted() == numCommitted() && !checkpoint.stable()) {
      LOG.info("{}: view change SN timer expired in view {}", logPrefix, view);
      startViewChange("sn_timeout");
    }
  }

  // upon segment timeout v: if still in v and not stable: start a view change
  private void onViewChangeSegmentTimeout(long v) {
    if (v == view && !checkpoint.stable()) {
      LOG.info("{}: view change segment timer expired in view {}", logPrefix, view);
      startViewChange("segment_timeout");
    }
  }

  // start view change: enter v+1 (waiting for its NewView); sign <ViewChange | v+1, P, Q>
  private void startViewChange(String cause) {
    ctx.viewChangeStarted(cause);
    initView(view + 1);
    inViewChange = true;
    ViewChange vc = buildViewChange();
    LOG.info("{}: starting view change to view {}", logPrefix, view);
    ctx.signRequest(
        PbftData.viewChangeSigData(vc), PbftSignOrigin.newBuilder().setViewChange(vc).build());
  }

  private ViewChange buildViewChange() {
    TreeMap<SeqNr, PSetEntry> p = new TreeMap<>();
    Map<SeqNr, Map<ByteString, Long>> q = new HashMap<>();
    for (Map.Entry<Long, TreeMap<SeqNr, Slot>> e : slots.headMap(view).entrySet()) {
      long v = e.getKey();
      for (Map.Entry<SeqNr, Slot> s : e.getValue().entrySet()) {
        Slot slot = s.getValue();
        if (slot.prepared) {
          p.put(
              s.getKey(),
              PSetEntry.newBuilder()
                  .setSn(s.getKey().value())
                  .setView(v)
                  .setDigest(slot.digest)
                  .build());
        }
        if (slot.preprepared) {
          q.computeIfAbsent(s.getKey(), k -> new HashMap<>()).put(slot.digest, v);
        }
      }
    }
    List<PSetEntry> pList = new ArrayList<>(p.values());
    pList.sort(PbftData.P_ORDER);
    List<QSetEntry> qList = new ArrayList<>();
    for (Map.Entry<SeqNr, Map<ByteString, Long>> e : q.entrySet()) {
      for (Map.Entry<ByteString, Long> d : e.getValue().entrySet()) {
        qList.add(
            QSetEntry.newBuilder()
                .setSn(e.getKey().value())
                .setView(d.getValue())
                .setDigest(d.getKey())
                .build());
      }
    }
    qList.sort(PbftData.Q_ORDER);
    return ViewChange.newBuilder().setView(view).addAllPSet(pList).addAllQSet(qList).build();
  }

  //     upon signature σ: persist; send <SignedViewChange | vc, σ> to the new primary, repeatedly
  private void onViewChangeSigned(ByteString signature, ViewChange vc) {
    if (vc.getView() != view || !inViewChange) {
      return; // already in another view
    }
    SignedViewChange svc =
        SignedViewChange.newBuilder().setViewChange(vc).setSignature(signature).build();
    ownViewChanges.put(vc.getView(), svc);
    NodeId primary = segment.primary(vc.getView());
    ctx.walAppend(
        PbftEvent.newBuilder().setPersistSignedViewChange(svc).build(),
        c -> {
          c.sendMessage(
              PbftMessage.newBuilder().setSignedViewChange(svc).build(), List.of(primary));
          c.timerRepeat(
              params.viewChangeResendPeriod(),
              PbftEvent.newBuilder().setResendViewChange(vc.getView()).build());
        });
  }

  private void onResendViewChange(long v) {
    SignedViewChange svc = ownViewChanges.get(v);
    if (v == view && inViewChange && svc != null) {
      ctx.sendMessage(
          PbftMessage.newBuilder().setSignedViewChange(svc).build(), List.of(segment.primary(v)));
    }
  }

  // upon <SignedViewChange | vc, σ> from p (at the primary of vc.view): verify σ
  private void onSignedViewChange(SignedViewChange svc, NodeId from) {
    if (!svc.hasViewChange()) {
      reject(from, "ViewChange", "no ViewChange inside");
      return;
    }
    ViewChange vc = svc.getViewChange();
    long v = vc.getView();
    if (v < view && v >= 0) {
      LOG.debug("{}: ignoring ViewChange for old view {} from {}", logPrefix, v, from);
      return;
    }
    if (v < 0 || v > view + MAX_VIEWS_AHEAD) {
      reject(from, "ViewChange", "view " + Long.toUnsignedString(v) + " is too far ahead");
      return;
    }
    if (!self.equals(segment.primary(v))) {
      reject(from, "ViewChange", "this node is not the primary of view " + v);
      return;
    }
    NewView sentNewView = persistedNewViews.get(v);
    if (sentNewView != null) {
      // The sender missed the NewView (lost, or it restarted): send it again, once per period.
      if (mayAnswer("newview", v, from)) {
        ctx.sendMessage(PbftMessage.newBuilder().setNewView(sentNewView).build(), List.of(from));
      }
      return;
    }
    if (svc.getSignature().isEmpty() || svc.getSignature().size() > MAX_SIGNATURE_BYTES) {
      reject(from, "ViewChange", "malformed signature");
      return;
    }
    Object parsed = ViewChanges.parse(vc, segment);
    if (parsed instanceof String problem) {
      reject(from, "ViewChange", problem);
      return;
    }
    ViewChanges.State state = viewChangeStates.get(v);
    if (state != null && (state.enough() || state.has(from))) {
      LOG.debug("{}: ignoring ViewChange for view {} from {}: not needed", logPrefix, v, from);
      return;
    }
    if (badViewChanges.contains(v + "/" + from)) {
      reject(from, "ViewChange", "sent a badly signed ViewChange for view " + v + " before");
      return;
    }
    if (!pendingViewChanges.add(v + "/" + from)) {
      return; // the same sender's ViewChange for this view is being checked
    }
    ctx.verifyNodeSigs(
        List.of(CryptoEvents.sigVerItem(PbftData.viewChangeSigData(vc), svc.getSignature(), from)),
        PbftSigVerOrigin.newBuilder()
            .setSignedViewChange(
                ReceivedViewChange.newBuilder().setFrom(from.value()).setSignedViewChange(svc))
            .build());
  }

  //     upon σ valid: add vc; once every sn is decided, build the NewView
  private void onViewChangeVerified(ReceivedViewChange rvc, boolean valid, PbftNodeSigsVerified r) {
    NodeId from = NodeId.of(rvc.getFrom());
    SignedViewChange svc = rvc.getSignedViewChange();
    long v = svc.getViewChange().getView();
    pendingViewChanges.remove(v + "/" + from);
    if (!valid) {
      badViewChanges.add(v + "/" + from);
      reject(from, "ViewChange", "invalid signature: " + r.getErrorsList());
      return;
    }
    if (v < view) {
      return;
    }
    ViewChanges.Parsed parsed =
        (ViewChanges.Parsed) ViewChanges.parse(svc.getViewChange(), segment);
    ViewChanges.State state =
        viewChangeStates.computeIfAbsent(v, k -> new ViewChanges.State(segment));
    if (state.enough()) {
      return;
    }
    state.add(from, svc, parsed);
    LOG.debug("{}: {} ViewChanges for view {}", logPrefix, state.parsed.size(), v);
    if (!state.enough()) {
      return;
    }
    // Aborted Preprepares for the sequence numbers where nothing was prepared, local Preprepares
    // for
    // the re-proposed digests we have.
    for (Map.Entry<SeqNr, ViewChanges.Decision> d : state.decisions.entrySet()) {
      SeqNr sn = d.getKey();
      if (d.getValue().empty()) {
        state.preprepares.put(
            sn,
            Preprepare.newBuilder()
                .setSn(sn.value())
                .setView(v)
                .setCertData(ByteString.EMPTY)
                .setAborted(true)
                .build());
      } else {
        Preprepare local = lookUpPreprepare(sn, d.getValue().digest());
        if (local != null) {
          state.preprepares.put(sn, PbftData.copyToView(local, v));
        }
      }
    }
    if (state.hasAllPreprepares()) {
      sendNewView(v, state);
      return;
    }
    requestMissingPreprepares(state);
  }

  /** Asks the nodes that preprepared them for the Preprepares a pending NewView lacks. */
  private void requestMissingPreprepares(ViewChanges.State state) {
    for (Map.Entry<SeqNr, ViewChanges.Decision> d : state.decisions.entrySet()) {
      if (!state.preprepares.containsKey(d.getKey())) {
        List<NodeId> to = new ArrayList<>(d.getValue().prepreparedBy());
        to.remove(self);
        ctx.sendMessage(
            PbftMessage.newBuilder()
                .setPreprepareRequest(
                    PreprepareRequest.newBuilder()
                        .setSn(d.getKey().value())
                        .setDigest(d.getValue().digest()))
                .build(),
            to);
      }
    }
  }

  private Preprepare lookUpPreprepare(SeqNr sn, ByteString digest) {
    for (TreeMap<SeqNr, Slot> viewSlots : slots.descendingMap().values()) {
      Preprepare pp = viewSlots.get(sn).preprepareWithDigest(digest);
      if (pp != null) {
        return pp;
      }
    }
    return null;
  }

  // upon <PreprepareRequest | sn, d> from p: send the Preprepare with digest d, if any
  private void onPreprepareRequest(PreprepareRequest req, NodeId from) {
    if (!segment.containsRaw(req.getSn()) || !ViewChanges.validDigest(req.getDigest())) {
      reject(from, "PreprepareRequest", "bad sn or digest");
      return;
    }
    Preprepare pp = lookUpPreprepare(SeqNr.of(req.getSn()), req.getDigest());
    if (pp != null && mayAnswer("pp", req.getSn(), from)) {
      ctx.sendMessage(PbftMessage.newBuilder().setMissingPreprepare(pp).build(), List.of(from));
    }
  }

  /** The highest view whose state has decided everything but whose NewView is not sent yet. */
  private Map.Entry<Long, ViewChanges.State> latestPendingState() {
    for (Map.Entry<Long, ViewChanges.State> e : viewChangeStates.descendingMap().entrySet()) {
      if (e.getValue().enough() && !e.getValue().newViewSent) {
        return e.getKey() >= view ? e : null;
      }
    }
    return null;
  }

  // upon <MissingPreprepare | pp>: hash it
  private void onMissingPreprepare(Preprepare pp, NodeId from) {
    if (!segment.containsRaw(pp.getSn())) {
      reject(from, "MissingPreprepare", "sn not in the segment");
      return;
    }
    Map.Entry<Long, ViewChanges.State> e = latestPendingState();
    if (e == null || e.getValue().preprepares.containsKey(SeqNr.of(pp.getSn()))) {
      LOG.debug("{}: ignoring an unneeded MissingPreprepare from {}", logPrefix, from);
      return;
    }
    ctx.hashRequest(
        List.of(PbftData.preprepareHashData(pp)),
        PbftHashOrigin.newBuilder().setMissingPreprepare(pp).build());
  }

  //     upon its digest matching the decided one: keep it; send the NewView once complete
  private void onMissingPreprepareHashed(ByteString digest, Preprepare pp) {
    Map.Entry<Long, ViewChanges.State> e = latestPendingState();
    SeqNr sn = SeqNr.of(pp.getSn());
    if (e == null || e.getValue().preprepares.containsKey(sn)) {
      return;
    }
    ViewChanges.State state = e.getValue();
    ViewChanges.Decision d = state.decisions.get(sn);
    if (d.empty() || !d.digest().equals(digest)) {
      rejected++;
      LOG.debug("{}: MissingPreprepare for sn {} has the wrong digest", logPrefix, sn);
      return;
    }
    state.preprepares.put(sn, PbftData.copyToView(pp, e.getKey()));
    if (state.hasAllPreprepares()) {
      sendNewView(e.getKey(), state);
    }
  }

  private void sendNewView(long v, ViewChanges.State state) {
    state.newViewSent = true;
    NewView.Builder nv = NewView.newBuilder().setView(v);
    for (Map.Entry<NodeId, SignedViewChange> s : state.signed.entrySet()) {
      nv.addViewChangeSenders(s.getKey().value()).addSignedViewChanges(s.getValue());
    }
    for (Map.Entry<SeqNr, Preprepare> p : state.preprepares.entrySet()) {
      nv.addPreprepareSeqNrs(p.getKey().value()).addPreprepares(p.getValue());
    }
    NewView newView = nv.build();
    LOG.info("{}: sending NewView for view {}", logPrefix, v);
    ctx.walAppend(
        PbftEvent.newBuilder().setPersistNewView(newView).build(),
        c ->
            c.sendMessage(
                PbftMessage.newBuilder().setNewView(newView).build(), segment.membership()));
  }

  /** Whether a NewView for {@code v} could still be installed here. */
  private boolean newViewWanted(long v) {
    return v > view || (v == view && inViewChange);
  }

  // upon <NewView | v, VCs, PPs> from the primary of v: check it all, then enter v
  private void onNewView(NewView nv, NodeId from) {
    long v = nv.getView();
    if (v <= 0 || v > view + MAX_VIEWS_AHEAD) {
      reject(from, "NewView", "bad view " + Long.toUnsignedString(v));
      return;
    }
    if (!from.equals(segment.primary(v))) {
      reject(from, "NewView", "sender is not the primary of view " + v);
      return;
    }
    if (from.equals(self)) {
      // Sent as a follow-up of its WAL append: persisted.
      persistedNewViews.put(v, nv);
    }
    if (!newViewWanted(v)) {
      LOG.debug("{}: ignoring NewView for view {} in view {}", logPrefix, v, view);
      return;
    }
    if (badNewViews.contains(v)) {
      reject(from, "NewView", "sent an invalid NewView for view " + v + " before");
      return;
    }
    String problem = checkNewView(nv);
    if (problem != null) {
      badNewViews.add(v);
      reject(from, "NewView", problem);
      return;
    }
    if (!pendingNewViews.add(v)) {
      return;
    }
    List<SigVerItem> items = new ArrayList<>(nv.getSignedViewChangesCount());
    for (int i = 0; i < nv.getSignedViewChangesCount(); i++) {
      SignedViewChange svc = nv.getSignedViewChanges(i);
      items.add(
          CryptoEvents.sigVerItem(
              PbftData.viewChangeSigData(svc.getViewChange()),
              svc.getSignature(),
              NodeId.of(nv.getViewChangeSenders(i))));
    }
    ctx.verifyNodeSigs(items, PbftSigVerOrigin.newBuilder().setNewView(nv).build());
  }

  /** The structural checks of a NewView, or null if it passes them. */
  private String checkNewView(NewView nv) {
    long v = nv.getView();
    int k = nv.getSignedViewChangesCount();
    if (nv.getViewChangeSendersCount() != k) {
      return nv.getViewChangeSendersCount() + " senders for " + k + " ViewChanges";
    }
    if (k < segment.strongQuorum() || k > segment.n()) {
      return k + " ViewChanges, need " + segment.strongQuorum() + " to " + segment.n();
    }
    Set<NodeId> senders = new HashSet<>();
    for (int i = 0; i < k; i++) {
      NodeId sender = memberOrNull(nv.getViewChangeSenders(i));
      if (sender == null || !senders.add(sender)) {
        return "sender " + i + " is not a member or appears twice";
      }
      SignedViewChange svc = nv.getSignedViewChanges(i);
      if (!svc.hasViewChange() || svc.getViewChange().getView() != v) {
        return "ViewChange " + i + " is not for view " + v;
      }
      if (svc.getSignature().isEmpty() || svc.getSignature().size() > MAX_SIGNATURE_BYTES) {
        return "ViewChange " + i + " has a malformed signature";
      }
      if (ViewChanges.parse(svc.getViewChange(), segment) instanceof String p) {
        return "ViewChange " + i + ": " + p;
      }
    }
    List<SeqNr> sns = segment.seqNrs();
    if (nv.getPreprepareSeqNrsCount() != sns.size() || nv.getPrepreparesCount() != sns.size()) {
      return "not one Preprepare per sequence number";
    }
    for (int i = 0; i < sns.size(); i++) {
      Preprepare pp = nv.getPreprepares(i);
      if (nv.getPreprepareSeqNrs(i) != sns.get(i).value() || pp.getSn() != sns.get(i).value()) {
        return "Preprepare " + i + " is not for sn " + sns.get(i);
      }
      if (pp.getView() != v) {
        return "Preprepare " + i + " is not for view " + v;
      }
      if (pp.getAborted() && !pp.getCertData().isEmpty()) {
        return "Preprepare " + i + " is aborted but carries data";
      }
    }
    return null;
  }

  //     upon all signatures valid: hash the Preprepares
  private void onNewViewVerified(NewView nv, boolean valid, PbftNodeSigsVerified r) {
    pendingNewViews.remove(nv.getView());
    NodeId primary = segment.primary(nv.getView());
    if (!valid) {
      badNewViews.add(nv.getView());
      reject(primary, "NewView", "invalid ViewChange signatures: " + r.getErrorsList());
      return;
    }
    if (!newViewWanted(nv.getView())) {
      return;
    }
    List<HashData> data = new ArrayList<>(nv.getPrepreparesCount());
    for (Preprepare pp : nv.getPrepreparesList()) {
      data.add(PbftData.preprepareHashData(pp));
    }
    ctx.hashRequest(data, PbftHashOrigin.newBuilder().setNewView(nv).build());
  }

  //     upon digests: if every Preprepare is justified by the ViewChanges, enter the view
  private void onNewViewHashed(List<ByteString> digests, NewView nv) {
    long v = nv.getView();
    if (!newViewWanted(v)) {
      return;
    }
    NodeId primary = segment.primary(v);
    Map<NodeId, ViewChanges.Parsed> vcs = new TreeMap<>();
    for (int i = 0; i < nv.getSignedViewChangesCount(); i++) {
      vcs.put(
          NodeId.of(nv.getViewChangeSenders(i)),
          (ViewChanges.Parsed)
              ViewChanges.parse(nv.getSignedViewChanges(i).getViewChange(), segment));
    }
    for (int i = 0; i < nv.getPrepreparesCount(); i++) {
      Preprepare pp = nv.getPreprepares(i);
      if (!ViewChanges.justified(vcs, SeqNr.of(pp.getSn()), pp, digests.get(i), segment)) {
        badNewViews.add(v);
        reject(primary, "NewView", "the Preprepare for sn " + pp.getSn() + " is not justified");
        return;
      }
    }
    LOG.info("{}: entering view {}", logPrefix, v);
    if (v > view) {
      initView(v);
    }
    inViewChange = false;
    for (Preprepare pp : nv.getPrepreparesList()) {
      onPreprepare(pp, primary, PbftMessage.newBuilder().setPreprepare(pp).build());
    }
    drainBuffers();
  }

  /** Re-applies buffered messages of the current view; drops older ones. */
  private void drainBuffers() {
    for (Map.Entry<NodeId, MessageBuffer<PbftMessage>> b : buffers.entrySet()) {
      NodeId from = b.getKey();
      b.getValue()
          .iterate(
              m -> {
                long v = bufferedView(m);
                if (v < view) {
                  return MessageBuffer.Applicable.PAST;
                }
                return v == view
                    ? MessageBuffer.Applicable.CURRENT
                    : MessageBuffer.Applicable.FUTURE;
              },
              m -> handleMessage(from, m));
    }
  }

  private static long bufferedView(PbftMessage m) {
    return switch (m.getTypeCase()) {
      case PREPREPARE -> m.getPreprepare().getView();
      case PREPARE -> m.getPrepare().getView();
      case COMMIT -> m.getCommit().getView();
      default -> -1;
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Segment checkpoint and catch-up

  // upon all slots committed: send <Done | digests> to all, repeatedly
  private void startDone() {
    List<ByteString> digests = new ArrayList<>(segment.seqNrs().size());
    for (Slot s : currentSlots().values()) {
      digests.add(s.digest);
    }
    ownDoneDigests = List.copyOf(digests);
    LOG.debug("{}: done with the segment", logPrefix);
    sendDone();
    ctx.timerRepeat(params.doneResendPeriod(), PbftEvent.newBuilder().setResendDone(true).build());
  }

  private void sendDone() {
    ctx.sendMessage(
        PbftMessage.newBuilder().setDone(Done.newBuilder().addAllDigests(ownDoneDigests)).build(),
        segment.membership());
  }

  private void onResendDone() {
    if (ownDoneDigests != null) {
      sendDone();
    }
  }

  // upon <Done | D> from p: record it; at a weak quorum of identical ones, start catching up later
  private void onDone(Done done, NodeId from) {
    if (done.getDigestsCount() != segment.seqNrs().size()) {
      reject(from, "Done", done.getDigestsCount() + " digests");
      return;
    }
    for (ByteString d : done.getDigestsList()) {
      if (!ViewChanges.validDigest(d)) {
        reject(from, "Done", "malformed digest");
        return;
      }
    }
    checkpoint.nodeDone(from, done.getDigestsList());
    if (checkpoint.digests() != null && !checkpoint.catchingUp) {
      checkpoint.catchingUp = true;
      ctx.timerDelay(params.catchUpDelay(), PbftEvent.newBuilder().setCatchUpStart(true).build());
    }
  }

  private void onCatchUpStart() {
    sendCatchUpRequests();
    ctx.timerRepeat(params.catchUpDelay(), PbftEvent.newBuilder().setCatchUpTick(true).build());
  }

  // for each sn not committed: send <CatchUpRequest | sn, D[sn]> to the nodes that sent D
  private void sendCatchUpRequests() {
    TreeMap<SeqNr, ByteString> digests = checkpoint.digests();
    if (digests == null) {
      return;
    }
    List<NodeId> to = new ArrayList<>(checkpoint.doneNodes());
    to.remove(self);
    for (Map.Entry<SeqNr, ByteString> d : digests.entrySet()) {
      if (!currentSlots().get(d.getKey()).committed && !to.isEmpty()) {
        ctx.sendMessage(
            PbftMessage.newBuilder()
                .setCatchUpRequest(
                    CatchUpRequest.newBuilder().setSn(d.getKey().value()).setDigest(d.getValue()))
                .build(),
            to);
      }
    }
  }

  // upon <CatchUpRequest | sn, d> from p: send the Preprepare with digest d, if any
  private void onCatchUpRequest(CatchUpRequest req, NodeId from) {
    if (!segment.containsRaw(req.getSn()) || !ViewChanges.validDigest(req.getDigest())) {
      reject(from, "CatchUpRequest", "bad sn or digest");
      return;
    }
    Preprepare pp = lookUpPreprepare(SeqNr.of(req.getSn()), req.getDigest());
    if (pp != null && mayAnswer("catchup", req.getSn(), from)) {
      ctx.sendMessage(PbftMessage.newBuilder().setCatchUpResponse(pp).build(), List.of(from));
    }
  }

  // upon <CatchUpResponse | pp>: hash it
  private void onCatchUpResponse(Preprepare pp, NodeId from) {
    if (!segment.containsRaw(pp.getSn())) {
      reject(from, "CatchUpResponse", "sn not in the segment");
      return;
    }
    if (checkpoint.digests() == null) {
      reject(from, "CatchUpResponse", "not requested");
      return;
    }
    if (currentSlots().get(SeqNr.of(pp.getSn())).committed) {
      return;
    }
    ctx.hashRequest(
        List.of(PbftData.preprepareHashData(pp)),
        PbftHashOrigin.newBuilder().setCatchUpResponse(pp).build());
  }

  //     upon its digest matching the Done digest: commit and deliver it
  private void onCatchUpResponseHashed(ByteString digest, Preprepare pp) {
    SeqNr sn = SeqNr.of(pp.getSn());
    Slot slot = currentSlots().get(sn);
    if (slot.committed || checkpoint.digests() == null) {
      return;
    }
    if (!digest.equals(checkpoint.digests().get(sn))) {
      rejected++;
      LOG.debug("{}: CatchUpResponse for sn {} has the wrong digest", logPrefix, sn);
      return;
    }
    LOG.debug("{}: catching up sn {}", logPrefix, sn);
    slot.catchUp(PbftData.copyToView(pp, view), digest);
    finishCommit(slot, sn);
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  private NodeId memberOrNull(String id) {
    NodeId n;
    try {
      n = NodeId.of(id);
    } catch (IllegalArgumentException e) {
      return null;
    }
    return segment.membership().contains(n) ? n : null;
  }

  private void reject(NodeId from, String type, String reason) {
    rejectRaw(from.value(), type, reason);
  }

  private void rejectRaw(String from, String type, String reason) {
    rejected++;
    LOG.debug("{}: rejecting {} from {}: {}", logPrefix, type, from, reason);
  }

  /** A summary of the state, for logs. */
  @Override
  public String toString() {
    return logPrefix
        + "[view="
        + view
        + (inViewChange ? " (changing)" : "")
        + ", committed="
        + numCommitted()
        + "/"
        + segment.seqNrs().size()
        + ", stable="
        + checkpoint.stable()
        + ", rejected="
        + rejected
        + "]";
  }
}
