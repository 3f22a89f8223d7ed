import type { ChainCheck } from '@frostbunker/shared/audit';

/** One share node's log, as read from its file (RELIABILITY.md decision 5: independent witnesses). */
export interface NodeWitness {
  label: string;
  entries: readonly { decision: string; eventId?: string | undefined }[];
  chain: ChainCheck;
}

export interface ReconcileReport {
  ok: boolean;
  /** Distinct events the coordinator recorded as allowed for signing. */
  coordinatorEvents: number;
  /** Events a node co-signed that the coordinator has no record of: a rewritten or bypassed log. */
  unrecorded: { node: string; eventId: string }[];
  /** Node logs whose own hash chain is broken (edited on that node). */
  brokenNodeLogs: { node: string; brokenAtLine?: number | undefined }[];
}

/**
 * Compares the coordinator's request log with the share nodes' own logs (issue 4, RELIABILITY.md
 * T2): a coordinator that deletes or rewrites its records, even re-chaining its audit log, cannot
 * make the nodes forget what they co-signed. Pure: the caller reads the files and the database.
 */
export function reconcileSignatures(coordinatorEventIds: ReadonlySet<string>, witnesses: readonly NodeWitness[]): ReconcileReport {
  const unrecorded: ReconcileReport['unrecorded'] = [];
  const brokenNodeLogs: ReconcileReport['brokenNodeLogs'] = [];
  for (const witness of witnesses) {
    if (!witness.chain.ok) brokenNodeLogs.push({ node: witness.label, brokenAtLine: witness.chain.brokenAtLine });
    const seen = new Set<string>();
    for (const entry of witness.entries) {
      if (entry.decision !== 'signed' || entry.eventId === undefined || seen.has(entry.eventId)) continue;
      seen.add(entry.eventId);
      if (!coordinatorEventIds.has(entry.eventId)) unrecorded.push({ node: witness.label, eventId: entry.eventId });
    }
  }
  return { ok: unrecorded.length === 0 && brokenNodeLogs.length === 0, coordinatorEvents: coordinatorEventIds.size, unrecorded, brokenNodeLogs };
}
