import { z } from 'zod';
import type { ApprovalRecord } from '../approvals/approval-store.js';
import { actorOf } from './auth.js';
import type { AdminDeps } from './context.js';
import { AdminError } from './http-errors.js';
import { defineRoute, type Route } from './route.js';
import { approvalDetailView, approvalParams, approvalSummaryView, identityNameSchema, reasonBody } from './schemas.js';

const TAG = 'approvals';

/**
 * Requests waiting for this coordinator's operator (NIP-46 auth_url). A decision goes through
 * ApprovalStore.decide (audited) and then pokes the waiter, so the waiting request goes on at once.
 */
export function approvalRoutes(deps: AdminDeps): Route[] {
  const approval = (approvalId: string): ApprovalRecord => {
    deps.approvals.expireDue();
    const record = deps.approvals.get(approvalId);
    if (!record) throw new AdminError(404, 'NOT_FOUND', `no request ${approvalId}`);
    return record;
  };
  const decide = (decision: 'approve' | 'deny') =>
    defineRoute({
      method: 'POST',
      url: `/api/v1/approvals/:approvalId/${decision}`,
      summary: decision === 'approve' ? 'Approve a waiting request: it goes on at once' : 'Deny a waiting request: the client gets an error',
      tag: TAG,
      access: 'operator',
      params: approvalParams,
      body: reasonBody,
      response: z.object({ approval: approvalSummaryView }),
      errors: [404, 409],
      handler: ({ params, body, operator }) => {
        // The store refuses these too; checking first gives each its own status.
        const record = approval(params.approvalId);
        if (record.waitingOn !== 'operator') {
          throw new AdminError(409, 'CONFLICT', `${record.approvalId} waits on share node ${record.waitingOn.slice('node:'.length)}: its operator decides there`);
        }
        if (record.state !== 'pending') throw new AdminError(409, 'CONFLICT', `${record.approvalId} is already ${record.state}`);
        const decided = deps.approvals.decide(record.approvalId, decision, { actor: actorOf(operator), reason: body.reason });
        deps.approvalWaiter.poke();
        return { approval: decided };
      },
    });

  return [
    defineRoute({
      method: 'GET',
      url: '/api/v1/approvals',
      summary: 'Requests waiting for a decision, oldest first (metadata only)',
      tag: TAG,
      access: 'operator',
      query: z.strictObject({ identity: identityNameSchema.optional() }),
      response: z.object({ approvals: z.array(approvalSummaryView) }),
      handler: ({ query }) => ({ approvals: deps.approvals.listPending(query.identity) }),
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/approvals/:approvalId',
      summary: "One request, with its method and params for the operator to read (until it is answered)",
      tag: TAG,
      access: 'operator',
      params: approvalParams,
      response: z.object({ approval: approvalDetailView }),
      errors: [404],
      handler: ({ params }) => ({ approval: approval(params.approvalId) }),
    }),
    decide('approve'),
    decide('deny'),
  ];
}
