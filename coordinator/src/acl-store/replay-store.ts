import type { AclDatabase } from './database.js';

/**
 * Remembers authenticated requests (client pubkey + NIP-46 request id) for the whole request
 * window, on disk, so a captured request replayed after a coordinator restart or after a flood of
 * junk ids starts no second signing round (RELIABILITY.md decision 2, G17). Only requests that
 * decrypted and parsed reach it: junk from unknown senders never costs a disk write.
 */
export class ReplayStore {
  readonly #db: AclDatabase;
  readonly #windowSec: number;
  readonly #nowSec: () => number;
  #insertsSincePrune = 0;

  constructor(db: AclDatabase, options: { windowSec: number; nowSec: () => number }) {
    this.#db = db;
    this.#windowSec = options.windowSec;
    this.#nowSec = options.nowSec;
  }

  /** Records `key`; false when it was already seen inside the window. */
  firstSighting(key: string): boolean {
    const nowSec = this.#nowSec();
    const fresh = this.#db.transaction(() => {
      const seen = this.#db.prepare<[string], { seen_at_sec: number }>('SELECT seen_at_sec FROM seen_requests WHERE request_key = ?').get(key);
      if (seen && nowSec - seen.seen_at_sec < this.#windowSec) return false;
      this.#db.prepare('INSERT OR REPLACE INTO seen_requests (request_key, seen_at_sec) VALUES (?, ?)').run(key, nowSec);
      return true;
    })();
    // The window bounds the table: prune now and then rather than on every request.
    if (fresh && ++this.#insertsSincePrune >= 256) {
      this.#insertsSincePrune = 0;
      this.#db.prepare('DELETE FROM seen_requests WHERE seen_at_sec <= ?').run(nowSec - this.#windowSec);
    }
    return fresh;
  }
}
