import { randomBytes } from 'node:crypto';
import {
  aggregateSignature,
  computeEventId,
  createSigningPackage,
  groupXOnlyKey,
  hexToBytes,
  type SigningCommitments,
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
import { NODE_PROTOCOL_VERSION, NON_STICKY_REFUSALS } from '@frostbunker/shared/protocol';
import type { ReceivedMessage } from '@frostbunker/shared/transport';
import type { Logger } from '@frostbunker/shared/logger';
import type { ShareNodeMember, SigningIdentity } from './identity.js';
import { SessionWaiter } from './session-waiter.js';

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
}

/** What the metrics want to hear from inside a signing request. */
export interface SigningObserver {
  /** A session failed and another starts without `excluded` (labels); `cause` says why. */
  failover(excluded: readonly string[], cause: 'silence' | 'invalid_partial'): void;
}

interface OpenSession {
  readonly sessionId: SessionId;
  readonly eventId: EventId;
  readonly candidates: ReadonlyMap<XOnlyPubkey, ShareNodeMember>;
  phase: 'round1' | 'round2';
  /** Arrival order is kept: the first k valid commitments win. */
  readonly commitments: Map<FrostIdentifier, SigningCommitments>;
  chosen: ReadonlySet<FrostIdentifier>;
  readonly shares: Map<FrostIdentifier, string>;
  refusal: { member: ShareNodeMember; code: string; reason: string } | undefined;
  /** Nodes holding round 1 for their operator: they must take part, however long it takes (bounded). */
  readonly awaitingApproval: Map<FrostIdentifier, number>;
  /** Nodes that asked for approval; they are chosen first once they commit. */
  readonly required: Set<FrostIdentifier>;
  /** Nodes out of service for this session (`frozen`, `busy`): like silence, but known at once. */
  readonly absent: Map<FrostIdentifier, string>;
  readonly waiter: SessionWaiter;
  readonly hooks: SignHooks;
}

type SessionOutcome =
  | { ok: true; signature: string }
  /** Retry without `exclude` (silent in round 2, or named culprits). */
  | { ok: false; exclude: FrostIdentifier[]; cause: Error };

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
  #lateMessages = 0;
  #sessionsStarted = 0;

  constructor(options: SigningCoordinatorOptions) {
    this.#identity = options.identity;
    this.#sender = options.sender;
    this.#roundTimeoutMs = options.roundTimeoutMs;
    this.#vetoGraceMs = options.vetoGraceMs ?? 300;
    this.#logger = options.logger;
    this.#observer = options.observer;
  }

  get groupPubkey(): XOnlyPubkey {
    return groupXOnlyKey(this.#identity.group);
  }

  stats(): { sessionsStarted: number; lateMessages: number; openSessions: number } {
    return { sessionsStarted: this.#sessionsStarted, lateMessages: this.#lateMessages, openSessions: this.#sessions.size };
  }

  /** Signs `event` (whose pubkey must be the group key) or throws a FrostbunkerError saying why not. */
  async sign(event: UnsignedEventMessage, hooks: SignHooks = {}): Promise<SignedEvent> {
    if (event.pubkey !== this.groupPubkey) {
      throw new FrostbunkerError('PROTOCOL_INVALID', 'event pubkey is not the group key');
    }
    const eventId = computeEventId(event);
    const { threshold } = this.#identity.group;
    const excluded = new Set<FrostIdentifier>();
    const maxSessions = this.#identity.members.length - threshold + 1;
    let lastCause: Error | undefined;
    for (let attempt = 0; attempt < maxSessions; attempt++) {
      const candidates = this.#identity.members.filter((m) => !excluded.has(m.identifier));
      if (candidates.length < threshold) break;
      const outcome = await this.#runSession(event, eventId, candidates, hooks);
      if (outcome.ok) return { ...event, id: eventId, sig: outcome.signature };
      lastCause = outcome.cause;
      for (const identifier of outcome.exclude) excluded.add(identifier);
      this.#observer?.failover(outcome.exclude.map((id) => this.#label(id)), outcome.cause instanceof CheaterError ? 'invalid_partial' : 'silence');
      this.#logger.warn('signing session failed, retrying without nodes', {
        eventId,
        excluded: [...excluded].map((id) => this.#label(id)),
        cause: outcome.cause.message,
      });
    }
    if (lastCause instanceof CheaterError) throw lastCause;
    throw new QuorumError(
      `quorum unavailable: ${threshold} signers needed; ${lastCause?.message ?? 'too few nodes'}`,
      [...excluded].map((id) => this.#label(id)),
    );
  }

  /** Routes one authenticated inbound node message to its session; anything else is counted. */
  handleMessage(received: ReceivedMessage<FromNodeMessage>): void {
    const { message, senderPubkey } = received;
    if (message.type === 'pong') return;
    if (message.groupId !== this.#identity.groupId) return;
    const session = this.#sessions.get(message.sessionId);
    const member = session?.candidates.get(senderPubkey);
    if (!session || !member || message.epoch !== this.#identity.epoch) {
      this.#lateMessages++;
      return;
    }
    switch (message.type) {
      case 'refusal':
        session.awaitingApproval.delete(member.identifier);
        if (NON_STICKY_REFUSALS.has(message.code)) session.absent.set(member.identifier, message.code);
        else session.refusal ??= { member, code: message.code, reason: message.reason };
        break;
      case 'round1_pending':
        if (session.phase === 'round1' && message.eventId === session.eventId) {
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
          this.#lateMessages++;
        }
        break;
      case 'round2_share':
        if (session.phase === 'round2' && message.eventId === session.eventId && session.chosen.has(member.identifier)) {
          session.shares.set(member.identifier, message.signatureShare);
        } else {
          this.#lateMessages++;
        }
        break;
    }
    session.waiter.poke();
  }

  async #runSession(
    event: UnsignedEventMessage,
    eventId: EventId,
    candidates: readonly ShareNodeMember[],
    hooks: SignHooks,
  ): Promise<SessionOutcome> {
    const { threshold } = this.#identity.group;
    const session: OpenSession = {
      sessionId: randomBytes(16).toString('hex') as SessionId,
      eventId,
      candidates: new Map(candidates.map((m) => [m.nodePubkey, m])),
      phase: 'round1',
      commitments: new Map(),
      chosen: new Set(),
      shares: new Map(),
      refusal: undefined,
      awaitingApproval: new Map(),
      required: new Set(),
      absent: new Map(),
      waiter: new SessionWaiter(),
      hooks,
    };
    this.#sessions.set(session.sessionId, session);
    this.#sessionsStarted++;
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
        const silent = signers.filter((m) => !session.shares.has(m.identifier));
        return {
          ok: false,
          exclude: silent.map((m) => m.identifier),
          cause: new FrostbunkerError('TIMEOUT', `no partial signature from ${silent.map((m) => m.label).join(', ')}`),
        };
      }
      try {
        const signature = aggregateSignature(this.#identity.group, signingPackage, Object.fromEntries(session.shares));
        this.#logger.info('signing session done', {
          eventId,
          signers: signers.map((m) => m.label),
          round1Ms,
          round2Ms: Math.round(performance.now() - startedMs) - round1Ms,
        });
        return { ok: true, signature };
      } catch (error) {
        if (!(error instanceof CheaterError)) throw error;
        const named = new CheaterError(error.culprits.map((id) => this.#label(id as FrostIdentifier)));
        this.#logger.warn('invalid partial signature', { eventId, culprits: named.culprits });
        return { ok: false, exclude: error.culprits as FrostIdentifier[], cause: named };
      }
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
    const startedMs = performance.now();
    let graceEndsAtMs: number | undefined;
    const quorumCommitted = () => session.commitments.size >= threshold && session.awaitingApproval.size === 0;
    const check = () => {
      if (session.refusal) return 'refused' as const;
      if (candidates.length - session.absent.size < threshold) return 'short' as const;
      if (!quorumCommitted()) return undefined;
      const answeredAll = candidates.every((m) => session.commitments.has(m.identifier) || session.absent.has(m.identifier));
      if (graceEndsAtMs === undefined && !answeredAll) {
        graceEndsAtMs = performance.now() + this.#vetoGraceMs;
        return 'rearm' as const; // back to the loop, which waits until the grace ends instead
      }
      return answeredAll || performance.now() >= graceEndsAtMs! ? ('ready' as const) : undefined;
    };
    for (;;) {
      const outcome = check();
      if (outcome && outcome !== 'rearm') return outcome;
      if (outcome === 'rearm') continue;
      const nowMs = performance.now();
      const deadlineMs = Math.max(startedMs + this.#roundTimeoutMs, ...session.awaitingApproval.values());
      const inGrace = graceEndsAtMs !== undefined && quorumCommitted();
      if (!inGrace && nowMs >= deadlineMs) return 'timeout';
      const wakeAtMs = inGrace ? graceEndsAtMs! : deadlineMs;
      await session.waiter.waitFor(check, Math.max(1, wakeAtMs - nowMs));
    }
  }

  #round1Failure(session: OpenSession, candidates: readonly ShareNodeMember[], outcome: 'short' | 'timeout'): Error {
    const { threshold } = this.#identity.group;
    const labels = (ids: Iterable<FrostIdentifier>) => [...ids].map((id) => this.#label(id));
    if (session.awaitingApproval.size > 0) {
      return new FrostbunkerError('TIMEOUT', `no operator decision on ${labels(session.awaitingApproval.keys()).join(', ')} in time`);
    }
    const silent = candidates
      .filter((m) => !session.commitments.has(m.identifier) && !session.absent.has(m.identifier))
      .map((m) => m.label);
    const absent = [...session.absent].map(([id, code]) => `${this.#label(id)} (${code})`);
    const answered = outcome === 'timeout' ? `answered within ${this.#roundTimeoutMs} ms` : 'can answer';
    const parts = [silent.length ? `silent: ${silent.join(', ')}` : '', absent.length ? `out of service: ${absent.join(', ')}` : ''];
    return new QuorumError(
      `quorum unavailable: ${session.commitments.size} of ${threshold} required share nodes ${answered}; ${parts.filter(Boolean).join('; ')}`,
      [...silent, ...labels(session.absent.keys())],
    );
  }

  #broadcast(members: readonly ShareNodeMember[], message: ToNodeMessage): void {
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
