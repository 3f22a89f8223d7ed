/**
 * Remembers keys (event ids, client+request ids) for `ttlMs` so a request that arrives once per
 * relay, or is replayed inside the request window, starts at most one signing round. Bounded:
 * at `maxEntries` the oldest is forgotten (issue 3 persists this for the whole window, G17).
 */
export class ReplayGuard {
  readonly #seen = new Map<string, number>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(options: { ttlMs: number; maxEntries: number; now: () => number }) {
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries;
    this.#now = options.now;
  }

  /** Records `key`; returns false when it was already seen inside the window. */
  firstSighting(key: string): boolean {
    const now = this.#now();
    const seenAt = this.#seen.get(key);
    if (seenAt !== undefined && now - seenAt < this.#ttlMs) return false;
    this.#seen.delete(key);
    this.#seen.set(key, now);
    this.#evict(now);
    return true;
  }

  get size(): number {
    return this.#seen.size;
  }

  #evict(now: number): void {
    // Map iterates in insertion order, so the oldest entries come first.
    for (const [key, seenAt] of this.#seen) {
      if (this.#seen.size <= this.#maxEntries && now - seenAt < this.#ttlMs) break;
      this.#seen.delete(key);
    }
  }
}
