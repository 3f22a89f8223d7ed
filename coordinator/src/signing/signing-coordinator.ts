import { randomBytes } from 'node:crypto';
import {
  aggregateSignature,
  computeEventId,
  createSigningPackage,
  groupXOnlyKey,
  hexToBytes,
  precomputeGroupCommitment,
  type SigningCommitments,
  type SigningPackage,
} from '@frostbunker/shared/crypto';
import { CheaterError, FrostbunkerError, QuorumError, VetoError } from '@frostbunker/shared/errors';
import type {
  EventId,
  FromNodeMessage,
  FrostIdentifier,
  SessionId,
  ToNodeMessage,
  UnsignedEventMessage,
  XOnlyPubkey,
} from '@frostbunker/shared/protocol';
import { DUPLICATE_REFUSAL, NODE_PROTOCOL_VERSION, NON_STICKY_REFUSALS, ONE_ROUND_PROTOCOL_VERSION } from '@frostbunker/shared/protocol';
import type { ReceivedMessage } from '@frostbunker/shared/transport';
import type { Logger } from '@frostbunker/shared/logger';
import type { ShareNodeMember, SigningIdentity } from './identity.js';
import { CommitmentPools, type OneRoundOptions } from './commitment-pool.js';
import { SessionWaiter } from './session-waiter.js';

export type { OneRoundOptions } from './commitment-pool.js';

export interface SignedEvent extends UnsignedEventMessage {
  id: string;
  sig: string;
}

/** What a caller of `sign` may want to hear about while the request is under way. */
export interface SignHooks {
  /** A share node holds the request for its operator's decision (veto policy "ask"). */
  onNodeAwaitingApproval?(node: string, approvalTimeoutSec: number, reason: string): void;
}

/** The part of the transport the signing coordinator needs: sending to nodes. */
export interface NodeSender {
  send(recipientPubkey: XOnlyPubkey, message: ToNodeMessage): Promise<void>;
  /** The same message to several nodes at once (RelayTransport: one event instead of n). */
  sendToAll?(recipientPubkeys: readonly XOnlyPubkey[], message: ToNodeMessage): Promise<void>;
}

export interface SigningCoordinatorOptions {
  identity: SigningIdentity;
  sender: NodeSender;
  /** Deadline for each round; a silent node never holds a request longer than this (G5). */
  roundTimeoutMs: number;
  /**
   * After k commitments, how long round 1 still waits for the other nodes' answers so that a
   * co-signer's refusal is honoured rather than raced past (default 300 ms; ends early once every
   * node has answered, so it costs nothing while all nodes are up).
   */
  vetoGraceMs?: number;
  logger: Logger;
  /** Told about failovers and invalid partial signatures (metrics). */
  observer?: SigningObserver;
  /**
   * One-round signing with pre-shared commitments (issue 9; DESIGN.md "Signing"): off unless
   * given. Nodes pre-send single-use commitments; a request is then one message per node carrying
   * the event and the signing package. Without enough pooled commitments, or after a node restart
   * made them stale, a request runs the two-round protocol instead.
   */
  oneRound?: OneRoundOptions | false;
}

/** What the metrics and the audit log want to hear from inside a signing request. */
export interface SigningObserver {
  /** A session failed and another starts without `excluded` (labels); `cause` says why. */
  failover(excluded: readonly string[], cause: 'silence' | 'invalid_partial'): void;
  /** A node message no open session can use (closed or unknown session, or past its phase): dropped, never aggregated. */
  lateMessage(node: string, type: FromNodeMessage['type']): void;
  /** A request ended, signed or not, after this many signing sessions (every session started counts). */
  sessionsPerRequest(sessions: number): void;
  /** A partial signature failed verification; called before the request goes on without its sender. */
  invalidPartial(evidence: InvalidPartialEvidence): void;
}

/**
 * A blame record (RELIABILITY.md §2.1 "Frames an honest node", T3): enough for anyone to re-check
 * offline that `node` sent a bad z_i. `signedEvent` is signed by the node's transport key and
 * carries the share encrypted to the coordinator; `commitments` and `eventId` are the package.
 */
export interface InvalidPartialEvidence {
  node: string;
  /** The authenticated sender (transport identity), never a field of the message body. */
  nodePubkey: XOnlyPubkey;
  identifier: FrostIdentifier;
  sessionId: SessionId;
  eventId: EventId;
  commitments: readonly SigningCommitments[];
  signatureShare: string;
  /** Absent over the in-memory transport. */
  signedEvent: ReceivedMessage<FromNodeMessage>['signedEvent'];
}

interface OpenSession {
  readonly sessionId: SessionId;
  readonly eventId: EventId;
  readonly candidates: ReadonlyMap<XOnlyPubkey, ShareNodeMember>;
  /** `one`: a one-round session (sign_request out, shares and votes in). */
  phase: 'round1' | 'round2' | 'one';
  /** Arrival order is kept: the first k valid commitments win. */
  readonly commitments: Map<FrostIdentifier, SigningCommitments>;
  chosen: ReadonlySet<FrostIdentifier>;
  readonly shares: Map<FrostIdentifier, string>;
  /** The node-signed event that carried each share (evidence if the share is bad). */
  readonly carriers: Map<FrostIdentifier, ReceivedMessage<FromNodeMessage>['signedEvent']>;
  refusal: { member: ShareNodeMember; code: string; reason: string } | undefined;
  /** Nodes holding round 1 for their operator: they must take part, however long it takes (bounded). */
  readonly awaitingApproval: Map<FrostIdentifier, number>;
  /** Nodes that asked for approval; they are chosen first once they commit. */
  readonly required: Set<FrostIdentifier>;
  /** Nodes out of service for this session (`frozen`, `busy`): like silence, but known at once. */
  readonly absent: Map<FrostIdentifier, string>;
  /** One round: nodes outside the package that passed binding and policy (no objection). */
  readonly votes: Set<FrostIdentifier>;
  /** One round: chosen nodes that no longer know the commitment we named (they restarted). */
  readonly stale: Set<FrostIdentifier>;
  readonly waiter: SessionWaiter;
  readonly hooks: SignHooks;
}

type SessionOutcome =
  | { ok: true; signature: string }
  /**
   * Retry without `exclude` (silent in round 2, or named culprits). `fallback`: a one-round session
   * failed without blame to assign yet (a chosen node silent or out of service, or its commitment
   * stale): retry with two rounds over the same nodes, which finds out who is there.
   */
  | { ok: false; exclude: FrostIdentifier[]; cause: Error; fallback?: { why: 'stale' | 'absent' | 'silence'; nodes: FrostIdentifier[] } };

/**
 * Runs FROST signing sessions for one identity: round 1 to every candidate node, the first k
 * commitments win, round 2 to those k, aggregate-then-verify. Any refusal is sticky (DESIGN.md);
 * only silence or a bad share moves to another session, at most n − k + 1 of them (ROAST bound).
 */
export class SigningCoordinator {
  readonly #identity: SigningIdentity;
  readonly #sender: NodeSender;
  readonly #roundTimeoutMs: number;
  readonly #vetoGraceMs: number;
  readonly #logger: Logger;
  readonly #observer: SigningObserver | undefined;
  readonly #sessions = new Map<SessionId, OpenSession>();
  /** Pre-shared commitments per node; undefined when one-round signing is off. */
  readonly #pools: CommitmentPools | undefined;
  #lateMessages = 0;
  #sessionsStarted = 0;
  #oneRoundSessions = 0;

  constructor(options: SigningCoordinatorOptions) {
    this.#identity = options.identity;
    this.#sender = options.sender;
    this.#roundTimeoutMs = options.roundTimeoutMs;
    this.#vetoGraceMs = options.vetoGraceMs ?? 300;
    this.#logger = options.logger;
    this.#observer = options.observer;
    this.#pools = options.oneRound ? new CommitmentPools({ ...options.oneRound, now: () => performance.now() }) : undefined;
  }

  get groupPubkey(): XOnlyPubkey {
    return groupXOnlyKey(this.#identity.group);
  }

  stats(): { sessionsStarted: number; lateMessages: number; openSessions: number; oneRoundSessions: number } {
    return {
      sessionsStarted: this.#sessionsStarted,
      lateMessages: this.#lateMessages,
      openSessions: this.#sessions.size,
      oneRoundSessions: this.#oneRoundSessions,
    };
  }

  /** One-round signing: unused pre-shared commitments held per node label (empty when off). */
  pooledCommitments(): Record<string, number> {
    const pools = this.#pools;
    if (pools === undefined) return {};
    return Object.fromEntries(this.#identity.members.map((m) => [m.label, pools.size(m.identifier)]));
  }

  /** Signs `event` (whose pubkey must be the group key) or throws a FrostbunkerError saying why not. */
  async sign(event: UnsignedEventMessage, hooks: SignHooks = {}): Promise<SignedEvent> {
    if (event.pubkey !== this.groupPubkey) {
      throw new FrostbunkerError('PROTOCOL_INVALID', 'event pubkey is not the group key');
    }
    const eventId = computeEventId(event);
    const { threshold } = this.#identity.group;
    /** Nodes left out for the rest of this request, and why. */
    const excluded = new Map<FrostIdentifier, 'silent in round 2' | 'invalid partial signature'>();
    const maxSessions = this.#identity.members.length - threshold + 1;
    let lastCause: Error | undefined;
    let sessions = 0;
    this.#refillPools();
    // One round first when the pools allow. A stale commitment (the node restarted) is answered at
    // once and blames no one: that retry is not counted, and stays in one round when the other
    // pools allow (the stale node's pool is gone). After a node out of service (frozen, busy), also
    // not counted, or a silent one-round session, which is, two rounds for the rest of the request;
    // this keeps the counted sessions ≤ n − k + 1 (G4, G7).
    let oneRound = this.#pools !== undefined;
    try {
      for (let attempt = 0; attempt < maxSessions; attempt++) {
        const candidates = this.#identity.members.filter((m) => !excluded.has(m.identifier));
        if (candidates.length < threshold) break;
        const chosen = oneRound ? this.#pools?.take(candidates, threshold) : undefined;
        sessions++;
        let outcome: SessionOutcome;
        try {
          outcome = chosen
            ? await this.#runOneRoundSession(event, eventId, candidates, chosen, hooks)
            : await this.#runSession(event, eventId, candidates, hooks);
        } catch (error) {
          throw this.#withExcluded(error, excluded);
        }
        if (outcome.ok) return { ...event, id: eventId, sig: outcome.signature };
        lastCause = outcome.cause;
        if (outcome.fallback !== undefined) {
          oneRound = outcome.fallback.why === 'stale';
          const nodes = outcome.fallback.nodes.map((id) => this.#label(id));
          if (outcome.fallback.why === 'silence') this.#observer?.failover(nodes, 'silence');
          else attempt--;
          this.#logger.warn(oneRound ? 'one-round session failed, retrying' : 'one-round session failed, retrying with two rounds', { eventId, why: outcome.fallback.why, nodes });
          this.#refillPools();
          continue;
        }
        const cheated = outcome.cause instanceof CheaterError;
        for (const identifier of outcome.exclude) excluded.set(identifier, cheated ? 'invalid partial signature' : 'silent in round 2');
        this.#observer?.failover(outcome.exclude.map((id) => this.#label(id)), cheated ? 'invalid_partial' : 'silence');
        this.#logger.warn('signing session failed, retrying without nodes', {
          eventId,
          excluded: [...excluded.keys()].map((id) => this.#label(id)),
          cause: outcome.cause.message,
        });
      }
    } finally {
      this.#observer?.sessionsPerRequest(sessions);
    }
    if (lastCause instanceof CheaterError) throw lastCause;
    throw new QuorumError(
      `quorum unavailable: ${threshold} signers needed; ${lastCause?.message ?? 'too few nodes'}`,
      [...excluded.keys()].map((id) => this.#label(id)),
    );
  }

  /**
   * A quorum error from a later session names only that session's missing nodes; the nodes this
   * request already left out (G5: "names the missing nodes"; G7: the culprit) are added.
   */
  #withExcluded(error: unknown, excluded: ReadonlyMap<FrostIdentifier, string>): unknown {
    if (!(error instanceof QuorumError) || excluded.size === 0) return error;
    const left = [...excluded].map(([id, why]) => `${this.#label(id)} (${why})`);
    return new QuorumError(`${error.message}; left out earlier in this request: ${left.join(', ')}`, [
      ...error.missing,
      ...[...excluded.keys()].map((id) => this.#label(id)),
    ]);
  }

  /** Routes one authenticated inbound node message to its session; anything else is counted. */
  handleMessage(received: ReceivedMessage<FromNodeMessage>): void {
    const { message, senderPubkey } = received;
    if (message.groupId !== this.#identity.groupId) return;
    if (message.type === 'pong') {
      this.#nodeAnswered(senderPubkey);
      return;
    }
    if (this.#pools?.isRefill(message.sessionId) && (message.type === 'nonce_pool' || message.type === 'refusal')) {
      this.#settleRefill(received);
      return;
    }
    if (message.type === 'nonce_pool') {
      this.#late(received);
      return;
    }
    const session = this.#sessions.get(message.sessionId);
    const member = session?.candidates.get(senderPubkey);
    if (!session || !member || message.epoch !== this.#identity.epoch) {
      this.#late(received);
      return;
    }
    switch (message.type) {
      case 'refusal':
        if (message.code === DUPLICATE_REFUSAL) {
          this.#late(received);
          break;
        }
        session.awaitingApproval.delete(member.identifier);
        if (message.code === 'commitment_unknown' && session.phase === 'one' && session.chosen.has(member.identifier)) {
          session.stale.add(member.identifier);
          this.#pools?.drop(member.identifier);
        } else if (NON_STICKY_REFUSALS.has(message.code)) session.absent.set(member.identifier, message.code);
        else session.refusal ??= { member, code: message.code, reason: message.reason };
        break;
      case 'round1_pending':
        if ((session.phase === 'round1' || session.phase === 'one') && message.eventId === session.eventId) {
          const waitMs = message.approvalTimeoutSec * 1000 + this.#roundTimeoutMs;
          session.awaitingApproval.set(member.identifier, performance.now() + waitMs);
          session.required.add(member.identifier);
          this.#logger.info('share node awaits its operator', { node: member.label, eventId: session.eventId, reason: message.reason });
          try {
            session.hooks.onNodeAwaitingApproval?.(member.label, message.approvalTimeoutSec, message.reason);
          } catch (error) {
            this.#logger.warn('approval notice failed', { node: member.label, error: String(error) });
          }
        }
        break;
      case 'round1_commitments':
        // The FROST index comes from the authenticated sender, never from the body (STYLE.md 2.6).
        if (
          session.phase === 'round1' &&
          message.eventId === session.eventId &&
          message.commitments.identifier === member.identifier &&
          !session.commitments.has(member.identifier)
        ) {
          session.commitments.set(member.identifier, message.commitments);
          session.awaitingApproval.delete(member.identifier);
        } else {
          this.#late(received);
        }
        break;
      case 'round2_share':
        if (session.phase === 'round2' && message.eventId === session.eventId && session.chosen.has(member.identifier)) {
          session.shares.set(member.identifier, message.signatureShare);
          session.carriers.set(member.identifier, received.signedEvent);
        } else {
          this.#late(received);
        }
        break;
      case 'sign_share':
        // Replacement commitments are kept even from a share that comes too late to be used.
        this.#pools?.add(member.identifier, message.next);
        if (session.phase === 'one' && message.eventId === session.eventId && session.chosen.has(member.identifier)) {
          session.shares.set(member.identifier, message.signatureShare);
          session.carriers.set(member.identifier, received.signedEvent);
          session.awaitingApproval.delete(member.identifier);
        } else {
          this.#late(received);
        }
        break;
      case 'sign_vote':
        if (session.phase === 'one' && message.eventId === session.eventId && !session.chosen.has(member.identifier)) {
          session.votes.add(member.identifier);
          session.awaitingApproval.delete(member.identifier);
        } else {
          this.#late(received);
        }
        break;
    }
    session.waiter.poke();
  }

  /** A node answered a refill request: its commitments join its pool (authenticated sender only). */
  #settleRefill(received: ReceivedMessage<FromNodeMessage>): void {
    const { message, senderPubkey } = received;
    const member = this.#identity.members.find((m) => m.nodePubkey === senderPubkey);
    const identifier = this.#pools?.settleRefill(message.sessionId);
    if (member === undefined || identifier !== member.identifier || message.epoch !== this.#identity.epoch) {
      this.#late(received);
      return;
    }
    if (message.type === 'nonce_pool') this.#pools?.add(member.identifier, message.commitments);
    else if (message.type === 'refusal') this.#logger.warn('share node refused to pre-share commitments', { node: member.label, code: message.code, reason: message.reason });
  }

  /** Counts a message no session could use (RELIABILITY.md G6: late partials are counted, never aggregated). */
  #late({ senderPubkey, message }: ReceivedMessage<FromNodeMessage>): void {
    this.#lateMessages++;
    const member = this.#identity.members.find((m) => m.nodePubkey === senderPubkey);
    this.#observer?.lateMessage(member?.label ?? 'unknown', message.type);
  }

  /** A node answered a ping: if it missed a refill meanwhile, it is asked again now (it may have restarted). */
  #nodeAnswered(senderPubkey: XOnlyPubkey): void {
    const member = this.#identity.members.find((m) => m.nodePubkey === senderPubkey);
    if (member === undefined || this.#pools === undefined) return;
    this.#pools.nodeAnswered(member.identifier);
    this.#refillPools();
  }

  /** Asks every node whose pool runs low for fresh commitments (one outstanding request each). */
  #refillPools(): void {
    const pools = this.#pools;
    if (pools === undefined) return;
    const newSessionId = () => randomBytes(16).toString('hex') as SessionId;
    for (const { member, sessionId, count } of pools.refillsDue(this.#identity.members, this.#roundTimeoutMs, newSessionId)) {
      this.#broadcast([member], {
        v: ONE_ROUND_PROTOCOL_VERSION,
        groupId: this.#identity.groupId,
        epoch: this.#identity.epoch,
        sessionId,
        type: 'nonce_pool_request',
        count,
      });
    }
  }

  #openSession(
    eventId: EventId,
    candidates: readonly ShareNodeMember[],
    hooks: SignHooks,
    phase: 'round1' | 'one',
  ): OpenSession {
    const session: OpenSession = {
      sessionId: randomBytes(16).toString('hex') as SessionId,
      eventId,
      candidates: new Map(candidates.map((m) => [m.nodePubkey, m])),
      phase,
      commitments: new Map(),
      chosen: new Set(),
      shares: new Map(),
      carriers: new Map(),
      refusal: undefined,
      awaitingApproval: new Map(),
      required: new Set(),
      absent: new Map(),
      votes: new Set(),
      stale: new Set(),
      waiter: new SessionWaiter(),
      hooks,
    };
    this.#sessions.set(session.sessionId, session);
    this.#sessionsStarted++;
    return session;
  }

  /**
   * One-round session (issue 9): the event and the package (the chosen nodes' pre-shared
   * commitments) go to every candidate at once. The chosen k answer z_i, the others a vote; any
   * refusal is a sticky veto, exactly as in round 1, and the same veto grace applies once k shares
   * are in. Silence of a chosen node fails the session over (without it); a stale commitment (the
   * node restarted) retries with fresh ones, or with two rounds.
   */
  async #runOneRoundSession(
    event: UnsignedEventMessage,
    eventId: EventId,
    candidates: readonly ShareNodeMember[],
    chosen: readonly { member: ShareNodeMember; commitments: SigningCommitments }[],
    hooks: SignHooks,
  ): Promise<SessionOutcome> {
    const { threshold } = this.#identity.group;
    const session = this.#openSession(eventId, candidates, hooks, 'one');
    this.#oneRoundSessions++;
    try {
      const signingPackage = createSigningPackage(hexToBytes(eventId, 32, 'eventId'), chosen.map((c) => c.commitments));
      session.chosen = new Set(chosen.map((c) => c.member.identifier));
      const signers = chosen.map((c) => c.member);
      this.#broadcast(candidates, {
        v: ONE_ROUND_PROTOCOL_VERSION,
        groupId: this.#identity.groupId,
        epoch: this.#identity.epoch,
        sessionId: session.sessionId,
        type: 'sign_request',
        eventId,
        event,
        commitments: signingPackage.commitments,
      });
      // R while the nodes sign: aggregation is then a sum and one verification (issue 9).
      setImmediate(() => precomputeGroupCommitment(this.#identity.group, signingPackage));
      const startedMs = performance.now();
      // Once k nodes have answered (shares or votes), a chosen node still silent gets the veto grace,
      // as in round 1, and then two rounds take over, so a dead node costs the grace, not the deadline.
      const answered = () => session.shares.size + session.votes.size;
      let hedgeAtMs: number | undefined;
      const outcome = await this.#awaitQuorum(session, {
        early: () => {
          if (session.stale.size > 0) return 'stale' as const;
          if (signers.some((m) => session.absent.has(m.identifier))) return 'absent' as const;
          // Never while an operator decides: that node is slow on purpose, not silent.
          if (session.shares.size >= threshold || answered() < threshold || session.awaitingApproval.size > 0) return undefined;
          if (hedgeAtMs === undefined) {
            hedgeAtMs = performance.now() + this.#vetoGraceMs;
            return 'rearm' as const; // back to the loop, which then wakes at hedgeAtMs
          }
          return performance.now() >= hedgeAtMs ? ('silent' as const) : undefined;
        },
        wakeAtMs: () => (session.shares.size < threshold ? hedgeAtMs : undefined),
        quorum: () => session.shares.size >= threshold,
        answeredAll: () =>
          candidates.every((m) => session.shares.has(m.identifier) || session.votes.has(m.identifier) || session.absent.has(m.identifier)),
      });
      const waitedMs = Math.round(performance.now() - startedMs);
      this.#throwIfRefused(session);
      if (outcome === 'stale') {
        const stale = signers.filter((m) => session.stale.has(m.identifier)).map((m) => m.label);
        this.#logger.warn('pre-shared commitments stale, retrying', { eventId, nodes: stale });
        return { ok: false, exclude: [], fallback: { why: 'stale', nodes: [...session.stale] }, cause: new FrostbunkerError('TIMEOUT', `stale commitments for ${stale.join(', ')}`) };
      }
      if (outcome !== 'ready') {
        if (session.awaitingApproval.size > 0) {
          const waiting = [...session.awaitingApproval.keys()].map((id) => this.#label(id));
          throw new FrostbunkerError('TIMEOUT', `no operator decision on ${waiting.join(', ')} in time`);
        }
        if (outcome === 'timeout' && answered() < threshold) {
          // Fewer than k nodes answered within the deadline: two rounds would wait for the same
          // silent nodes again (G5: the error comes within one deadline).
          const silentAll = candidates.filter((m) => !session.shares.has(m.identifier) && !session.votes.has(m.identifier) && !session.absent.has(m.identifier));
          for (const m of silentAll) this.#pools?.drop(m.identifier);
          const absent = [...session.absent].map(([id, code]) => `${this.#label(id)} (${code})`);
          const parts = [`silent: ${silentAll.map((m) => m.label).join(', ')}`, absent.length ? `out of service: ${absent.join(', ')}` : ''];
          throw new QuorumError(
            `quorum unavailable: ${answered()} of ${threshold} required share nodes answered within ${this.#roundTimeoutMs} ms; ${parts.filter(Boolean).join('; ')}`,
            [...silentAll.map((m) => m.label), ...[...session.absent.keys()].map((id) => this.#label(id))],
          );
        }
        // Out of service: those nodes; silent (the grace passed): every signer without a share.
        const silent = signers.filter((m) => (outcome === 'absent' ? session.absent.has(m.identifier) : !session.shares.has(m.identifier)));
        const why = outcome === 'absent' ? ('absent' as const) : ('silence' as const);
        // A silent or frozen node is not offered again from the pool until it answers a refill:
        // otherwise each request would wait a whole round for it (two rounds only wait the grace).
        for (const m of silent) this.#pools?.drop(m.identifier);
        return {
          ok: false,
          exclude: [],
          fallback: { why, nodes: silent.map((m) => m.identifier) },
          cause: new FrostbunkerError('TIMEOUT', `no partial signature from ${silent.map((m) => m.label).join(', ')}`),
        };
      }
      return this.#aggregate(session, signingPackage, signers, { mode: 'one-round', round1Ms: 0, round2Ms: waitedMs });
    } finally {
      this.#sessions.delete(session.sessionId);
    }
  }

  /** Aggregate-then-verify; a bad partial names its sender and fails the session over without it. */
  #aggregate(
    session: OpenSession,
    signingPackage: SigningPackage,
    signers: readonly ShareNodeMember[],
    timing: { mode: 'one-round' | 'two-round'; round1Ms: number; round2Ms: number },
  ): SessionOutcome {
    const { eventId } = session;
    try {
      const signature = aggregateSignature(this.#identity.group, signingPackage, Object.fromEntries(session.shares));
      this.#logger.info('signing session done', { eventId, signers: signers.map((m) => m.label), ...timing });
      return { ok: true, signature };
    } catch (error) {
      if (!(error instanceof CheaterError)) throw error;
      const culprits = signers.filter((m) => error.culprits.includes(m.identifier));
      const named = new CheaterError(culprits.map((m) => m.label));
      this.#logger.warn('invalid partial signature', { eventId, sessionId: session.sessionId, culprits: named.culprits, nodePubkeys: culprits.map((m) => m.nodePubkey) });
      for (const m of culprits) {
        this.#observer?.invalidPartial({
          node: m.label,
          nodePubkey: m.nodePubkey,
          identifier: m.identifier,
          sessionId: session.sessionId,
          eventId,
          commitments: signingPackage.commitments,
          signatureShare: session.shares.get(m.identifier)!,
          signedEvent: session.carriers.get(m.identifier),
        });
      }
      return { ok: false, exclude: culprits.map((m) => m.identifier), cause: named };
    }
  }

  async #runSession(
    event: UnsignedEventMessage,
    eventId: EventId,
    candidates: readonly ShareNodeMember[],
    hooks: SignHooks,
  ): Promise<SessionOutcome> {
    const { threshold } = this.#identity.group;
    const session = this.#openSession(eventId, candidates, hooks, 'round1');
    try {
      const header = {
        v: NODE_PROTOCOL_VERSION,
        groupId: this.#identity.groupId,
        epoch: this.#identity.epoch,
        sessionId: session.sessionId,
      } as const;
      this.#broadcast(candidates, { ...header, type: 'round1_request', eventId, event });
      const startedMs = performance.now();
      const round1 = await this.#awaitRound1(session, candidates);
      const round1Ms = Math.round(performance.now() - startedMs);
      this.#throwIfRefused(session);
      if (round1 === 'short' || round1 === 'timeout') throw this.#round1Failure(session, candidates, round1);

      // Nodes that asked their operator come first: an approval is never wasted on a lenient peer.
      const arrived = [...session.commitments.values()];
      const chosen = [
        ...arrived.filter((c) => session.required.has(c.identifier)),
        ...arrived.filter((c) => !session.required.has(c.identifier)),
      ].slice(0, threshold);
      const signingPackage = createSigningPackage(hexToBytes(eventId, 32, 'eventId'), chosen);
      session.chosen = new Set(chosen.map((c) => c.identifier));
      session.phase = 'round2';
      const signers = candidates.filter((m) => session.chosen.has(m.identifier));
      this.#broadcast(signers, { ...header, type: 'round2_request', eventId, commitments: chosen });
      const round2 = await session.waiter.waitFor(() => {
        if (session.refusal) return 'refused';
        if (session.shares.size >= threshold) return 'ready';
        return signers.some((m) => session.absent.has(m.identifier)) ? 'absent' : undefined;
      }, this.#roundTimeoutMs);
      this.#throwIfRefused(session);
      if (round2 !== 'ready') {
        // Out of service (restarted since round 1, another epoch): that node alone is left out; a
        // co-signer whose share is merely still on its way is not. At the deadline, every signer
        // still silent is.
        const left =
          round2 === 'absent'
            ? signers.filter((m) => session.absent.has(m.identifier))
            : signers.filter((m) => !session.shares.has(m.identifier));
        // Silent after committing: it may have died, and its pre-shared commitments with it.
        for (const m of left) this.#pools?.drop(m.identifier);
        const named = left.map((m) => (session.absent.has(m.identifier) ? `${m.label} (${session.absent.get(m.identifier)})` : m.label));
        return {
          ok: false,
          exclude: left.map((m) => m.identifier),
          cause: new FrostbunkerError('TIMEOUT', `no partial signature from ${named.join(', ')}`),
        };
      }
      return this.#aggregate(session, signingPackage, signers, {
        mode: 'two-round',
        round1Ms,
        round2Ms: Math.round(performance.now() - startedMs) - round1Ms,
      });
    } finally {
      this.#sessions.delete(session.sessionId);
    }
  }

  /**
   * Round 1 is ready when k nodes committed, no node that asked its operator is still deciding, and
   * every other node has answered or the veto grace has passed. It ends early on a refusal or when
   * too few nodes remain, and at the deadline otherwise (extended while an operator decides).
   */
  async #awaitRound1(session: OpenSession, candidates: readonly ShareNodeMember[]): Promise<'ready' | 'refused' | 'short' | 'timeout'> {
    const { threshold } = this.#identity.group;
    return this.#awaitQuorum(session, {
      early: () => (candidates.length - session.absent.size < threshold ? 'short' : undefined),
      quorum: () => session.commitments.size >= threshold,
      answeredAll: () => candidates.every((m) => session.commitments.has(m.identifier) || session.absent.has(m.identifier)),
    });
  }

  /**
   * The waiting rule both protocols share: ready once `quorum()` holds, no node is still waiting for
   * its operator, and every node has answered or the veto grace (started when the quorum is first
   * reached) has passed. A refusal or an `early` outcome ends it at once; the deadline otherwise
   * (extended while an operator decides).
   */
  async #awaitQuorum<E extends string>(
    session: OpenSession,
    rule: { early: () => E | 'rearm' | undefined; quorum: () => boolean; answeredAll: () => boolean; wakeAtMs?: () => number | undefined },
  ): Promise<'ready' | 'refused' | 'timeout' | E> {
    const startedMs = performance.now();
    let graceEndsAtMs: number | undefined;
    const quorumCommitted = () => rule.quorum() && session.awaitingApproval.size === 0;
    const check = (): 'ready' | 'refused' | 'rearm' | E | undefined => {
      if (session.refusal) return 'refused';
      const early = rule.early(); // may be 'rearm' too: a new wake-up time
      if (early !== undefined) return early;
      if (!quorumCommitted()) return undefined;
      const answeredAll = rule.answeredAll();
      if (graceEndsAtMs === undefined && !answeredAll) {
        graceEndsAtMs = performance.now() + this.#vetoGraceMs;
        return 'rearm'; // back to the loop, which waits until the grace ends instead
      }
      return answeredAll || performance.now() >= graceEndsAtMs! ? 'ready' : undefined;
    };
    for (;;) {
      const outcome = check();
      if (outcome !== undefined && outcome !== 'rearm') return outcome;
      if (outcome === 'rearm') continue;
      const nowMs = performance.now();
      const deadlineMs = Math.max(startedMs + this.#roundTimeoutMs, ...session.awaitingApproval.values());
      const inGrace = graceEndsAtMs !== undefined && quorumCommitted();
      if (!inGrace && nowMs >= deadlineMs) return 'timeout';
      const wakeAtMs = Math.min(inGrace ? graceEndsAtMs! : deadlineMs, rule.wakeAtMs?.() ?? Infinity);
      const woke = await session.waiter.waitFor(check, Math.max(1, wakeAtMs - nowMs));
      if (woke !== 'timeout' && woke !== 'rearm') return woke;
    }
  }

  #round1Failure(session: OpenSession, candidates: readonly ShareNodeMember[], outcome: 'short' | 'timeout'): Error {
    const { threshold } = this.#identity.group;
    const labels = (ids: Iterable<FrostIdentifier>) => [...ids].map((id) => this.#label(id));
    if (session.awaitingApproval.size > 0) {
      return new FrostbunkerError('TIMEOUT', `no operator decision on ${labels(session.awaitingApproval.keys()).join(', ')} in time`);
    }
    // Short: too many out of service, decided when the last of their refusals came, so a node
    // whose answer is still on its way is not silent. Timeout: whoever has not answered is.
    const silent =
      outcome === 'timeout'
        ? candidates.filter((m) => !session.commitments.has(m.identifier) && !session.absent.has(m.identifier)).map((m) => m.label)
        : [];
    const absent = [...session.absent].map(([id, code]) => `${this.#label(id)} (${code})`);
    const summary =
      outcome === 'timeout'
        ? `${session.commitments.size} of ${threshold} required share nodes answered within ${this.#roundTimeoutMs} ms`
        : `${candidates.length - session.absent.size} of ${threshold} required share nodes can answer`;
    const parts = [silent.length ? `silent: ${silent.join(', ')}` : '', absent.length ? `out of service: ${absent.join(', ')}` : ''];
    return new QuorumError(`quorum unavailable: ${summary}; ${parts.filter(Boolean).join('; ')}`, [...silent, ...labels(session.absent.keys())]);
  }

  #broadcast(members: readonly ShareNodeMember[], message: ToNodeMessage): void {
    if (members.length > 1 && this.#sender.sendToAll !== undefined) {
      this.#sender.sendToAll(members.map((m) => m.nodePubkey), message).catch((error: unknown) => {
        this.#logger.warn('send to share nodes failed', { nodes: members.map((m) => m.label), error: String(error) });
      });
      return;
    }
    for (const member of members) {
      // A failed publish is the same as silence: the round deadline decides.
      this.#sender.send(member.nodePubkey, message).catch((error: unknown) => {
        this.#logger.warn('send to share node failed', { node: member.label, error: String(error) });
      });
    }
  }

  #throwIfRefused(session: OpenSession): void {
    if (session.refusal) throw new VetoError(session.refusal.member.label, `${session.refusal.code}: ${session.refusal.reason}`);
  }

  #label(identifier: FrostIdentifier): string {
    return this.#identity.members.find((m) => m.identifier === identifier)?.label ?? identifier.slice(0, 8);
  }
}
