import { withDeferredFsync, type AclDatabase } from './database.js';

/** A request seen before the last stop that never got its reply. */
export interface InterruptedRequest {
  key: string;
  scheme: string;
}

/**
 * Remembers authenticated requests (client pubkey + NIP-46 request id) for the whole request
 * window, on disk, so a captured request replayed after a coordinator restart or after a flood of
 * junk ids starts no second signing round (RELIABILITY.md decision 2, G17). Only requests that
 * decrypted and parsed reach it: junk from unknown senders never costs a disk write.
 *
 * The same row says whether the request was answered (G10: a request pending at a crash gets an
 * error after restart, never silence). It is written unanswered in the transaction that records
 * the sighting; answers are marked in batches (a crash loses at most the last batch, and those
 * clients get one spurious late error for a request they already have an answer to, which
 * NIP-46 clients ignore).
 */
export class ReplayStore {
  readonly #db: AclDatabase;
  readonly #windowSec: number;
  readonly #nowSec: () => number;
  readonly #answered = new Set<string>();
  readonly #flushMs: number;
  #flushTimer: NodeJS.Timeout | undefined;
  #insertsSincePrune = 0;

  constructor(db: AclDatabase, options: { windowSec: number; nowSec: () => number; answerFlushMs?: number }) {
    this.#db = db;
    this.#windowSec = options.windowSec;
    this.#nowSec = options.nowSec;
    this.#flushMs = options.answerFlushMs ?? 100;
  }

  /** Records `key` as seen and not yet answered; false when it was already seen inside the window. */
  firstSighting(key: string, replyScheme: string | null = null): boolean {
    const nowSec = this.#nowSec();
    // No fsync of its own (issue 9: one fewer per request): a request that acts (a signature, a
    // token redeemed, an approval queued) commits its ACL decision or row with synchronous=FULL
    // right after, which makes this row durable first; a crash before that loses only the
    // sighting of a request that did nothing yet, so a replay of it is a first attempt.
    const fresh = withDeferredFsync(this.#db, () => this.#db.transaction(() => {
      const seen = this.#db.prepare<[string], { seen_at_sec: number }>('SELECT seen_at_sec FROM seen_requests WHERE request_key = ?').get(key);
      if (seen && nowSec - seen.seen_at_sec < this.#windowSec) return false;
      this.#db
        .prepare('INSERT OR REPLACE INTO seen_requests (request_key, seen_at_sec, reply_scheme, answered) VALUES (?, ?, ?, 0)')
        .run(key, nowSec, replyScheme);
      return true;
    })());
    // The window bounds the table: prune now and then rather than on every request.
    if (fresh && ++this.#insertsSincePrune >= 256) {
      this.#insertsSincePrune = 0;
      this.#db.prepare('DELETE FROM seen_requests WHERE seen_at_sec <= ?').run(nowSec - this.#windowSec);
    }
    return fresh;
  }

  /** The reply to `key` was published (written with the next batch). */
  answered(key: string): void {
    this.#answered.add(key);
    this.#flushTimer ??= setTimeout(() => this.flush(), this.#flushMs);
  }

  /** Writes the pending answer marks now (at shutdown, or from the timer). */
  flush(): void {
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    if (this.#answered.size === 0) return;
    const keys = [...this.#answered];
    this.#answered.clear();
    const mark = this.#db.prepare('UPDATE seen_requests SET answered = 1 WHERE request_key = ?');
    this.#db.transaction(() => {
      for (const key of keys) mark.run(key);
    })();
  }

  /**
   * Requests under `prefix` seen inside the window and never answered: what the previous process
   * was doing when it stopped. Each is marked answered as it is returned (the caller replies).
   */
  takeInterrupted(prefix: string): InterruptedRequest[] {
    const since = this.#nowSec() - this.#windowSec;
    const rows = this.#db
      .prepare<[{ since: number; prefix: string }], { request_key: string; reply_scheme: string | null }>(
        'SELECT request_key, reply_scheme FROM seen_requests WHERE answered = 0 AND seen_at_sec > @since AND substr(request_key, 1, length(@prefix)) = @prefix',
      )
      .all({ since, prefix });
    const mark = this.#db.prepare('UPDATE seen_requests SET answered = 1 WHERE request_key = ?');
    this.#db.transaction(() => {
      for (const row of rows) mark.run(row.request_key);
    })();
    return rows.filter((row) => row.reply_scheme !== null).map((row) => ({ key: row.request_key, scheme: row.reply_scheme! }));
  }
}
