import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';

/** What the node did with a request; one line each, never rewritten. */
export const nodeLogDecisionSchema = z.enum([
  'committed',
  'signed',
  'refused',
  'pending',
  'approved',
  'approval_denied',
  'approval_timeout',
  'frozen',
  'unfrozen',
]);
export type NodeLogDecision = z.infer<typeof nodeLogDecisionSchema>;

const entrySchema = z.strictObject({
  seq: z.number().int().min(1),
  atSec: z.number().int().min(0),
  decision: nodeLogDecisionSchema,
  sessionId: z.string().optional(),
  eventId: z.string().optional(),
  kind: z.number().int().optional(),
  code: z.string().optional(),
  reason: z.string().optional(),
  prevHash: z.string(),
  hash: z.string(),
});
export type NodeLogEntry = z.infer<typeof entrySchema>;
export type NodeLogRecord = Omit<NodeLogEntry, 'seq' | 'atSec' | 'prevHash' | 'hash'>;

const GENESIS = '0'.repeat(64);
const DAY_SEC = 86_400;

export interface ChainCheck {
  ok: boolean;
  entries: number;
  /** First line (1-based) whose hash or link does not check out. */
  brokenAtLine?: number;
}

/**
 * The share node's own append-only record of every request it saw and what it did (issue 4), each
 * line hash-chained to the previous one and fsynced before the node answers. It is the witness a
 * compromised coordinator cannot rewrite, and the source of the node's rate-limit counts.
 */
export class NodeLog {
  readonly #path: string;
  readonly #nowSec: () => number;
  #lastHash = GENESIS;
  #seq = 0;
  /** First commit time of each event id in the last day, for "events approved per window". */
  readonly #approvedAtSec = new Map<string, number>();
  readonly chainAtOpen: ChainCheck;

  private constructor(path: string, nowSec: () => number) {
    this.#path = path;
    this.#nowSec = nowSec;
    const entries = existsSync(path) ? readEntries(path) : [];
    this.chainAtOpen = checkChain(entries);
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

  append(record: NodeLogRecord): NodeLogEntry {
    const body = { seq: this.#seq + 1, atSec: this.#nowSec(), ...record, prevHash: this.#lastHash };
    const entry: NodeLogEntry = { ...body, hash: hashEntry(body) };
    const fd = openSync(this.#path, 'a', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(entry)}\n`);
      fsyncSync(fd);
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
    return checkChain(existsSync(this.#path) ? readEntries(this.#path) : []);
  }

  /** The last `count` entries, oldest first. */
  tail(count: number): NodeLogEntry[] {
    return existsSync(this.#path) ? readEntries(this.#path).slice(-count) : [];
  }
}

function hashEntry(body: Omit<NodeLogEntry, 'hash'>): string {
  return createHash('sha256').update(JSON.stringify(body)).digest('hex');
}

function readEntries(path: string): NodeLogEntry[] {
  const entries: NodeLogEntry[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const parsed = entrySchema.safeParse(safeJson(line));
    // A line that does not parse is kept as a broken link so checkChain reports it.
    entries.push(parsed.success ? parsed.data : { seq: -1, atSec: 0, decision: 'refused', prevHash: '', hash: '' });
  }
  return entries;
}

function safeJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

function checkChain(entries: readonly NodeLogEntry[]): ChainCheck {
  let prev = GENESIS;
  for (const [index, entry] of entries.entries()) {
    const { hash, ...body } = entry;
    if (entry.seq !== index + 1 || entry.prevHash !== prev || hashEntry(body) !== hash) {
      return { ok: false, entries: entries.length, brokenAtLine: index + 1 };
    }
    prev = hash;
  }
  return { ok: true, entries: entries.length };
}
