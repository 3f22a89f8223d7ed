import { z } from 'zod';
import type { AdminDeps } from './context.js';
import { defineRoute, type Route } from './route.js';

const nodeView = z.object({
  label: z.string(),
  online: z.boolean(),
  frozen: z.boolean(),
  lastSeenMsAgo: z.number().nullable(),
  latencyMs: z.number().nullable(),
  epoch: z.number(),
});

export const healthView = z.object({
  ok: z.boolean(),
  starting: z.boolean().optional(),
  identities: z.array(
    z.object({ name: z.string(), userPubkey: z.string(), epoch: z.number(), threshold: z.number(), quorumAvailable: z.boolean(), nodes: z.array(nodeView) }),
  ),
  relays: z.array(
    z.object({ url: z.string(), connected: z.boolean(), reconnects: z.number(), lastError: z.string().nullable(), liveSubscriptions: z.number(), degraded: z.boolean(), probeMisses: z.number() }),
  ),
  database: z.object({ ok: z.boolean(), error: z.string().optional() }),
  problems: z.array(z.string()),
});

/**
 * `GET /health` (issue 5): per identity whether k share nodes answer, each node's state, the
 * relays and a real database check; 200 when the bunker can sign, 503 with the problems when not.
 * Public like any health check: it shows node labels, relay URLs and pubkeys, never secrets.
 */
export function healthRoute(deps: AdminDeps): Route {
  return defineRoute({
    method: 'GET',
    url: '/health',
    summary: 'Can this bunker sign now: quorum per identity, share nodes, relays, database',
    tag: 'meta',
    access: 'public',
    response: healthView,
    errors: [503],
    handler: ({ reply }) => {
      const report = deps.observability?.health();
      if (!report) {
        void reply.code(503);
        return { ok: false, starting: true, identities: [], relays: [], database: { ok: true }, problems: ['starting'] };
      }
      if (!report.ok) void reply.code(503);
      return report;
    },
  });
}

/** `GET /metrics`: Prometheus text format (see observability/coordinator-metrics.ts). */
export function metricsRoute(deps: AdminDeps): Route {
  return defineRoute({
    method: 'GET',
    url: '/metrics',
    summary: 'Prometheus metrics: requests, ACL decisions, sign latency, vetoes, failovers, quorum, relays',
    tag: 'meta',
    access: 'public',
    response: z.string(),
    contentType: 'text/plain',
    handler: () => deps.observability?.metrics() ?? '',
  });
}
