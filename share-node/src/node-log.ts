import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
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
   * Appends one line. `sync: false` leaves the fsync to the next synced line, for a line that is
   * always followed by another before the node answers anyone (one fsync per co-signature, issue 9).
   */
  append(record: NodeLogRecord, options: { sync: boolean } = { sync: true }): NodeLogEntry {
    const body = { seq: this.#seq + 1, atSec: this.#nowSec(), ...record, prevHash: this.#lastHash };
    const entry: NodeLogEntry = { ...body, hash: hashNodeLogEntry(body) };
    const fd = openSync(this.#path, 'a', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(entry)}\n`);
      if (options.sync) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.#seq = entry.seq;
    this.#lastHash = entry.hash;
    if (entry.decision === 'committed' && entry.eventId && !this.#approvedAtSec.has(entry.eventId)) {
      this.#approvedAtSec.set(entry.eventId, entry.atSec);
    }
    return entry;
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

