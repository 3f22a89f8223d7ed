import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { writeJsonFileAtomic } from '@frostbunker/shared/config';

/** One timed step of a drill (RELIABILITY.md G12 names S1..S7). */
export interface DrillStep {
  step: string;
  name: string;
  ms: number;
  ok: boolean;
  detail?: string;
}

/**
 * Runs one step of a drill or ceremony: times it, records it in `steps` (ok or failed with the
 * error's message) and prints a progress line either way; rethrows what `run` throws.
 */
export async function timedStep<T>(
  record: { steps: DrillStep[]; names: Readonly<Record<string, string>>; nowMs: () => number; progress: (line: string) => void },
  step: string,
  run: () => Promise<{ value: T; detail?: string }>,
): Promise<T> {
  const started = record.nowMs();
  const name = record.names[step] ?? step;
  try {
    const { value, detail } = await run();
    const ms = Math.round(record.nowMs() - started);
    record.steps.push({ step, name, ms, ok: true, ...(detail ? { detail } : {}) });
    record.progress(`[${step}] ${name} (${ms} ms)${detail ? ` — ${detail}` : ''}`);
    return value;
  } catch (error) {
    const ms = Math.round(record.nowMs() - started);
    const message = error instanceof Error ? error.message : String(error);
    record.steps.push({ step, name, ms, ok: false, detail: message });
    record.progress(`[${step}] FAILED after ${ms} ms: ${message}`);
    throw error;
  }
}

export interface DrillReport {
  v: 1;
  kind: 'refresh' | 'reshare' | 'repair';
  identity: string;
  dryRun: boolean;
  /** committed: the new epoch is in force; dry-run/aborted/refused: the old epoch is. */
  outcome: 'committed' | 'dry-run' | 'aborted' | 'refused';
  /** True when this run finished a ceremony an earlier, interrupted run had committed. */
  resumed: boolean;
  ceremonyId: string | null;
  startedAt: string;
  finishedAt: string;
  npubBefore: string;
  npubAfter: string;
  sameNpub: boolean;
  epochBefore: number;
  epochAfter: number;
  threshold: number;
  maxSigners: number;
  nodes: string[];
  /** Reshare: the shape and members after the commit. */
  after?: { threshold: number; maxSigners: number; nodes: string[] };
  steps: DrillStep[];
  totalMs: number;
  testSignature: { signers: string[]; verified: boolean } | null;
  mixedRound: { oldShareOf: string; newSharesOf: string[]; failed: boolean; named: string[] } | null;
  acknowledged: string[];
  notAcknowledged: string[];
  oldShareFiles: string;
  interrupted: { ceremonyId: string; phase: string; resolution: string }[];
  failure: { reason: string; culprits: string[] } | null;
  notes: string[];
}

/**
 * What a committed drill tells the operator about backups (RELIABILITY.md 2.5, G20; CloudHSM:
 * restoring a backup brings the old keys back). Only share-node backups hold shares.
 */
export function backupNote(newEpoch: number): string {
  return `backups taken before epoch ${newEpoch}: those of share-node data directories hold old shares (destroy them); coordinator backups (frostbunker backup) hold no share`;
}

/** The readable summary written next to the JSON report. */
export function formatDrillReport(report: DrillReport): string {
  const lines = [
    `frostbunker drill ${report.kind}${report.dryRun ? ' (dry run)' : ''} — identity ${report.identity}`,
    `outcome:        ${report.outcome}${report.resumed ? ' (resumed an interrupted drill)' : ''}`,
    `ceremony:       ${report.ceremonyId ?? '-'}`,
    `started:        ${report.startedAt}   finished: ${report.finishedAt}   total: ${report.totalMs} ms`,
    `npub before:    ${report.npubBefore}`,
    `npub after:     ${report.npubAfter}   (${report.sameNpub ? 'unchanged' : 'CHANGED'})`,
    `epoch:          ${report.epochBefore} -> ${report.epochAfter}   (${report.threshold}-of-${report.maxSigners}; nodes ${report.nodes.join(', ')})`,
    ...(report.after ? [`reshared to:    ${report.after.threshold}-of-${report.after.maxSigners}; nodes ${report.after.nodes.join(', ')}`] : []),
    '',
    'steps:',
    ...report.steps.map((s) => `  ${s.ok ? 'ok  ' : 'FAIL'} ${s.step.padEnd(3)} ${s.name.padEnd(42)} ${String(s.ms).padStart(6)} ms${s.detail ? `  ${s.detail}` : ''}`),
    '',
    `test signature: ${report.testSignature ? `${report.testSignature.verified ? 'verified' : 'NOT verified'} under the unchanged group key (new shares of ${report.testSignature.signers.join(', ')})` : '-'}`,
    `mixed round:    ${report.mixedRound ? `old share of ${report.mixedRound.oldShareOf} + new shares of ${report.mixedRound.newSharesOf.join(', ')}: ${report.mixedRound.failed ? `failed as it must, named ${report.mixedRound.named.join(', ')}` : 'DID NOT FAIL'}` : '-'}`,
    `acknowledged:   ${report.acknowledged.join(', ') || '-'}`,
    `NOT acknowledged: ${report.notAcknowledged.join(', ') || 'none'}`,
    `old share files: ${report.oldShareFiles}`,
  ];
  if (report.interrupted.length > 0) {
    lines.push('interrupted attempts:');
    for (const i of report.interrupted) lines.push(`  ${i.ceremonyId.slice(0, 16)}… at ${i.phase}: ${i.resolution}`);
  }
  if (report.failure) lines.push(`failure:        ${report.failure.reason}${report.failure.culprits.length ? ` (culprits: ${report.failure.culprits.join(', ')})` : ''}`);
  for (const note of report.notes) lines.push(`note: ${note}`);
  return `${lines.join('\n')}\n`;
}

/** Writes `<data>/drills/<timestamp>-<kind>.json` and `.txt`; returns both paths. */
export function writeDrillReport(dataDir: string, report: DrillReport): { json: string; text: string } {
  const stamp = report.startedAt.replace(/[:.]/g, '-');
  const base = join(dataDir, 'drills', `${stamp}-${report.kind}${report.dryRun ? '-dry-run' : ''}`);
  const json = `${base}.json`;
  const text = `${base}.txt`;
  writeJsonFileAtomic(json, report, 0o600);
  writeFileSync(text, formatDrillReport(report), { mode: 0o600 });
  return { json, text };
}
