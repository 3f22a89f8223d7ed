import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { SignLog } from '../observability/sign-log.js';
import type { AdminDeps } from './context.js';
import { AdminError } from './http-errors.js';
import { defineRoute, type Route } from './route.js';
import { countQuery, identityNameSchema } from './schemas.js';

const signOutcomeView = z.object({
  outcomeSeq: z.number(),
  atSec: z.number(),
  identity: z.string(),
  kind: z.number(),
  eventId: z.string(),
  ok: z.boolean(),
  durationMs: z.number(),
  code: z.string().optional(),
  node: z.string().optional(),
  reason: z.string().optional(),
});

const hourView = z.object({
  hourStartSec: z.number(),
  requests: z.number(),
  signed: z.number(),
  failed: z.number(),
  vetoed: z.number(),
  latencyMsP50: z.number().nullable(),
  latencyMsMax: z.number().nullable(),
  decisions: z.object({ allow: z.number(), deny: z.number(), ask: z.number() }),
});

/** What a drill report list shows; the full report is the `.json` and `.txt` beside it. */
const drillReportView = z.object({
  name: z.string(),
  kind: z.string(),
  identity: z.string(),
  outcome: z.string(),
  dryRun: z.boolean(),
  startedAt: z.string(),
  finishedAt: z.string(),
  totalMs: z.number(),
  epochBefore: z.number(),
  epochAfter: z.number(),
  sameNpub: z.boolean(),
  notAcknowledged: z.array(z.string()),
  failure: z.object({ reason: z.string(), culprits: z.array(z.string()) }).nullable(),
  /** The readable summary (`.txt`), when it is there. */
  text: z.string().optional(),
});
const drillFileSchema = drillReportView.omit({ name: true, text: true }).extend({ notes: z.array(z.string()).optional() });

const REPORT_NAME = /^[A-Za-z0-9._-]+\.json$/;
const MAX_REPORT_BYTES = 256 * 1024;

/**
 * Read routes the dashboard needs beside the ACL ones (issue 10): how signing went per hour
 * (signatures, latency, vetoes) and the rotation drill reports `pnpm frostbunker drill` wrote.
 */
export function dashboardRoutes(deps: AdminDeps, signLog: SignLog): Route[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/api/v1/signing',
      summary: 'The newest signing requests: latency, or the error with the vetoing node and its reason (newest first)',
      tag: 'activity',
      access: 'operator',
      query: z.strictObject({ n: countQuery(50, 1_000), identity: identityNameSchema.optional(), failed: z.enum(['0', '1']).default('0') }),
      response: z.object({ outcomes: z.array(signOutcomeView) }),
      handler: ({ query }) => ({
        outcomes: signLog.recent(query.n, { ...(query.identity === undefined ? {} : { identity: query.identity }), failedOnly: query.failed === '1' }),
      }),
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/signing/hourly',
      summary: 'Per hour (oldest first): signatures, failures, vetoes, median and worst latency, ACL decisions',
      tag: 'activity',
      access: 'operator',
      query: z.strictObject({ hours: countQuery(24, 24 * 14), identity: identityNameSchema.optional() }),
      response: z.object({ hours: z.array(hourView) }),
      handler: ({ query }) => {
        const hours = signLog.hourly(query.hours, query.identity);
        const fromSec = hours[0]!.hourStartSec;
        const counts = deps.db
          .prepare<[{ from: number; identity: string | null }], { hour: number; decision: string; total: number }>(
            `SELECT (at_sec / 3600) * 3600 AS hour, decision, count(*) AS total FROM request_log
             WHERE at_sec >= @from AND (@identity IS NULL OR identity = @identity) GROUP BY hour, decision`,
          )
          .all({ from: fromSec, identity: query.identity ?? null });
        return {
          hours: hours.map((hour) => {
            const of = (decision: string) => counts.find((c) => c.hour === hour.hourStartSec && c.decision === decision)?.total ?? 0;
            return { ...hour, decisions: { allow: of('allow'), deny: of('deny'), ask: of('ask') } };
          }),
        };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/drills',
      summary: 'Rotation drill reports (<data>/drills/*.json with their .txt summaries), newest first',
      tag: 'drills',
      access: 'operator',
      query: z.strictObject({ n: countQuery(20, 200) }),
      response: z.object({ reports: z.array(drillReportView) }),
      handler: ({ query }) => ({ reports: readDrillReports(join(deps.dataDir, 'drills'), query.n, (name, error) => deps.logger.warn('unreadable drill report', { name, error })) }),
    }),
  ];
}

function readDrillReports(dir: string, count: number, onUnreadable: (name: string, error: string) => void): z.input<typeof drillReportView>[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new AdminError(404, 'NOT_FOUND', 'the drills directory cannot be read');
  }
  // `<identity>.state.json` is a drill's own state, not a report. Names start with the ISO time.
  const reports = names.filter((name) => REPORT_NAME.test(name) && !name.endsWith('.state.json')).sort().reverse().slice(0, count);
  const out: z.input<typeof drillReportView>[] = [];
  for (const name of reports) {
    const path = join(dir, name);
    try {
      if (statSync(path).size > MAX_REPORT_BYTES) throw new Error('too large');
      const report = drillFileSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
      let text: string | undefined;
      try {
        text = readFileSync(path.replace(/\.json$/, '.txt'), 'utf8').slice(0, MAX_REPORT_BYTES);
      } catch {
        text = undefined;
      }
      const { notes: _notes, ...shown } = report;
      out.push({ name: name.replace(/\.json$/, ''), ...shown, ...(text === undefined ? {} : { text }) });
    } catch (error) {
      onUnreadable(name, error instanceof Error ? error.message.slice(0, 200) : String(error));
    }
  }
  return out;
}
