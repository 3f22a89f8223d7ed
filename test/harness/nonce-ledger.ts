import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Environment that makes share nodes write the nonce ledger (RELIABILITY.md §3.6) into `dir`, one
 * file per node label (share-node/src/signer/nonce-ledger.ts; test mode only).
 */
export function nonceLedgerEnv(dir: string): Record<string, string> {
  return { FROSTBUNKER_TEST_MODE: '1', NODE_ENV: 'test', FROSTBUNKER_NONCE_LEDGER_DIR: dir };
}

export interface NonceLedgerCheck {
  files: number;
  /** Distinct commitments issued (`commit` lines). */
  committed: number;
  /** Distinct commitments used for a partial signature (`sign` lines). */
  signed: number;
  /** Commitments used for more than one partial signature, with the sessions that used them. */
  reused: { h: string; sessions: string[] }[];
  /** Lines that are not a ledger record (a torn write would show here). */
  badLines: number;
}

/**
 * Reads every node's ledger in `dir` (all restarts append to the same file) and reports each
 * commitment hash that appears in two `sign` lines: a nonce pair used twice, which would leak the share.
 */
export function checkNonceLedgers(dir: string): NonceLedgerCheck {
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.jsonl')) : [];
  const committed = new Set<string>();
  const signedBy = new Map<string, string[]>();
  let badLines = 0;
  for (const file of files) {
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (line === '') continue;
      const record = parseRecord(line);
      if (record === undefined) {
        badLines++;
        continue;
      }
      if (record.phase === 'commit') committed.add(record.h);
      else signedBy.set(record.h, [...(signedBy.get(record.h) ?? []), record.session]);
    }
  }
  const reused = [...signedBy].filter(([, sessions]) => sessions.length > 1).map(([h, sessions]) => ({ h, sessions }));
  return { files: files.length, committed: committed.size, signed: signedBy.size, reused, badLines };
}

/** The ledger figure every goal prints. */
export function describeNonceLedger(check: NonceLedgerCheck): string {
  return `nonce ledger (${check.files} node files): ${check.signed} commitments signed, ${check.reused.length} reused (${check.committed} issued)`;
}

function parseRecord(line: string): { h: string; session: string; phase: 'commit' | 'sign' } | undefined {
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value !== 'object' || value === null) return undefined;
    const { h, session, phase } = value as Record<string, unknown>;
    if (typeof h !== 'string' || !/^[0-9a-f]{64}$/.test(h) || typeof session !== 'string') return undefined;
    return phase === 'commit' || phase === 'sign' ? { h, session, phase } : undefined;
  } catch {
    return undefined;
  }
}
