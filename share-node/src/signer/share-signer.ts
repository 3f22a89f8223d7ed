import {
  commit,
  createSigningPackage,
  hexToBytes,
  NonceStore,
  signShare,
  type GroupPackage,
  type SigningShare,
} from '@frostbunker/shared/crypto';
import { FrostbunkerError } from '@frostbunker/shared/errors';
import type { Logger } from '@frostbunker/shared/logger';
import {
  NODE_PROTOCOL_VERSION,
  type EventId,
  type FromNodeMessage,
  type GroupId,
  type RefusalCode,
  type Round1Request,
  type Round2Request,
  type SessionId,
  type ToNodeMessage,
} from '@frostbunker/shared/protocol';
import { decideRound1Binding } from './binding.js';

export interface ShareSignerOptions {
  groupId: GroupId;
  epoch: number;
  group: GroupPackage;
  groupPubkey: string;
  share: SigningShare;
  logger: Logger;
  nowSec: () => number;
  /** Monotonic milliseconds for nonce expiry. */
  monotonicMs: () => number;
  maxPendingSessions?: number;
  sessionTtlMs?: number;
}

/**
 * The share node's half of FROST: commits only after the binding check, signs at most once per
 * session with nonces that live in memory only, and answers every request with a reply or an
 * explicit refusal (never silence on refusal, unlike bifrost's node).
 */
export class ShareSigner {
  readonly #options: ShareSignerOptions;
  readonly #nonces: NonceStore;
  /** The event each pending session approved in round 1; dropped when its nonces are taken. */
  readonly #approved = new Map<SessionId, EventId>();

  constructor(options: ShareSignerOptions) {
    this.#options = options;
    this.#nonces = new NonceStore({
      maxPending: options.maxPendingSessions ?? 64,
      ttlMs: options.sessionTtlMs ?? 30_000,
      now: options.monotonicMs,
    });
  }

  get pendingSessions(): number {
    return this.#nonces.size;
  }

  /** Answers one authenticated coordinator message. */
  handle(message: ToNodeMessage): FromNodeMessage {
    switch (message.type) {
      case 'ping':
        return {
          ...this.#header(message.sessionId),
          type: 'pong',
          identifier: this.#options.share.identifier,
          nodeTimeSec: this.#options.nowSec(),
        };
      case 'round1_request':
        return this.#round1(message);
      case 'round2_request':
        return this.#round2(message);
    }
  }

  #round1(request: Round1Request): FromNodeMessage {
    this.#nonces.purgeExpired();
    for (const sessionId of this.#approved.keys()) if (!this.#nonces.has(sessionId)) this.#approved.delete(sessionId);
    const binding = decideRound1Binding(request, { ...this.#options, nowSec: this.#options.nowSec() });
    if (!binding.ok) return this.#refuse(request.sessionId, binding.code, binding.reason);
    const { nonces, commitments } = commit(this.#options.share);
    try {
      this.#nonces.put(request.sessionId, nonces);
    } catch {
      // NonceStore refuses a session id it has seen: a replayed or reused session.
      nonces.discard();
      return this.#refuse(request.sessionId, 'session_reused', 'session id already used');
    }
    this.#approved.set(request.sessionId, request.eventId);
    this.#options.logger.info('round1 committed', { sessionId: request.sessionId, eventId: request.eventId, kind: request.event.kind });
    return { ...this.#header(request.sessionId), type: 'round1_commitments', eventId: request.eventId, commitments };
  }

  #round2(request: Round2Request): FromNodeMessage {
    if (request.groupId !== this.#options.groupId) return this.#refuse(request.sessionId, 'unknown_group', 'unknown group');
    if (request.epoch !== this.#options.epoch) return this.#refuse(request.sessionId, 'wrong_epoch', 'wrong epoch');
    const approvedEventId = this.#approved.get(request.sessionId);
    if (approvedEventId === undefined || !this.#nonces.has(request.sessionId)) {
      return this.#refuse(request.sessionId, 'unknown_session', 'no pending round 1 for this session');
    }
    // The package must be for the event approved in round 1: one message per session.
    if (approvedEventId !== request.eventId) {
      return this.#refuse(request.sessionId, 'event_mismatch', 'round 2 is for another event than round 1');
    }
    const known = new Set(Object.keys(this.#options.group.verifyingShares));
    if (!request.commitments.every((c) => known.has(c.identifier))) {
      return this.#refuse(request.sessionId, 'bad_package', 'package names a non-member');
    }
    const nonces = this.#nonces.take(request.sessionId);
    this.#approved.delete(request.sessionId);
    try {
      const pkg = createSigningPackage(hexToBytes(request.eventId), request.commitments);
      const signatureShare = signShare(this.#options.share, this.#options.group, nonces, pkg);
      this.#options.logger.info('round2 signed', { sessionId: request.sessionId, eventId: request.eventId });
      return { ...this.#header(request.sessionId), type: 'round2_share', eventId: request.eventId, signatureShare };
    } catch (error) {
      // The nonces were taken above, so a bad package burns them: the coordinator must start over.
      const reason = error instanceof FrostbunkerError ? error.message : 'invalid signing package';
      return this.#refuse(request.sessionId, 'bad_package', reason.slice(0, 200));
    }
  }

  #refuse(sessionId: SessionId, code: RefusalCode, reason: string): FromNodeMessage {
    this.#options.logger.warn('refused', { sessionId, code, reason });
    return { ...this.#header(sessionId), type: 'refusal', code, reason };
  }

  #header(sessionId: SessionId): { v: typeof NODE_PROTOCOL_VERSION; groupId: GroupId; epoch: number; sessionId: SessionId } {
    return { v: NODE_PROTOCOL_VERSION, groupId: this.#options.groupId, epoch: this.#options.epoch, sessionId };
  }
}
