import {
  commit,
  CommitmentPool,
  createSigningPackage,
  hexToBytes,
  NonceStore,
  signShare,
  type GroupPackage,
  type SigningNonces,
  type SigningPackage,
  type SigningShare,
} from '@frostbunker/shared/crypto';
import { FrostbunkerError } from '@frostbunker/shared/errors';
import type { Logger } from '@frostbunker/shared/logger';
import { KIND_CONTACTS } from '@frostbunker/shared/nostr';
import {
  MAX_POOL_BATCH,
  NODE_PROTOCOL_VERSION,
  ONE_ROUND_PROTOCOL_VERSION,
  type EventId,
  type FromNodeMessage,
  type GroupId,
  type RefusalCode,
  type NoncePoolRequest,
  type Round1Request,
  type Round2Request,
  type SessionId,
  type SignRequest,
  type ToNodeMessage,
  type UnsignedEventMessage,
} from '@frostbunker/shared/protocol';
import type { NodeLog, NodeLogRecord } from '../node-log.js';
import type { NodeState } from '../node-state.js';
import type { VetoRule } from '../veto/plugin.js';
import { decideVeto } from '../veto/policy.js';
import type { VetoPolicy } from '../veto/policy-schema.js';
import { boundReason } from '../veto/reason.js';
import { decideRound1Binding } from './binding.js';
import { forgeSignatureShare, type ByzantineShare } from './byzantine.js';
import type { NonceLedger } from './nonce-ledger.js';

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
  /**
   * Sends a reply decided later than its request (after the operator's approval decision); it
   * must not leave before `after` resolves (its witness lines are then on disk).
   */
  sendLater: (message: FromNodeMessage, after: Promise<void>) => void;
  maxPendingSessions?: number;
  sessionTtlMs?: number;
  maxPendingApprovals?: number;
  /** One-round signing: most pre-shared commitments held at once (default 64). */
  maxPooledCommitments?: number;
  /** One-round signing: an unused pre-shared commitment dies after this (default 10 min). */
  pooledCommitmentTtlMs?: number;
  /** Test mode only (RELIABILITY.md §3): inert unless the test-mode environment armed something. */
  testHooks?: SignerTestHooks;
}

/** Crash points on the signing path (G4): our commitment exists but is not sent; the package arrived. */
export type SigningFailpoint = 'round1.after_commit' | 'round2.after_package';

/** What a test-mode node adds to the signing path; main.ts builds it from the test-mode environment. */
export interface SignerTestHooks {
  /** Kills or throws when the named failpoint is armed. */
  failpoint?: (name: SigningFailpoint) => void;
  /** Records every commitment issued and every partial signature computed (RELIABILITY.md §3.6). */
  ledger?: NonceLedger;
  /** Sends this kind of wrong z_i instead of the honest one (G7). */
  byzantine?: ByzantineShare;
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
  request: Round1Request | SignRequest;
  /** One-round signer: the nonces taken from the pool for this request, zeroed on any outcome. */
  nonces: SigningNonces | undefined;
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
  /**
   * One-round signing: commitments issued ahead of any event (memory only, so a restart purges
   * them; a new epoch is a new ShareSigner, so an epoch change does too).
   */
  readonly #pool: CommitmentPool;

  constructor(options: ShareSignerOptions) {
    this.#options = options;
    this.#nonces = new NonceStore({
      maxPending: options.maxPendingSessions ?? 64,
      ttlMs: options.sessionTtlMs ?? 30_000,
      now: options.monotonicMs,
    });
    this.#pool = new CommitmentPool({
      maxPooled: options.maxPooledCommitments ?? 64,
      ttlMs: options.pooledCommitmentTtlMs ?? 600_000,
      now: options.monotonicMs,
    });
  }

  get pendingSessions(): number {
    return this.#nonces.size;
  }

  /** One-round signing: unused pre-shared commitments this node holds. */
  get pooledCommitments(): number {
    return this.#pool.size;
  }

  /** One-round signing: replacement commitments made ahead, not yet handed out. */
  get preparedCommitments(): number {
    return this.#pool.prepared;
  }

  /**
   * Answers one authenticated coordinator message. The answer may leave only once `logged()`
   * resolves: its witness lines are written but not yet fsynced, so the caller seals the reply
   * while the fsync runs (issue 9).
   */
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
      case 'nonce_pool_request':
        return this.#issuePool(message);
      case 'sign_request':
        return this.#oneRound(message);
    }
  }

  /** Resolves once every witness line written so far is on disk (node log fsync). */
  logged(): Promise<void> {
    return this.#options.log.flush();
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
      held.nonces?.discard();
      this.#witness({ decision: 'approval_denied', sessionId: request.sessionId, eventId: request.eventId, kind: request.event.kind, reason });
      this.#sendLater(this.#refuse(request, 'approval_denied', boundReason(reason)));
      return { ok: true, message: `denied ${request.sessionId}` };
    }
    this.#witness({ decision: 'approved', sessionId: request.sessionId, eventId: request.eventId, kind: request.event.kind });
    let reply: FromNodeMessage;
    if (this.#options.state.frozen) {
      held.nonces?.discard();
      reply = this.#refuse(request, 'frozen', 'frozen');
    } else {
      reply = request.type === 'sign_request' ? this.#agreeOneRound(request, held.nonces) : this.#commit(request);
    }
    this.#sendLater(reply);
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

    const verdict = this.#verdict(request.event);
    if (verdict.decision === 'deny') return this.#refuse(request, 'vetoed', verdict.reason);
    if (verdict.decision === 'ask') return this.#hold(request, verdict.reason, verdict.approvalTimeoutSec);
    return this.#commit(request);
  }

  /** The veto policy's verdict on the full event, with the reason already bounded for the wire. */
  #verdict(event: UnsignedEventMessage): { decision: 'allow' } | { decision: 'deny'; reason: string } | { decision: 'ask'; reason: string; approvalTimeoutSec: number } {
    const { policy, rules } = this.#options.policy();
    const verdict = decideVeto(
      event,
      policy,
      {
        nowSec: this.#options.nowSec(),
        approvedCounts: this.#options.log.approvedCounts(),
        ...(this.#options.state.contactListFollows ? { latestContactListFollows: this.#options.state.contactListFollows } : {}),
      },
      rules,
    );
    if (verdict.decision === 'allow') return { decision: 'allow' };
    const reason = boundReason(`${verdict.rule}: ${verdict.reason}`);
    return verdict.decision === 'deny' ? { decision: 'deny', reason } : { decision: 'ask', reason, approvalTimeoutSec: policy.approvalTimeoutSec };
  }

  /**
   * One-round signing, ahead of any event: fresh commitments for the coordinator's pool. A frozen
   * node issues none, so the coordinator does not pick it for a one-round session.
   */
  #issuePool(request: NoncePoolRequest): FromNodeMessage {
    if (request.groupId !== this.#options.groupId) return this.#refuse(request, 'unknown_group', 'unknown group');
    if (request.epoch !== this.#options.epoch) return this.#refuse(request, 'wrong_epoch', `epoch ${request.epoch}, this node is at ${this.#options.epoch}`);
    const commitments = this.#options.state.frozen ? [] : this.#pool.issue(this.#options.share, Math.min(request.count, MAX_POOL_BATCH));
    this.#options.testHooks?.ledger?.record(commitments, request.sessionId, 'commit');
    return { ...this.#headerV2(request.sessionId), type: 'nonce_pool', commitments };
  }

  /**
   * One-round signing (DESIGN.md "Signing", issue 9): the same checks as round 1 on the full event,
   * in the same order, then z_i at once. Nothing is consumed before the binding (group, epoch,
   * pubkey, recomputed id), the session id and the package pass; from the moment our commitment is
   * found it is gone, whatever follows (frozen, veto, operator denial, bad package).
   */
  #oneRound(request: SignRequest): FromNodeMessage {
    const binding = decideRound1Binding(request, this.#options);
    if (!binding.ok) return this.#refuse(request, binding.code, binding.reason);
    if (!this.#pool.claimSession(request.sessionId) || this.#held.has(request.sessionId)) {
      return this.#refuse(request, 'session_reused', 'session id already used');
    }
    const { group, share } = this.#options;
    if (request.commitments.length < group.threshold || request.commitments.length > group.maxSigners) {
      return this.#refuse(request, 'bad_package', `package has ${request.commitments.length} signers, threshold is ${group.threshold}`);
    }
    if (!request.commitments.every((c) => group.verifyingShares[c.identifier] !== undefined)) {
      return this.#refuse(request, 'bad_package', 'package names a non-member');
    }
    const own = request.commitments.find((c) => c.identifier === share.identifier);
    let nonces: SigningNonces | undefined;
    if (own !== undefined) {
      nonces = this.#pool.take(own);
      // Never issued by this process, already used, or expired: the coordinator's pool is stale
      // (this node restarted) or it is replaying; either way nothing can be signed with it.
      if (nonces === undefined) return this.#refuse(request, 'commitment_unknown', 'commitment not issued by this node or already used');
      this.#options.testHooks?.failpoint?.('round2.after_package');
    }
    if (this.#options.state.frozen) {
      nonces?.discard();
      return this.#refuse(request, 'frozen', 'frozen');
    }
    const verdict = this.#verdict(request.event);
    if (verdict.decision === 'deny') {
      nonces?.discard();
      return this.#refuse(request, 'vetoed', verdict.reason);
    }
    if (verdict.decision === 'ask') return this.#hold(request, verdict.reason, verdict.approvalTimeoutSec, nonces);
    return this.#agreeOneRound(request, nonces);
  }

  /** After policy (and maybe the operator) agreed: a signer answers z_i, a voter its vote. */
  #agreeOneRound(request: SignRequest, nonces: SigningNonces | undefined): FromNodeMessage {
    // The same witness line as round 1's commitment: the node agreed to this event (rate limits
    // count it). A signer's next line ('signed', or the refusal) follows; one fsync makes both
    // durable before the answer leaves (`logged`).
    this.#witness({ decision: 'committed', sessionId: request.sessionId, eventId: request.eventId, kind: request.event.kind });
    const header = this.#headerV2(request.sessionId);
    if (nonces === undefined) return { ...header, type: 'sign_vote', eventId: request.eventId };
    const signatureShare = this.#shareForPackage(request, nonces);
    if (typeof signatureShare !== 'string') return signatureShare;
    this.#witness({ decision: 'signed', sessionId: request.sessionId, eventId: request.eventId, kind: request.event.kind });
    if (request.event.kind === KIND_CONTACTS) {
      this.#options.state.setContactListFollows(request.event.tags.filter((t) => t[0] === 'p' && t[1]).map((t) => t[1]!));
    }
    // One fresh commitment back for the one used, so a busy pool refills without extra messages;
    // made ahead while the node was idle, and the next one is made once this answer is on its way.
    const next = this.#pool.issue(this.#options.share, 1);
    setImmediate(() => this.#pool.prepare(this.#options.share, 1));
    this.#options.testHooks?.ledger?.record(next, request.sessionId, 'commit');
    this.#options.testHooks?.failpoint?.('round1.after_commit');
    return { ...header, type: 'sign_share', eventId: request.eventId, signatureShare, next };
  }

  /** z_i for the package `request` names, or the refusal when the package is bad; the nonces are consumed either way. */
  #shareForPackage(request: Round2Request | SignRequest, nonces: SigningNonces): string | FromNodeMessage {
    try {
      return this.#signatureShare(nonces, createSigningPackage(hexToBytes(request.eventId), request.commitments), request.sessionId);
    } catch (error) {
      const reason = error instanceof FrostbunkerError ? error.message : 'invalid signing package';
      return this.#refuse(request, 'bad_package', boundReason(reason));
    } finally {
      nonces.discard();
    }
  }

  /** z_i with `nonces` (consumed whatever happens); a test-mode byzantine node lies here. */
  #signatureShare(nonces: SigningNonces, pkg: SigningPackage, sessionId: SessionId): string {
    const { share, group, testHooks } = this.#options;
    if (testHooks?.byzantine !== undefined) {
      const forged = forgeSignatureShare(testHooks.byzantine, { share, group, nonces, pkg });
      if (forged.signedWith !== undefined) testHooks.ledger?.record([forged.signedWith], sessionId, 'sign');
      this.#options.logger.warn('TEST MODE: byzantine partial signature sent', { sessionId, variant: testHooks.byzantine });
      return forged.signatureShare;
    }
    const signatureShare = signShare(share, group, nonces, pkg);
    testHooks?.ledger?.record([nonces.commitments], sessionId, 'sign');
    return signatureShare;
  }

  #hold(request: Round1Request | SignRequest, reason: string, approvalTimeoutSec: number, nonces?: SigningNonces): FromNodeMessage {
    if (this.#held.size >= (this.#options.maxPendingApprovals ?? 16)) {
      nonces?.discard();
      return this.#refuse(request, 'busy', 'too many requests awaiting approval');
    }
    const timer = setTimeout(() => {
      if (!this.#held.delete(request.sessionId)) return;
      nonces?.discard();
      this.#witness({ decision: 'approval_timeout', sessionId: request.sessionId, eventId: request.eventId, kind: request.event.kind });
      this.#sendLater(this.#refuse(request, 'approval_timeout', `no operator decision within ${approvalTimeoutSec} s`));
    }, approvalTimeoutSec * 1000);
    timer.unref();
    this.#held.set(request.sessionId, { request, nonces, reason, expiresAtSec: this.#options.nowSec() + approvalTimeoutSec, timer });
    this.#witness({ decision: 'pending', sessionId: request.sessionId, eventId: request.eventId, kind: request.event.kind, reason });
    this.#options.logger.info('awaiting operator approval', { sessionId: request.sessionId, kind: request.event.kind, reason });
    return { ...this.#replyHeader(request), type: 'round1_pending', eventId: request.eventId, approvalTimeoutSec, reason };
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
    this.#witness({ decision: 'committed', sessionId: request.sessionId, eventId: request.eventId, kind: request.event.kind });
    this.#options.testHooks?.ledger?.record([commitments], request.sessionId, 'commit');
    this.#options.testHooks?.failpoint?.('round1.after_commit');
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
    this.#options.testHooks?.failpoint?.('round2.after_package');
    const signatureShare = this.#shareForPackage(request, nonces);
    if (typeof signatureShare !== 'string') return signatureShare;
    this.#witness({ decision: 'signed', sessionId: request.sessionId, eventId: request.eventId, kind: approved.kind });
    if (approved.kind === KIND_CONTACTS) {
      this.#options.state.setContactListFollows(approved.tags.filter((t) => t[0] === 'p' && t[1]).map((t) => t[1]!));
    }
    return { ...this.#header(request.sessionId), type: 'round2_share', eventId: request.eventId, signatureShare };
  }

  #refuse(request: Round1Request | Round2Request | SignRequest | NoncePoolRequest, code: RefusalCode, reason: string): FromNodeMessage {
    const kind = 'event' in request ? request.event.kind : undefined;
    const eventId = 'eventId' in request ? request.eventId : undefined;
    this.#witness({ decision: 'refused', sessionId: request.sessionId, ...(eventId === undefined ? {} : { eventId }), ...(kind === undefined ? {} : { kind }), code, reason });
    this.#options.logger.warn('refused', { sessionId: request.sessionId, code, reason });
    return { ...this.#replyHeader(request), type: 'refusal', code, reason };
  }

  /** A witness line for an answer: written now, fsynced before the answer leaves (`logged`). */
  #witness(record: NodeLogRecord): void {
    this.#options.log.append(record, { sync: false });
  }

  #sendLater(message: FromNodeMessage): void {
    this.#options.sendLater(message, this.logged());
  }

  #header(sessionId: SessionId): { v: typeof NODE_PROTOCOL_VERSION; groupId: GroupId; epoch: number; sessionId: SessionId } {
    return { v: NODE_PROTOCOL_VERSION, groupId: this.#options.groupId, epoch: this.#options.epoch, sessionId };
  }

  /** The header of a one-round message (issue 9). */
  #headerV2(sessionId: SessionId): { v: typeof ONE_ROUND_PROTOCOL_VERSION; groupId: GroupId; epoch: number; sessionId: SessionId } {
    return { ...this.#header(sessionId), v: ONE_ROUND_PROTOCOL_VERSION };
  }

  /** Refusals and pending notices answer in the version of the request they answer. */
  #replyHeader(request: { sessionId: SessionId; v: typeof NODE_PROTOCOL_VERSION | typeof ONE_ROUND_PROTOCOL_VERSION }) {
    return request.v === ONE_ROUND_PROTOCOL_VERSION ? this.#headerV2(request.sessionId) : this.#header(request.sessionId);
  }
}
