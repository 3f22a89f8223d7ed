/**
 * The only place signing nonces live between round one and round two: in memory, single use,
 * bounded, and expiring. Nothing here is ever persisted or restored (DESIGN.md: restoring a saved
 * nonce pool resurrects spent nonces).
 */
import { FrostbunkerError } from '../errors.js';
import { invalidInput } from './bytes.js';
import { commit, SigningNonces, type SigningCommitments, type SigningShare } from './frost.js';

/** Options for a NonceStore; `now` is a monotonic clock in milliseconds, injected (no timers here). */
export interface NonceStoreOptions {
  maxPending?: number;
  ttlMs?: number;
  now: () => number;
}

const MAX_SESSION_ID_CHARS = 128;
/** Seen session ids are kept for one TTL, up to this many per pending slot. */
const SEEN_PER_PENDING = 16;

function assertSessionId(sessionId: unknown): string {
  if (typeof sessionId !== 'string' || sessionId.length === 0 || sessionId.length > MAX_SESSION_ID_CHARS)
    throw invalidInput('sessionId', `string of 1..${MAX_SESSION_ID_CHARS} characters`);
  return sessionId;
}

function assertPositiveInteger(value: unknown, title: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    throw invalidInput(title, 'positive integer');
  return value;
}

/**
 * Single-use nonce storage keyed by session id: `put` once per session, `take` exactly once.
 * @example store.put(sessionId, nonces); … const nonces = store.take(sessionId);
 */
export class NonceStore {
  readonly #maxPending: number;
  readonly #ttlMs: number;
  readonly #maxSeen: number;
  readonly #now: () => number;
  /** Insertion-ordered, so the first entry is the oldest. */
  readonly #pending = new Map<string, { nonces: SigningNonces; storedAtMs: number }>();
  /** Every session id ever put, for one TTL: a replayed round one must not get fresh nonces. */
  readonly #seen = new Map<string, number>();

  constructor(options: NonceStoreOptions) {
    if (typeof options !== 'object' || options === null) throw invalidInput('options', 'object');
    if (typeof options.now !== 'function')
      throw invalidInput('options.now', 'function returning milliseconds');
    this.#maxPending = assertPositiveInteger(options.maxPending ?? 64, 'options.maxPending');
    this.#ttlMs = assertPositiveInteger(options.ttlMs ?? 30_000, 'options.ttlMs');
    this.#maxSeen = this.#maxPending * SEEN_PER_PENDING;
    this.#now = options.now;
  }

  /** Number of nonce pairs waiting for round two. */
  get size(): number {
    return this.#pending.size;
  }

  /** Stores fresh nonces for a session; refuses, and discards them, if the session id was seen before. */
  put(sessionId: string, nonces: SigningNonces): void {
    const id = assertSessionId(sessionId);
    if (!(nonces instanceof SigningNonces)) throw invalidInput('nonces', 'SigningNonces');
    this.purgeExpired();
    if (this.#seen.has(id) || this.#pending.has(id)) {
      nonces.discard();
      throw new FrostbunkerError('NONCE_REUSED', `sessionId: ${id} already had nonces; one set per session`);
    }
    if (nonces.isConsumed()) throw new FrostbunkerError('NONCE_REUSED', 'nonces: already consumed');
    const nowMs = this.#now();
    if (this.#pending.size >= this.#maxPending) this.#evictOldestPending();
    if (this.#seen.size >= this.#maxSeen) {
      // @NOTE the bound wins over the TTL: under a flood, the oldest seen ids are forgotten early.
      // Nonce safety does not depend on this set (every put carries fresh nonces); it only stops
      // a replayed round one from getting a second commitment for the same session.
      const oldest = this.#seen.keys().next();
      if (oldest.done !== true) this.#seen.delete(oldest.value);
    }
    this.#pending.set(id, { nonces, storedAtMs: nowMs });
    this.#seen.set(id, nowMs);
  }

  /** True if nonces for the session are pending: stored, not yet taken, not expired. */
  has(sessionId: string): boolean {
    const id = assertSessionId(sessionId);
    this.purgeExpired();
    return this.#pending.has(id);
  }

  /** Removes and returns the session's nonces, exactly once; missing, expired or taken → NONCE_REUSED. */
  take(sessionId: string): SigningNonces {
    const id = assertSessionId(sessionId);
    this.purgeExpired();
    const entry = this.#pending.get(id);
    if (entry === undefined)
      throw new FrostbunkerError(
        'NONCE_REUSED',
        `sessionId: no pending nonces for ${id} (taken, expired or never stored)`,
      );
    this.#pending.delete(id);
    return entry.nonces;
  }

  /** Drops (and zeroes) nonces older than the TTL, and forgets seen session ids older than the TTL. */
  purgeExpired(): void {
    const nowMs = this.#now();
    for (const [id, entry] of this.#pending) {
      if (nowMs - entry.storedAtMs < this.#ttlMs) continue;
      entry.nonces.discard();
      this.#pending.delete(id);
    }
    for (const [id, seenAtMs] of this.#seen) {
      // Insertion order is time order, so the first unexpired entry ends the scan.
      if (nowMs - seenAtMs < this.#ttlMs) break;
      this.#seen.delete(id);
    }
  }

  #evictOldestPending(): void {
    const oldest = this.#pending.entries().next();
    if (oldest.done === true) return;
    const [id, entry] = oldest.value;
    entry.nonces.discard();
    this.#pending.delete(id);
  }
}

/** Options for a CommitmentPool; `now` is a monotonic clock in milliseconds, injected. */
export interface CommitmentPoolOptions {
  /** Most unused commitments held at once; issuing more evicts (and zeroes) the oldest. */
  maxPooled?: number;
  /** An unused commitment older than this is zeroed and forgotten. */
  ttlMs?: number;
  now: () => number;
}

/** Session ids remembered against replay, per pooled slot (bounded like NonceStore's seen-set). */
const SEEN_PER_POOLED = 16;

function commitmentKey(commitments: SigningCommitments): string {
  return `${commitments.identifier}:${commitments.hiding}:${commitments.binding}`;
}

/**
 * One-round signing (DESIGN.md: "pre-shared commitments ... single use, in memory, purged when a
 * peer restarts"): nonce pairs issued ahead of any event, each usable for exactly one partial
 * signature. `take` removes the pair for a commitment this pool issued; a second `take` of the
 * same commitment, one never issued, or one expired gives undefined. Nothing is persisted: a new
 * process starts with an empty pool, and every commitment issued before is dead.
 * @example const issued = pool.issue(share, 16); … const nonces = pool.take(packageCommitment);
 */
export class CommitmentPool {
  readonly #maxPooled: number;
  readonly #ttlMs: number;
  readonly #maxSeen: number;
  readonly #now: () => number;
  /** Insertion-ordered, so the first entry is the oldest. */
  readonly #pooled = new Map<string, { nonces: SigningNonces; issuedAtMs: number }>();
  /** One-round session ids seen, for one TTL (bounded): a replayed request is refused. */
  readonly #seen = new Map<string, number>();
  /** Made ahead by `prepare` for the next `issue`; nobody knows them, and none can be taken yet. */
  readonly #spares: { share: SigningShare; nonces: SigningNonces; commitments: SigningCommitments }[] = [];

  constructor(options: CommitmentPoolOptions) {
    if (typeof options !== 'object' || options === null) throw invalidInput('options', 'object');
    if (typeof options.now !== 'function') throw invalidInput('options.now', 'function returning milliseconds');
    this.#maxPooled = assertPositiveInteger(options.maxPooled ?? 64, 'options.maxPooled');
    this.#ttlMs = assertPositiveInteger(options.ttlMs ?? 600_000, 'options.ttlMs');
    this.#maxSeen = this.#maxPooled * SEEN_PER_POOLED;
    this.#now = options.now;
  }

  /** Unused commitments held. */
  get size(): number {
    return this.#pooled.size;
  }

  /** Pairs made ahead by `prepare`, not yet issued. */
  get prepared(): number {
    return this.#spares.length;
  }

  /** Issues `count` fresh commitments (RFC 9591 §5.1 commit) and keeps their nonces. */
  issue(share: SigningShare, count: number): SigningCommitments[] {
    assertPositiveInteger(count, 'count');
    this.purgeExpired();
    const issued: SigningCommitments[] = [];
    for (let i = 0; i < Math.min(count, this.#maxPooled); i++) {
      if (this.#pooled.size >= this.#maxPooled) {
        // Only a coordinator that lost its pool (restart) asks past the cap; its orphans go first.
        const oldest = this.#pooled.entries().next();
        if (oldest.done !== true) {
          oldest.value[1].nonces.discard();
          this.#pooled.delete(oldest.value[0]);
        }
      }
      const { nonces, commitments } = this.#spare(share) ?? commit(share);
      this.#pooled.set(commitmentKey(commitments), { nonces, issuedAtMs: this.#now() });
      issued.push(commitments);
    }
    return issued;
  }

  /**
   * Makes nonce pairs ahead of time, up to `count` waiting, for the next `issue` to hand out: the
   * commitment a one-round share carries back is then made while the node is idle, not while the
   * coordinator waits (issue 9). A prepared pair cannot be taken until it is issued.
   */
  prepare(share: SigningShare, count: number): void {
    assertPositiveInteger(count, 'count');
    while (this.#spares.length < Math.min(count, this.#maxPooled)) this.#spares.push({ share, ...commit(share) });
  }

  /** The oldest prepared pair for `share`; pairs prepared for another share are zeroed. */
  #spare(share: SigningShare): { nonces: SigningNonces; commitments: SigningCommitments } | undefined {
    for (let spare = this.#spares.shift(); spare !== undefined; spare = this.#spares.shift()) {
      if (spare.share === share) return spare;
      spare.nonces.discard();
    }
    return undefined;
  }

  /** Removes and returns the nonces behind `commitments`, once; unknown, used or expired → undefined. */
  take(commitments: SigningCommitments): SigningNonces | undefined {
    this.purgeExpired();
    const key = commitmentKey(commitments);
    const entry = this.#pooled.get(key);
    if (entry === undefined) return undefined;
    this.#pooled.delete(key);
    return entry.nonces;
  }

  /** Records a one-round session id; false if it was seen within the TTL (a replay). */
  claimSession(sessionId: string): boolean {
    const id = assertSessionId(sessionId);
    this.purgeExpired();
    if (this.#seen.has(id)) return false;
    if (this.#seen.size >= this.#maxSeen) {
      // @NOTE as in NonceStore: the bound wins over the TTL. Safety does not rest on this set,
      // since a forgotten session id still finds its commitment consumed.
      const oldest = this.#seen.keys().next();
      if (oldest.done !== true) this.#seen.delete(oldest.value);
    }
    this.#seen.set(id, this.#now());
    return true;
  }

  /** Zeroes and forgets commitments older than the TTL, and session ids older than the TTL. */
  purgeExpired(): void {
    const nowMs = this.#now();
    for (const [key, entry] of this.#pooled) {
      if (nowMs - entry.issuedAtMs < this.#ttlMs) break; // insertion order is time order
      entry.nonces.discard();
      this.#pooled.delete(key);
    }
    for (const [id, seenAtMs] of this.#seen) {
      if (nowMs - seenAtMs < this.#ttlMs) break;
      this.#seen.delete(id);
    }
  }

  /** Zeroes every pooled nonce pair (shutdown, epoch change). */
  clear(): void {
    for (const entry of this.#pooled.values()) entry.nonces.discard();
    this.#pooled.clear();
    for (const spare of this.#spares.splice(0)) spare.nonces.discard();
  }
}
