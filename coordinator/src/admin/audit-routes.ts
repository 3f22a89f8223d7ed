import { z } from 'zod';
import type { AclViews } from './acl-views.js';
import type { AdminDeps } from './context.js';
import { defineRoute, type Route } from './route.js';
import { auditCheckView, auditEntryView, clientPubkeySchema, countQuery, identityNameSchema, requestLogView } from './schemas.js';

const TAG = 'audit';

/** The audit chain and the request log, read-only: `pnpm frostbunker audit tail|verify` over HTTP. */
export function auditRoutes(deps: AdminDeps, views: AclViews): Route[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/api/v1/audit',
      summary: 'The newest audit entries, oldest first',
      tag: TAG,
      access: 'operator',
      query: z.strictObject({ n: countQuery(20, 1_000) }),
      response: z.object({ entries: z.array(auditEntryView) }),
      handler: ({ query }) => ({ entries: deps.audit.tail(query.n) }),
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/audit/verify',
      summary: 'Walk the audit hash chain',
      tag: TAG,
      access: 'operator',
      response: auditCheckView,
      handler: () => deps.audit.verify(),
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/requests',
      summary: 'The newest NIP-46 requests and their decisions, oldest first (metadata only, never content)',
      tag: TAG,
      access: 'operator',
      query: z.strictObject({ n: countQuery(50, 1_000), identity: identityNameSchema.optional(), client: clientPubkeySchema.optional() }),
      response: z.object({ requests: z.array(requestLogView) }),
      handler: ({ query }) => ({
        requests: views.requestLog(query.n, {
          ...(query.identity === undefined ? {} : { identity: query.identity }),
          ...(query.client === undefined ? {} : { clientPubkey: query.client }),
        }),
      }),
    }),
  ];
}
