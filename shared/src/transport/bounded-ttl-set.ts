export interface BoundedTtlSetOptions {
  /** Hard cap on entries; the oldest are evicted first. */
  maxEntries: number;
  /** How long an entry counts as seen, milliseconds. */
  ttlMs: number;
  /** Clock in milliseconds; injected for tests. */
  nowMs?: () => number;
}

/**
 * A set of recently seen keys (event ids, message ids) bounded in size and age: dedupe state that
 * a flood cannot grow without limit (Signet lesson: bounded caches).
 */
export class BoundedTtlSet {
  readonly #expiresAtMs = new Map<string, number>();
  readonly #maxEntries: number;
  readonly #ttlMs: number;
  readonly #nowMs: () => number;

  constructor(options: BoundedTtlSetOptions) {
    if (!Number.isSafeInteger(options.maxEntries) || options.maxEntries < 1) {
      throw new RangeError('maxEntries: expected a positive integer');
    }
    if (!(options.ttlMs > 0)) throw new RangeError('ttlMs: expected a positive number');
    this.#maxEntries = options.maxEntries;
    this.#ttlMs = options.ttlMs;
    this.#nowMs = options.nowMs ?? Date.now;
  }

  get size(): number {
    return this.#expiresAtMs.size;
  }

  /** True if `key` was added less than `ttlMs` ago (and not evicted since). */
  has(key: string): boolean {
    const expiresAtMs = this.#expiresAtMs.get(key);
    return expiresAtMs !== undefined && expiresAtMs > this.#nowMs();
  }

  /** Marks `key` as seen; returns false if it was already seen (check-and-set in one step). */
  add(key: string): boolean {
    const now = this.#nowMs();
    this.#pruneExpired(now);
    const expiresAtMs = this.#expiresAtMs.get(key);
    if (expiresAtMs !== undefined && expiresAtMs > now) return false;
    this.#expiresAtMs.delete(key);
    this.#expiresAtMs.set(key, now + this.#ttlMs);
    while (this.#expiresAtMs.size > this.#maxEntries) {
      const oldest = this.#expiresAtMs.keys().next();
      if (oldest.done === true) break;
      this.#expiresAtMs.delete(oldest.value);
    }
    return true;
  }

  clear(): void {
    this.#expiresAtMs.clear();
  }

  // Entries are inserted with a constant TTL, so insertion order is expiry order: stop at the first
  // live entry.
  #pruneExpired(now: number): void {
    for (const [key, expiresAtMs] of this.#expiresAtMs) {
      if (expiresAtMs > now) return;
      this.#expiresAtMs.delete(key);
    }
  }
}
