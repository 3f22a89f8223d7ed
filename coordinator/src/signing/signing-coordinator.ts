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
import { NODE_PROTOCOL_VERSION } from '@frostbunker/shared/protocol';
import type { ReceivedMessage } from '@frostbunker/shared/transport';
import type { Logger } from '@frostbunker/shared/logger';
import type { ShareNodeMember, SigningIdentity } from './identity.js';
import { SessionWaiter } from './session-waiter.js';

export interface SignedEvent extends UnsignedEventMessage {
  id: string;
  sig: string;
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
  logger: Logger;
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
  readonly waiter: SessionWaiter;
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
  readonly #logger: Logger;
  readonly #sessions = new Map<SessionId, OpenSession>();
  #lateMessages = 0;
  #sessionsStarted = 0;

  constructor(options: SigningCoordinatorOptions) {
    this.#identity = options.identity;
    this.#sender = options.sender;
    this.#roundTimeoutMs = options.roundTimeoutMs;
    this.#logger = options.logger;
  }

  get groupPubkey(): XOnlyPubkey {
    return groupXOnlyKey(this.#identity.group);
  }

  stats(): { sessionsStarted: number; lateMessages: number; openSessions: number } {
    return { sessionsStarted: this.#sessionsStarted, lateMessages: this.#lateMessages, openSessions: this.#sessions.size };
  }

  /** Signs `event` (whose pubkey must be the group key) or throws a FrostbunkerError saying why not. */
  async sign(event: UnsignedEventMessage): Promise<SignedEvent> {
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
      const outcome = await this.#runSession(event, eventId, candidates);
      if (outcome.ok) return { ...event, id: eventId, sig: outcome.signature };
      lastCause = outcome.cause;
      for (const identifier of outcome.exclude) excluded.add(identifier);
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
        session.refusal ??= { member, code: message.code, reason: message.reason };
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
      waiter: new SessionWaiter(),
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
      const round1 = await session.waiter.waitFor(
        () => (session.refusal ? 'refused' : session.commitments.size >= threshold ? 'ready' : undefined),
        this.#roundTimeoutMs,
      );
      this.#throwIfRefused(session);
      if (round1 === 'timeout') {
        const silent = candidates.filter((m) => !session.commitments.has(m.identifier)).map((m) => m.label);
        throw new QuorumError(
          `quorum unavailable: ${session.commitments.size} of ${threshold} required share nodes answered within ${this.#roundTimeoutMs} ms; silent: ${silent.join(', ')}`,
          silent,
        );
      }

      const chosen = [...session.commitments.values()].slice(0, threshold);
      const signingPackage = createSigningPackage(hexToBytes(eventId, 32, 'eventId'), chosen);
      session.chosen = new Set(chosen.map((c) => c.identifier));
      session.phase = 'round2';
      const signers = candidates.filter((m) => session.chosen.has(m.identifier));
      this.#broadcast(signers, { ...header, type: 'round2_request', eventId, commitments: chosen });
      const round2 = await session.waiter.waitFor(
        () => (session.refusal ? 'refused' : session.shares.size >= threshold ? 'ready' : undefined),
        this.#roundTimeoutMs,
      );
      this.#throwIfRefused(session);
      if (round2 === 'timeout') {
        const silent = signers.filter((m) => !session.shares.has(m.identifier));
        return {
          ok: false,
          exclude: silent.map((m) => m.identifier),
          cause: new FrostbunkerError('TIMEOUT', `no partial signature from ${silent.map((m) => m.label).join(', ')}`),
        };
      }
      try {
        const signature = aggregateSignature(this.#identity.group, signingPackage, Object.fromEntries(session.shares));
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
