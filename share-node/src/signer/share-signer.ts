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
import { KIND_CONTACTS } from '@frostbunker/shared/nostr';
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
  type UnsignedEventMessage,
} from '@frostbunker/shared/protocol';
import type { NodeLog } from '../node-log.js';
import type { NodeState } from '../node-state.js';
import type { VetoRule } from '../veto/plugin.js';
import { decideVeto } from '../veto/policy.js';
import type { VetoPolicy } from '../veto/policy-schema.js';
import { boundReason } from '../veto/reason.js';
import { decideRound1Binding } from './binding.js';

/** The policy in force and its plugin rules; a getter so a reload takes effect on the next request. */
export interface LoadedPolicy {
  policy: VetoPolicy;
  rules: readonly VetoRule[];
}

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
  policy: () => LoadedPolicy;
  log: NodeLog;
  state: NodeState;
  /** Sends a reply decided later than its request (after the operator's approval decision). */
  sendLater: (message: FromNodeMessage) => void;
  maxPendingSessions?: number;
  sessionTtlMs?: number;
  maxPendingApprovals?: number;
}

export interface PendingApproval {
  sessionId: SessionId;
  eventId: EventId;
  kind: number;
  content: string;
  tags: string[][];
  reason: string;
  expiresInSec: number;
}

interface HeldRequest {
  request: Round1Request;
  reason: string;
  expiresAtSec: number;
  timer: NodeJS.Timeout;
}

/**
 * The share node's half of FROST behind its veto: binding check, kill switch, policy, then (maybe
 * after the operator's approval) fresh nonces held in memory only, and at most one signature per
 * session. Every request gets a reply or an explicit refusal, and a line in the node's own log.
 */
export class ShareSigner {
  readonly #options: ShareSignerOptions;
  readonly #nonces: NonceStore;
  /** The event each pending session approved in round 1; dropped when its nonces are taken. */
  readonly #approved = new Map<SessionId, UnsignedEventMessage & { eventId: EventId }>();
  readonly #held = new Map<SessionId, HeldRequest>();

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
          frozen: this.#options.state.frozen !== null,
        };
      case 'round1_request':
        return this.#round1(message);
      case 'round2_request':
        return this.#round2(message);
    }
  }

  /** Requests held for the operator's decision, oldest first. */
  pendingApprovals(): PendingApproval[] {
    const now = this.#options.nowSec();
    return [...this.#held.values()].map(({ request, reason, expiresAtSec }) => ({
      sessionId: request.sessionId,
      eventId: request.eventId,
      kind: request.event.kind,
      content: request.event.content,
      tags: request.event.tags,
      reason,
      expiresInSec: Math.max(0, expiresAtSec - now),
    }));
  }

  /** Applies the operator's decision to the held request whose session id starts with `prefix`. */
  decideApproval(prefix: string, approve: boolean, reason = 'denied by the node operator'): { ok: boolean; message: string } {
    const matches = [...this.#held.keys()].filter((sessionId) => sessionId.startsWith(prefix));
    if (matches.length !== 1) {
      return { ok: false, message: matches.length === 0 ? `no pending request ${prefix}` : `ambiguous id ${prefix}` };
    }
    const held = this.#held.get(matches[0]!)!;
    clearTimeout(held.timer);
    this.#held.delete(held.request.sessionId);
    const { request } = held;
    if (!approve) {
      this.#options.log.append({ decision: 'approval_denied', sessionId: request.sessionId, eventId: request.eventId, kind: request.event.kind, reason });
      this.#options.sendLater(this.#refuse(request, 'approval_denied', boundReason(reason)));
      return { ok: true, message: `denied ${request.sessionId}` };
    }
    this.#options.log.append({ decision: 'approved', sessionId: request.sessionId, eventId: request.eventId, kind: request.event.kind });
    const reply = this.#options.state.frozen ? this.#refuse(request, 'frozen', 'frozen') : this.#commit(request);
    this.#options.sendLater(reply);
    return { ok: true, message: `approved ${request.sessionId}` };
  }

  /** Kill switch: refuse everything until `unfreeze`; survives restarts (NodeState). */
  freeze(reason: string): void {
    this.#options.state.setFrozen({ reason: reason.slice(0, 200), sinceSec: this.#options.nowSec() });
    this.#options.log.append({ decision: 'frozen', reason });
    for (const prefix of [...this.#held.keys()]) this.decideApproval(prefix, false, 'frozen');
  }

  unfreeze(): void {
    this.#options.state.setFrozen(null);
    this.#options.log.append({ decision: 'unfrozen' });
  }

  #round1(request: Round1Request): FromNodeMessage {
    this.#nonces.purgeExpired();
    for (const sessionId of this.#approved.keys()) if (!this.#nonces.has(sessionId)) this.#approved.delete(sessionId);
    const binding = decideRound1Binding(request, this.#options);
    if (!binding.ok) return this.#refuse(request, binding.code, binding.reason);
    if (this.#options.state.frozen) return this.#refuse(request, 'frozen', 'frozen');
    if (this.#held.has(request.sessionId)) return this.#refuse(request, 'session_reused', 'session id already used');

    const { policy, rules } = this.#options.policy();
    const verdict = decideVeto(
      request.event,
      policy,
      {
        nowSec: this.#options.nowSec(),
        approvedCounts: this.#options.log.approvedCounts(),
        ...(this.#options.state.contactListFollows ? { latestContactListFollows: this.#options.state.contactListFollows } : {}),
      },
      rules,
    );
    if (verdict.decision === 'deny') return this.#refuse(request, 'vetoed', boundReason(`${verdict.rule}: ${verdict.reason}`));
    if (verdict.decision === 'ask') return this.#hold(request, boundReason(`${verdict.rule}: ${verdict.reason}`), policy.approvalTimeoutSec);
    return this.#commit(request);
  }

  #hold(request: Round1Request, reason: string, approvalTimeoutSec: number): FromNodeMessage {
    if (this.#held.size >= (this.#options.maxPendingApprovals ?? 16)) {
      return this.#refuse(request, 'busy', 'too many requests awaiting approval');
    }
    const timer = setTimeout(() => {
      if (!this.#held.delete(request.sessionId)) return;
      this.#options.log.append({ decision: 'approval_timeout', sessionId: request.sessionId, eventId: request.eventId, kind: request.event.kind });
      this.#options.sendLater(this.#refuse(request, 'approval_timeout', `no operator decision within ${approvalTimeoutSec} s`));
    }, approvalTimeoutSec * 1000);
    timer.unref();
    this.#held.set(request.sessionId, { request, reason, expiresAtSec: this.#options.nowSec() + approvalTimeoutSec, timer });
    this.#options.log.append({ decision: 'pending', sessionId: request.sessionId, eventId: request.eventId, kind: request.event.kind, reason });
    this.#options.logger.info('awaiting operator approval', { sessionId: request.sessionId, kind: request.event.kind, reason });
    return { ...this.#header(request.sessionId), type: 'round1_pending', eventId: request.eventId, approvalTimeoutSec, reason };
  }

  #commit(request: Round1Request): FromNodeMessage {
    const { nonces, commitments } = commit(this.#options.share);
    try {
      this.#nonces.put(request.sessionId, nonces);
    } catch {
      // NonceStore refuses a session id it has seen: a replayed or reused session.
      nonces.discard();
      return this.#refuse(request, 'session_reused', 'session id already used');
    }
    this.#approved.set(request.sessionId, { ...request.event, eventId: request.eventId });
    this.#options.log.append({ decision: 'committed', sessionId: request.sessionId, eventId: request.eventId, kind: request.event.kind });
    return { ...this.#header(request.sessionId), type: 'round1_commitments', eventId: request.eventId, commitments };
  }

  #round2(request: Round2Request): FromNodeMessage {
    if (request.groupId !== this.#options.groupId) return this.#refuse(request, 'unknown_group', 'unknown group');
    if (request.epoch !== this.#options.epoch) return this.#refuse(request, 'wrong_epoch', 'wrong epoch');
    const approved = this.#approved.get(request.sessionId);
    if (approved === undefined || !this.#nonces.has(request.sessionId)) {
      return this.#refuse(request, 'unknown_session', 'no pending round 1 for this session');
    }
    // The package must be for the event approved in round 1: one message per session.
    if (approved.eventId !== request.eventId) {
      return this.#refuse(request, 'event_mismatch', 'round 2 is for another event than round 1');
    }
    const known = new Set(Object.keys(this.#options.group.verifyingShares));
    if (!request.commitments.every((c) => known.has(c.identifier))) {
      return this.#refuse(request, 'bad_package', 'package names a non-member');
    }
    const nonces = this.#nonces.take(request.sessionId);
    this.#approved.delete(request.sessionId);
    let signatureShare: string;
    try {
      const pkg = createSigningPackage(hexToBytes(request.eventId), request.commitments);
      signatureShare = signShare(this.#options.share, this.#options.group, nonces, pkg);
    } catch (error) {
      // signShare consumed the nonces whatever happened: the coordinator must start over.
      const reason = error instanceof FrostbunkerError ? error.message : 'invalid signing package';
      return this.#refuse(request, 'bad_package', boundReason(reason));
    }
    this.#options.log.append({ decision: 'signed', sessionId: request.sessionId, eventId: request.eventId, kind: approved.kind });
    if (approved.kind === KIND_CONTACTS) {
      this.#options.state.setContactListFollows(approved.tags.filter((t) => t[0] === 'p' && t[1]).map((t) => t[1]!));
    }
    return { ...this.#header(request.sessionId), type: 'round2_share', eventId: request.eventId, signatureShare };
  }

  #refuse(request: Round1Request | Round2Request, code: RefusalCode, reason: string): FromNodeMessage {
    const kind = request.type === 'round1_request' ? request.event.kind : undefined;
    this.#options.log.append({ decision: 'refused', sessionId: request.sessionId, eventId: request.eventId, ...(kind === undefined ? {} : { kind }), code, reason });
    this.#options.logger.warn('refused', { sessionId: request.sessionId, code, reason });
    return { ...this.#header(request.sessionId), type: 'refusal', code, reason };
  }

  #header(sessionId: SessionId): { v: typeof NODE_PROTOCOL_VERSION; groupId: GroupId; epoch: number; sessionId: SessionId } {
    return { v: NODE_PROTOCOL_VERSION, groupId: this.#options.groupId, epoch: this.#options.epoch, sessionId };
  }
}
