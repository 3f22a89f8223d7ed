/**
 * The only place signing nonces live between round one and round two: in memory, single use,
 * bounded, and expiring. Nothing here is ever persisted or restored (DESIGN.md: restoring a saved
 * nonce pool resurrects spent nonces).
 */
import { FrostbunkerError } from '../errors.js';
import { invalidInput } from './bytes.js';
import { SigningNonces } from './frost.js';

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
