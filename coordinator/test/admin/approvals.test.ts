import { describe, expect, it } from 'vitest';
import type { ApprovalRecord } from '../../src/approvals/approval-store.js';
import { CLIENT, setupAdmin } from './harness.js';

/** Whether `promise` has settled by the time everything already queued has run. */
async function settledNow<T>(promise: Promise<T>): Promise<T | 'still waiting'> {
  return Promise.race([promise, new Promise<'still waiting'>((resolve) => setImmediate(() => resolve('still waiting')))]);
}

describe('admin API: approvals', () => {
  it('lists pending requests without their content, and shows one with its method and params', async () => {
    const { app, auth, openApproval } = setupAdmin();
    const record = openApproval();
    openApproval({ identity: 'other', requestId: 'req-2' });
    const list = await app.inject({ method: 'GET', url: '/api/v1/approvals?identity=default', headers: auth });
    expect(list.json().approvals).toEqual([expect.objectContaining({ approvalId: record.approvalId, clientPubkey: CLIENT, method: 'sign_event', kind: 0, state: 'pending', waitingOn: 'operator' })]);
    expect(list.body).not.toContain('PRIVATE-CANARY');
    expect((await app.inject({ method: 'GET', url: '/api/v1/approvals', headers: auth })).json().approvals).toHaveLength(2);
    const one = await app.inject({ method: 'GET', url: `/api/v1/approvals/${record.approvalId}`, headers: auth });
    expect(one.json().approval).toMatchObject({ approvalId: record.approvalId, scheme: 'nip44', request: { method: 'sign_event', params: [expect.stringContaining('PRIVATE-CANARY')] } });
  });

  it.each(['approve', 'deny'] as const)('%s: decides, audits as admin:<label> and lets the waiting request go on at once', async (decision) => {
    const { app, auth, waiter, openApproval, lastAudit } = setupAdmin();
    const record = openApproval();
    const waiting = waiter.wait(record.approvalId);
    expect(await settledNow(waiting)).toBe('still waiting');
    const response = await app.inject({ method: 'POST', url: `/api/v1/approvals/${record.approvalId}/${decision}`, headers: auth, payload: { reason: 'checked it' } });
    const state = decision === 'approve' ? 'approved' : 'denied';
    expect(response.statusCode).toBe(200);
    expect(response.json().approval).toMatchObject({ approvalId: record.approvalId, state, decidedBy: 'admin:alice', decisionReason: 'checked it' });
    expect(response.body).not.toContain('PRIVATE-CANARY');
    expect(await settledNow(waiting)).toMatchObject<Partial<ApprovalRecord>>({ state });
    expect(lastAudit()).toMatchObject({ actor: 'admin:alice', action: `approval.${decision}`, reason: 'checked it' });
    waiter.stop();
  });

  it('accepts a decision with no body at all (curl -X POST)', async () => {
    const { app, auth, openApproval, lastAudit } = setupAdmin();
    const record = openApproval();
    const response = await app.inject({ method: 'POST', url: `/api/v1/approvals/${record.approvalId}/approve`, headers: auth });
    expect(response.statusCode).toBe(200);
    expect(lastAudit()).toMatchObject({ actor: 'admin:alice', reason: 'api' });
  });

  it('answers 409 for a decided, an expired or a share-node request, and 404 for an unknown one', async () => {
    const { app, auth, openApproval, now, audit } = setupAdmin();
    const decide = (id: string) => app.inject({ method: 'POST', url: `/api/v1/approvals/${id}/approve`, headers: auth });
    const decided = openApproval();
    expect((await decide(decided.approvalId)).statusCode).toBe(200);
    const again = await decide(decided.approvalId);
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toEqual({ code: 'CONFLICT', message: `${decided.approvalId} is already approved` });
    const nodeWait = openApproval({ requestId: 'req-2', waitingOn: 'node:node-2' });
    expect((await decide(nodeWait.approvalId)).json().error.message).toContain('waits on share node node-2');
    const late = openApproval({ requestId: 'req-3', timeoutSec: 10 });
    now.sec += 10;
    expect((await decide(late.approvalId)).json().error.message).toContain('already expired');
    const before = audit.tail(100).length;
    expect((await decide('apr_0123456789abcdef')).statusCode).toBe(404);
    expect((await decide('apr_nothex')).statusCode).toBe(400);
    expect(audit.tail(100).length).toBe(before);
  });
});

describe('the approval page (auth_url)', () => {
  it('shows the id, the state and how to decide, never what the request asks for', async () => {
    const { app, openApproval, dataDir } = setupAdmin();
    const record = openApproval();
    const response = await app.inject({ method: 'GET', url: `/approvals/${record.approvalId}` });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    const html = response.body;
    expect(html).toContain(record.approvalId);
    expect(html).toContain('waiting for a decision');
    expect(html).toContain(`pnpm frostbunker approve ${record.approvalId} --data ${dataDir}`);
    expect(html).toContain(`pnpm frostbunker reject ${record.approvalId} --data ${dataDir}`);
    expect(html).toContain(`curl -X POST -H "Authorization: Bearer $FROSTBUNKER_ADMIN_TOKEN" http://127.0.0.1:7446/api/v1/approvals/${record.approvalId}/approve`);
    for (const secret of ['PRIVATE-CANARY', CLIENT, record.eventId!, 'req-1', 'sign_event:', 'kind']) expect(html).not.toContain(secret);
  });

  it('is self-contained under a CSP that allows only its own style', async () => {
    const { app, openApproval } = setupAdmin();
    const { approvalId } = openApproval();
    const response = await app.inject({ method: 'GET', url: `/approvals/${approvalId}` });
    const csp = String(response.headers['content-security-policy']);
    expect(csp).toMatch(/^default-src 'none'; /);
    expect(csp).toMatch(/style-src 'sha256-[A-Za-z0-9+/]+=*'/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(response.headers['x-frame-options']).toBe('DENY');
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.body).not.toMatch(/<script|<link|<img|src=/i);
    // Its one link is the dashboard's view of the request, on the same origin (issue 10).
    expect([...response.body.matchAll(/href="([^"]*)"/g)].map((m) => m[1])).toEqual([`/#/approvals/${approvalId}`]);
  });

  it('shows a decided request as decided, with no commands', async () => {
    const { app, auth, openApproval } = setupAdmin();
    const record = openApproval();
    await app.inject({ method: 'POST', url: `/api/v1/approvals/${record.approvalId}/deny`, headers: auth });
    const html = (await app.inject({ method: 'GET', url: `/approvals/${record.approvalId}` })).body;
    expect(html).toContain('denied');
    expect(html).not.toContain('pnpm frostbunker approve');
  });

  it('answers 404 for an unknown or malformed id', async () => {
    const { app } = setupAdmin();
    for (const id of ['apr_0123456789abcdef', '<script>', 'x'.repeat(50)]) {
      const response = await app.inject({ method: 'GET', url: `/approvals/${encodeURIComponent(id)}` });
      expect(response.statusCode).toBe(404);
      expect(response.body).toContain('Unknown request');
      expect(response.body).not.toContain('<script>');
    }
  });
});
