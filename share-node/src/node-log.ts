import { closeSync, existsSync, fsync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  checkNodeLogChain,
  hashNodeLogEntry,
  NODE_LOG_GENESIS,
  readNodeLogEntries,
  type ChainCheck,
  type NodeLogEntry,
  type NodeLogRecord,
} from '@frostbunker/shared/audit';

export type { ChainCheck, NodeLogDecision, NodeLogEntry, NodeLogRecord } from '@frostbunker/shared/audit';

const DAY_SEC = 86_400;


/**
 * The share node's own append-only record of every request it saw and what it did (issue 4), each
 * line hash-chained to the previous one and fsynced before the node answers. It is the witness a
 * compromised coordinator cannot rewrite, and the source of the node's rate-limit counts.
 */
export class NodeLog {
  readonly #path: string;
  readonly #nowSec: () => number;
  #lastHash = NODE_LOG_GENESIS;
  #seq = 0;
  /** Lines up to this seq are on disk (fsynced). */
  #durableSeq = 0;
  /** The fsync under way in the thread pool, if any. */
  #syncing: Promise<void> | undefined;
  /** Kept open from the first append to `close`, so an fsync can run while the node works. */
  #fd: number | undefined;
  /** First commit time of each event id in the last day, for "events approved per window". */
  readonly #approvedAtSec = new Map<string, number>();
  readonly chainAtOpen: ChainCheck;

  private constructor(path: string, nowSec: () => number) {
    this.#path = path;
    this.#nowSec = nowSec;
    const entries = existsSync(path) ? readNodeLogEntries(path) : [];
    this.chainAtOpen = checkNodeLogChain(entries);
    const last = entries.at(-1);
    if (last) {
      this.#lastHash = last.hash;
      this.#seq = last.seq;
    }
    this.#durableSeq = this.#seq;
    const since = nowSec() - DAY_SEC;
    for (const entry of entries) {
      if (entry.decision === 'committed' && entry.eventId && entry.atSec > since && !this.#approvedAtSec.has(entry.eventId)) {
        this.#approvedAtSec.set(entry.eventId, entry.atSec);
      }
    }
  }

  /** Opens (or creates) the log at `path` and rebuilds its counts; check `chainAtOpen`. */
  static open(path: string, options: { nowSec: () => number }): NodeLog {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    return new NodeLog(path, options.nowSec);
  }

  /**
   * Appends one line. `sync: false` leaves the fsync to the next synced line or to `flush()`, for
   * a line the node answers about only after `flush()` (issue 9: the signer's lines are fsynced
   * once, while its reply is sealed).
   */
  append(record: NodeLogRecord, options: { sync: boolean } = { sync: true }): NodeLogEntry {
    const body = { seq: this.#seq + 1, atSec: this.#nowSec(), ...record, prevHash: this.#lastHash };
    const entry: NodeLogEntry = { ...body, hash: hashNodeLogEntry(body) };
    this.#fd ??= openSync(this.#path, 'a', 0o600);
    writeSync(this.#fd, `${JSON.stringify(entry)}\n`);
    if (options.sync) {
      fsyncSync(this.#fd);
      this.#durableSeq = entry.seq;
    }
    this.#seq = entry.seq;
    this.#lastHash = entry.hash;
    if (entry.decision === 'committed' && entry.eventId && !this.#approvedAtSec.has(entry.eventId)) {
      this.#approvedAtSec.set(entry.eventId, entry.atSec);
    }
    return entry;
  }

  /**
   * Resolves once every line appended before the call is on disk; one fsync in the thread pool
   * serves every caller waiting meanwhile. Rejects when the fsync fails: then nothing that
   * depended on those lines may leave the node.
   */
  async flush(): Promise<void> {
    const target = this.#seq;
    while (this.#durableSeq < target) {
      this.#syncing ??= this.#syncNow().finally(() => {
        this.#syncing = undefined;
      });
      await this.#syncing;
    }
  }

  /** Makes every line durable and closes the file; a later append opens it again. */
  close(): void {
    const fd = this.#fd;
    if (fd === undefined) return;
    fsyncSync(fd);
    this.#durableSeq = this.#seq;
    this.#fd = undefined;
    // Never under an fsync still running in the thread pool: its fd number could be reused.
    if (this.#syncing === undefined) closeSync(fd);
    else void this.#syncing.then(() => closeSync(fd), () => closeSync(fd));
  }

  async #syncNow(): Promise<void> {
    const upTo = this.#seq;
    const fd = this.#fd;
    if (fd === undefined) throw new Error('node log is closed with lines not on disk');
    await new Promise<void>((resolve, reject) => fsync(fd, (error) => (error ? reject(error) : resolve())));
    this.#durableSeq = Math.max(this.#durableSeq, upTo);
  }

  /** Distinct events this node agreed to sign (committed nonces for) in the trailing windows. */
  approvedCounts(): { lastMinute: number; lastHour: number; lastDay: number } {
    const now = this.#nowSec();
    const counts = { lastMinute: 0, lastHour: 0, lastDay: 0 };
    for (const [eventId, atSec] of this.#approvedAtSec) {
      const age = now - atSec;
      if (age >= DAY_SEC) {
        this.#approvedAtSec.delete(eventId);
        continue;
      }
      counts.lastDay++;
      if (age < 3_600) counts.lastHour++;
      if (age < 60) counts.lastMinute++;
    }
    return counts;
  }

  /** Re-reads the whole file and checks every hash and link. */
  verify(): ChainCheck {
    return checkNodeLogChain(existsSync(this.#path) ? readNodeLogEntries(this.#path) : []);
  }

  /** The last `count` entries, oldest first. */
  tail(count: number): NodeLogEntry[] {
    return existsSync(this.#path) ? readNodeLogEntries(this.#path).slice(-count) : [];
  }
}

