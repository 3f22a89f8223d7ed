import type { SigningCommitments } from '@frostbunker/shared/crypto';
import { MAX_POOL_BATCH, type FrostIdentifier, type SessionId } from '@frostbunker/shared/protocol';
import type { ShareNodeMember } from './identity.js';

/** Sizes of the coordinator's pools of pre-shared commitments (one-round signing, issue 9). */
export interface OneRoundOptions {
  /** Commitments to hold per node (default 32, at most MAX_POOL_BATCH per refill). */
  poolTarget?: number;
  /** Ask a node for more once fewer than this are held for it (default poolTarget / 2). */
  lowWater?: number;
  /**
   * Forget a held commitment after this (default 5 min): half the node's own 10 min, measured from
   * receipt (after the node issued it), so the coordinator never offers one the node has expired.
   */
  commitmentTtlMs?: number;
  /**
   * A live node answers a refill within milliseconds; one still unanswered this long when the node
   * answers a ping was lost (default 1 s): the node was down or paused when asked.
   */
  refillLostAfterMs?: number;
}

interface Held {
  commitments: SigningCommitments;
  receivedAtMs: number;
}

/**
 * The coordinator's side of pre-shared commitments: per node, the unused commitments it issued to
 * us, oldest first. Each is handed out exactly once (`take` removes it), so two concurrent requests
 * never name the same one; the node enforces single use again on its side. Memory only: a restart
 * of the coordinator starts empty, and a restart of a node makes its entries stale, which the node
 * says (`commitment_unknown`) and `drop` forgets. A node that could not be reached (a refill lost or
 * timed out) may have restarted too, so its entries are forgotten then as well: a refill is cheap,
 * a stale commitment costs a session.
 */
export class CommitmentPools {
  readonly #target: number;
  readonly #lowWater: number;
  readonly #ttlMs: number;
  readonly #refillLostAfterMs: number;
  readonly #now: () => number;
  readonly #held = new Map<FrostIdentifier, Held[]>();
  /** Outstanding refill per node: its request's session id and when it was sent. */
  readonly #refills = new Map<SessionId, { identifier: FrostIdentifier; sentAtMs: number }>();
  #rotation = 0;

  constructor(options: OneRoundOptions & { now: () => number }) {
    this.#target = Math.min(Math.max(1, Math.floor(options.poolTarget ?? 32)), MAX_POOL_BATCH);
    this.#lowWater = Math.min(this.#target, Math.max(1, Math.floor(options.lowWater ?? this.#target / 2)));
    this.#ttlMs = options.commitmentTtlMs ?? 300_000;
    this.#refillLostAfterMs = options.refillLostAfterMs ?? 1_000;
    this.#now = options.now;
  }

  /** Unused commitments held for `identifier`, expired ones dropped first. */
  size(identifier: FrostIdentifier): number {
    return this.#live(identifier).length;
  }

  /** Adds commitments the node `identifier` issued; any naming another identifier or seen twice is ignored. */
  add(identifier: FrostIdentifier, commitments: readonly SigningCommitments[]): void {
    const held = this.#live(identifier);
    const known = new Set(held.map((h) => h.commitments.hiding));
    const nowMs = this.#now();
    for (const c of commitments) {
      if (c.identifier !== identifier || known.has(c.hiding) || held.length >= 2 * this.#target) continue;
      known.add(c.hiding);
      held.push({ commitments: c, receivedAtMs: nowMs });
    }
    this.#held.set(identifier, held);
  }

  /**
   * Chooses `threshold` of `candidates` that have a commitment each, in turn (the starting point
   * rotates per call, so every node with commitments signs its share of requests), and removes one
   * commitment per chosen node. Undefined, and nothing removed, when fewer than `threshold`
   * candidates have one.
   */
  take(candidates: readonly ShareNodeMember[], threshold: number): { member: ShareNodeMember; commitments: SigningCommitments }[] | undefined {
    const offset = this.#rotation++;
    // @NOTE not "fullest pool first": each share returns one replacement, so pool sizes never
    // converge and a node one commitment behind would never be chosen (nor a cheater ever caught).
    const ready = candidates
      .map((member, i) => ({ member, order: (i + offset) % candidates.length }))
      .filter((c) => this.size(c.member.identifier) > 0)
      .sort((a, b) => a.order - b.order);
    if (ready.length < threshold) return undefined;
    return ready.slice(0, threshold).map(({ member }) => ({
      member,
      commitments: this.#held.get(member.identifier)!.shift()!.commitments,
    }));
  }

  /** Forgets every commitment held for `identifier` (the node no longer knows them). */
  drop(identifier: FrostIdentifier): void {
    this.#held.delete(identifier);
  }

  /**
   * Nodes to ask for more, with how many: below the low-water mark and no refill outstanding
   * (an unanswered one counts as lost after `refillTimeoutMs`, and the node's entries with it).
   * Records each as outstanding.
   */
  refillsDue(members: readonly ShareNodeMember[], refillTimeoutMs: number, newSessionId: () => SessionId): { member: ShareNodeMember; sessionId: SessionId; count: number }[] {
    const nowMs = this.#now();
    const outstanding = new Set<FrostIdentifier>();
    for (const [sessionId, refill] of this.#refills) {
      if (nowMs - refill.sentAtMs >= refillTimeoutMs) this.#loseRefill(sessionId, refill.identifier);
      else outstanding.add(refill.identifier);
    }
    const due: { member: ShareNodeMember; sessionId: SessionId; count: number }[] = [];
    for (const member of members) {
      const size = this.size(member.identifier);
      if (outstanding.has(member.identifier) || size >= this.#lowWater) continue;
      const sessionId = newSessionId();
      this.#refills.set(sessionId, { identifier: member.identifier, sentAtMs: nowMs });
      due.push({ member, sessionId, count: this.#target - size });
    }
    return due;
  }

  /** The node a refill request went to, if `sessionId` is an outstanding one; it is no longer outstanding. */
  settleRefill(sessionId: SessionId): FrostIdentifier | undefined {
    const refill = this.#refills.get(sessionId);
    if (refill === undefined) return undefined;
    this.#refills.delete(sessionId);
    return refill.identifier;
  }

  /**
   * `identifier` answered a ping: a refill it left unanswered for `refillLostAfterMs` was lost, so
   * it is forgotten (with the node's entries) and the next `refillsDue` asks again at once. This is
   * what makes a restarted or resumed node usable in one round within a ping of its return.
   */
  nodeAnswered(identifier: FrostIdentifier): void {
    const nowMs = this.#now();
    for (const [sessionId, refill] of this.#refills) {
      if (refill.identifier === identifier && nowMs - refill.sentAtMs >= this.#refillLostAfterMs) this.#loseRefill(sessionId, identifier);
    }
  }

  #loseRefill(sessionId: SessionId, identifier: FrostIdentifier): void {
    this.#refills.delete(sessionId);
    this.#held.delete(identifier);
  }

  /** True if `sessionId` is an outstanding refill request. */
  isRefill(sessionId: SessionId): boolean {
    return this.#refills.has(sessionId);
  }

  #live(identifier: FrostIdentifier): Held[] {
    const held = this.#held.get(identifier) ?? [];
    const nowMs = this.#now();
    let expired = 0;
    while (expired < held.length && nowMs - held[expired]!.receivedAtMs >= this.#ttlMs) expired++;
    if (expired > 0) held.splice(0, expired);
    return held;
  }
}
