import { createHash } from 'node:crypto';
import type { Failpoints } from '@frostbunker/shared/config';
import type { AclDatabase } from '../acl-store/database.js';

/** One change to subjects, grants, denials or tokens, as the domain operation describes it. */
export interface AuditRecord {
  actor: string;
  action: string;
  target: string;
  reason: string;
  /** JSON of the row before and after; null for creations and deletions. Never secrets. */
  before: unknown;
  after: unknown;
}

export interface AuditEntry extends AuditRecord {
  seq: number;
  atSec: number;
  prevHash: string;
  hash: string;
}

export interface AuditChainCheck {
  ok: boolean;
  entries: number;
  headHash: string;
  /** First seq whose hash or link does not check out. */
  brokenAtSeq?: number;
}

const GENESIS = '0'.repeat(64);

interface AuditRow {
  seq: number;
  at_sec: number;
  actor: string;
  action: string;
  target: string;
  reason: string;
  before: string | null;
  after: string | null;
  prev_hash: string;
  hash: string;
}

/**
 * The coordinator's audit log: every row hash-chained to the previous one, append-only (triggers
 * refuse UPDATE and DELETE). `append` must run inside the caller's transaction, so a change and
 * its audit row commit together or not at all (audit fails closed, RELIABILITY.md G11).
 */
export class AuditLog {
  readonly #db: AclDatabase;
  readonly #nowSec: () => number;
  readonly #failpoints: Failpoints | undefined;

  constructor(db: AclDatabase, options: { nowSec: () => number; failpoints?: Failpoints }) {
    this.#db = db;
    this.#nowSec = options.nowSec;
    this.#failpoints = options.failpoints;
  }

  append(record: AuditRecord): AuditEntry {
    if (!this.#db.inTransaction) throw new Error('audit rows are written inside the transaction of the change they record');
    this.#failpoints?.hit('audit.insert');
    const head = this.#db.prepare<[], { hash: string }>('SELECT hash FROM audit ORDER BY seq DESC LIMIT 1').get();
    const prevHash = head?.hash ?? GENESIS;
    const atSec = this.#nowSec();
    const before = record.before === null || record.before === undefined ? null : JSON.stringify(record.before);
    const after = record.after === null || record.after === undefined ? null : JSON.stringify(record.after);
    const hash = hashRow({ atSec, actor: record.actor, action: record.action, target: record.target, reason: record.reason, before, after, prevHash });
    const { lastInsertRowid } = this.#db
      .prepare('INSERT INTO audit (at_sec, actor, action, target, reason, before, after, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(atSec, record.actor, record.action, record.target, record.reason, before, after, prevHash, hash);
    return { ...record, seq: Number(lastInsertRowid), atSec, prevHash, hash };
  }

  /** Walks the whole chain. A re-chained rewrite passes this; node logs catch it (issue 4, T2). */
  verify(): AuditChainCheck {
    let prevHash = GENESIS;
    let entries = 0;
    for (const row of this.#db.prepare<[], AuditRow>('SELECT * FROM audit ORDER BY seq').iterate()) {
      const expected = hashRow({ atSec: row.at_sec, actor: row.actor, action: row.action, target: row.target, reason: row.reason, before: row.before, after: row.after, prevHash });
      if (row.prev_hash !== prevHash || row.hash !== expected) return { ok: false, entries, headHash: prevHash, brokenAtSeq: row.seq };
      prevHash = row.hash;
      entries++;
    }
    return { ok: true, entries, headHash: prevHash };
  }

  /** The last `count` entries, oldest first. */
  tail(count: number): AuditEntry[] {
    const rows = this.#db.prepare<[number], AuditRow>('SELECT * FROM audit ORDER BY seq DESC LIMIT ?').all(count).reverse();
    return rows.map((row) => ({
      seq: row.seq,
      atSec: row.at_sec,
      actor: row.actor,
      action: row.action,
      target: row.target,
      reason: row.reason,
      before: row.before === null ? null : (JSON.parse(row.before) as unknown),
      after: row.after === null ? null : (JSON.parse(row.after) as unknown),
      prevHash: row.prev_hash,
      hash: row.hash,
    }));
  }
}

function hashRow(fields: { atSec: number; actor: string; action: string; target: string; reason: string; before: string | null; after: string | null; prevHash: string }): string {
  // A JSON array fixes field order and escaping, so the hash is over an unambiguous encoding.
  const canonical = JSON.stringify([fields.prevHash, fields.atSec, fields.actor, fields.action, fields.target, fields.reason, fields.before, fields.after]);
  return createHash('sha256').update(canonical).digest('hex');
}
