import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ScheduledFault, ScheduledMessage, ScheduleEntry } from './sim-bus.js';
import { SESSION_BUDGET_MS, type SimRun } from './protocol-sim.js';
import type { SessionKind } from './sim-cluster.js';

/** One request's slice of the run: when it ran, its sessions, and what the bus did with their messages. */
export interface RequestTrace {
  reqId: string;
  eventId: string;
  sessions: ReadonlyMap<string, SessionKind>;
  fromMs: number;
  toMs: number;
  answer: { type: string; value: unknown } | undefined;
  messages: ScheduledMessage[];
  /** Crashes and restarts while it ran. */
  faults: ScheduledFault[];
}

/** Every request's trace, in invoke order (one pass over the schedule, indexed by session). */
export function traceRequests(run: SimRun): Map<string, RequestTrace> {
  const bySession = new Map<string, ScheduledMessage[]>();
  const faults: ScheduledFault[] = [];
  for (const entry of run.bus.schedule) {
    if ('fault' in entry) faults.push(entry);
    else bySession.set(entry.sessionId, [...(bySession.get(entry.sessionId) ?? []), entry]);
  }
  const byReqId = new Map<string, { fromMs: number; answer?: { type: string; value: unknown; t: number } }>();
  for (const e of run.history.entries) {
    if (e.type === 'invoke') byReqId.set(e.reqId, { fromMs: e.t });
    else byReqId.get(e.reqId)!.answer ??= { type: e.type, value: e.value, t: e.t };
  }
  const traces = new Map<string, RequestTrace>();
  for (const [reqId, { fromMs, answer }] of byReqId) {
    const eventId = run.eventIdByReqId.get(reqId) ?? '';
    const sessions = run.cluster.sessionsByEvent.get(eventId) ?? new Map<string, SessionKind>();
    // Bus and history clocks share an origin: both start at the same virtual instant.
    const toMs = answer?.t ?? Number.POSITIVE_INFINITY;
    traces.set(reqId, {
      reqId,
      eventId,
      sessions,
      fromMs,
      toMs,
      answer: answer && { type: answer.type, value: answer.value },
      messages: [...sessions.keys()].flatMap((sessionId) => bySession.get(sessionId) ?? []),
      faults: faults.filter((f) => f.atMs >= fromMs && f.atMs <= toMs),
    });
  }
  return traces;
}

/** How long the request may take: the sum of its sessions' budgets. */
export function budgetMs(trace: RequestTrace): number {
  let total = 0;
  for (const kind of trace.sessions.values()) total += SESSION_BUDGET_MS[kind];
  return total;
}

/**
 * A request no fault touched: every message of its sessions delivered exactly once, and no
 * component crashed or restarted while it ran (a node already down the whole time is allowed:
 * k of n remain). Such a request must sign.
 */
export function isClean(trace: RequestTrace): boolean {
  return trace.faults.length === 0 && trace.messages.every((m) => m.deliverAtMs.length === 1 && m.lostCopies === 0);
}

/** The schedule of each named request, for the report; the whole schedule goes to `<dir>/schedule.jsonl`. */
export function failureSchedule(run: SimRun, reqIds: readonly string[], dir: string): string {
  const file = join(dir, 'schedule.jsonl');
  writeFileSync(file, run.bus.schedule.map((entry) => JSON.stringify(entry)).join('\n'));
  const traces = traceRequests(run);
  const lines = [`full schedule: ${file} (removed after the run unless a check fails or KEEP is set)`];
  for (const reqId of reqIds.slice(0, 5)) {
    const trace = traces.get(reqId);
    if (trace === undefined) continue;
    const sessions = [...trace.sessions].map(([s, kind]) => `${s.slice(0, 8)} (${kind})`).join(', ');
    lines.push(`${reqId} (event ${trace.eventId.slice(0, 12)}, sessions ${sessions}) invoked t=${trace.fromMs.toFixed(0)}ms, ${trace.answer?.type ?? 'no answer'} t=${trace.toMs.toFixed(0)}ms: ${JSON.stringify(trace.answer?.value).slice(0, 160)}`);
    const entries: ScheduleEntry[] = [...trace.messages, ...trace.faults].sort((a, b) => a.atMs - b.atMs);
    for (const entry of entries) lines.push(`  ${formatEntry(entry)}`);
  }
  return lines.join('\n');
}

function formatEntry(entry: ScheduleEntry): string {
  const at = `t=${entry.atMs.toFixed(0)}ms`;
  if ('fault' in entry) return `${at} ${entry.fault.toUpperCase()} ${entry.component}`;
  const copies = entry.deliverAtMs.map((ms) => ms.toFixed(0)).join(' and ');
  const fate = entry.deliverAtMs.length === 0 ? 'DROPPED' : `delivered at ${copies}${entry.lostCopies > 0 ? ` (${entry.lostCopies} lost: recipient crashed)` : ''}`;
  return `${at} ${entry.from} -> ${entry.to} ${entry.type} session ${entry.sessionId.slice(0, 8)}: ${fate}`;
}
