import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';

/*
 * The share node's own log format (issue 4): written by the node, read by the node (rate limits,
 * `log-verify`) and by the coordinator's `audit reconcile`, so both sides parse it the same way.
 */

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
  /** A key-ceremony step (issue 7): `sessionId` is the ceremony id, `code` the step, `reason` the detail. */
  'ceremony',
]);
export type NodeLogDecision = z.infer<typeof nodeLogDecisionSchema>;

export const nodeLogEntrySchema = z.strictObject({
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
export type NodeLogEntry = z.infer<typeof nodeLogEntrySchema>;
export type NodeLogRecord = Omit<NodeLogEntry, 'seq' | 'atSec' | 'prevHash' | 'hash'>;

export const NODE_LOG_GENESIS = '0'.repeat(64);
export interface ChainCheck {
  ok: boolean;
  entries: number;
  /** First line (1-based) whose hash or link does not check out. */
  brokenAtLine?: number;
}

export function hashNodeLogEntry(body: Omit<NodeLogEntry, 'hash'>): string {
  return createHash('sha256').update(JSON.stringify(body)).digest('hex');
}

export function readNodeLogEntries(path: string): NodeLogEntry[] {
  const entries: NodeLogEntry[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const parsed = nodeLogEntrySchema.safeParse(safeJson(line));
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

export function checkNodeLogChain(entries: readonly NodeLogEntry[]): ChainCheck {
  let prev = NODE_LOG_GENESIS;
  for (const [index, entry] of entries.entries()) {
    const { hash, ...body } = entry;
    if (entry.seq !== index + 1 || entry.prevHash !== prev || hashNodeLogEntry(body) !== hash) {
      return { ok: false, entries: entries.length, brokenAtLine: index + 1 };
    }
    prev = hash;
  }
  return { ok: true, entries: entries.length };
}
