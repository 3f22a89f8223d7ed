import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrostbunkerError, VetoError } from '@frostbunker/shared/errors';
import { describe, expect, it } from 'vitest';
import { SignLog } from '../../src/observability/sign-log.js';
import { CLIENT, setupAdmin } from './harness.js';

/** The admin server's own host (harness BASE_URL) and origin, as a browser on it sends them. */
const HOST = { host: '127.0.0.1:7446' };
const ORIGIN = 'http://127.0.0.1:7446';

function builtDashboard(): string {
  const dir = mkdtempSync(join(tmpdir(), 'frostbunker-dashboard-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="/assets/index-abc.js"></script>');
  writeFileSync(join(dir, 'assets', 'index-abc.js'), 'console.log("dashboard")');
  return dir;
}

async function login(admin: ReturnType<typeof setupAdmin>) {
  const response = await admin.app.inject({ method: 'POST', url: '/auth/login', headers: { ...HOST, origin: ORIGIN }, payload: { token: admin.alice.token } });
  expect(response.statusCode).toBe(200);
  const cookie = String(response.headers['set-cookie']).split(';')[0]!;
  return { response, cookie, csrf: response.json().csrfToken as string };
}

describe('dashboard sessions (issue 10)', () => {
  it('opens a session from an admin token with an HttpOnly SameSite=Strict cookie and audits the login', async () => {
    const admin = setupAdmin();
    const wrong = await admin.app.inject({ method: 'POST', url: '/auth/login', headers: HOST, payload: { token: `fba_${'0'.repeat(64)}` } });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.headers['set-cookie']).toBeUndefined();
    const { response, cookie } = await login(admin);
    expect(response.headers['set-cookie']).toMatch(/^frostbunker_session=fbs_[0-9a-f]{64}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=28800$/);
    expect(response.json()).toMatchObject({ label: 'alice', csrfToken: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(admin.lastAudit()).toMatchObject({ actor: 'admin:alice', action: 'admin_session.open' });
    const session = await admin.app.inject({ method: 'GET', url: '/auth/session', headers: { ...HOST, cookie } });
    expect(session.json()).toMatchObject({ label: 'alice', csrfToken: response.json().csrfToken });
    // The cookie is a random id: the token itself is never in it.
    expect(cookie).not.toContain(admin.alice.token);
  });

  it('reads with the cookie, refuses a change without the CSRF token, and audits one with it as admin:<label>', async () => {
    const admin = setupAdmin();
    const { cookie, csrf } = await login(admin);
    expect((await admin.app.inject({ method: 'GET', url: '/api/v1/identities', headers: { ...HOST, cookie } })).statusCode).toBe(200);
    const url = `/api/v1/identities/default/clients/${CLIENT}/trust`;
    const before = admin.audit.tail(100).length;
    for (const headers of [{ ...HOST, cookie, origin: ORIGIN }, { ...HOST, cookie, origin: ORIGIN, 'x-csrf-token': '0'.repeat(64) }]) {
      const refused = await admin.app.inject({ method: 'POST', url, headers, payload: { trustLevel: 'full' } });
      expect(refused.statusCode).toBe(403);
      expect(refused.json().error.code).toBe('FORBIDDEN');
    }
    expect(admin.audit.tail(100).length).toBe(before);
    const done = await admin.app.inject({ method: 'POST', url, headers: { ...HOST, cookie, origin: ORIGIN, 'x-csrf-token': csrf }, payload: { trustLevel: 'full', reason: 'dashboard' } });
    expect(done.statusCode).toBe(200);
    expect(admin.lastAudit()).toMatchObject({ actor: 'admin:alice', action: expect.stringContaining('trust'), reason: 'dashboard' });
  });

  it('answers browsers only at its own host and origin (DNS rebinding, cross-site posts); bearer calls are unchanged', async () => {
    const admin = setupAdmin({ dashboardDir: builtDashboard() });
    const { cookie, csrf } = await login(admin);
    const rebound = { host: 'attacker.example:7446' };
    expect((await admin.app.inject({ method: 'GET', url: '/', headers: rebound })).statusCode).toBe(403);
    expect((await admin.app.inject({ method: 'POST', url: '/auth/login', headers: rebound, payload: { token: admin.alice.token } })).statusCode).toBe(403);
    expect((await admin.app.inject({ method: 'GET', url: '/api/v1/identities', headers: { ...rebound, cookie } })).statusCode).toBe(403);
    const crossSite = await admin.app.inject({
      method: 'POST', url: `/api/v1/identities/default/clients/${CLIENT}/trust`,
      headers: { ...HOST, cookie, origin: 'https://evil.example', 'x-csrf-token': csrf }, payload: { trustLevel: 'full' },
    });
    expect(crossSite.statusCode).toBe(403);
    expect((await admin.app.inject({ method: 'GET', url: '/', headers: { host: 'localhost:7446' } })).statusCode).toBe(200);
    expect((await admin.app.inject({ method: 'GET', url: '/api/v1/identities', headers: { ...rebound, ...admin.auth } })).statusCode).toBe(200);
  });

  it('ends a session on logout, after the idle time, and when its admin token is revoked', async () => {
    const admin = setupAdmin();
    const read = (cookie: string) => admin.app.inject({ method: 'GET', url: '/api/v1/identities', headers: { ...HOST, cookie } });
    const first = await login(admin);
    expect((await admin.app.inject({ method: 'POST', url: '/auth/logout', headers: { ...HOST, cookie: first.cookie, origin: ORIGIN } })).statusCode).toBe(403);
    const out = await admin.app.inject({ method: 'POST', url: '/auth/logout', headers: { ...HOST, cookie: first.cookie, origin: ORIGIN, 'x-csrf-token': first.csrf } });
    expect(out.json()).toEqual({ loggedOut: true });
    expect(out.headers['set-cookie']).toMatch(/Max-Age=0/);
    expect((await read(first.cookie)).statusCode).toBe(401);

    const second = await login(admin);
    admin.now.sec += 3600;
    expect((await read(second.cookie)).statusCode).toBe(401);

    const third = await login(admin);
    expect((await read(third.cookie)).statusCode).toBe(200);
    admin.adminTokens.revoke(admin.alice.tokenId, { actor: 'cli:root', reason: 'test' });
    expect((await read(third.cookie)).statusCode).toBe(401);
  });

  it('serves the built dashboard under a self-only CSP, refuses paths outside its assets, and says when it is not built', async () => {
    const admin = setupAdmin({ dashboardDir: builtDashboard() });
    const page = await admin.app.inject({ method: 'GET', url: '/', headers: HOST });
    expect(page.statusCode).toBe(200);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toMatch(/^default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; script-src 'self'; style-src 'self'/);
    expect(csp).not.toContain('unsafe');
    const script = await admin.app.inject({ method: 'GET', url: '/assets/index-abc.js', headers: HOST });
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.body).toBe('console.log("dashboard")');
    for (const url of ['/assets/..%2Findex.html', '/assets/..%2F..%2Facl.db', '/assets/missing.js']) {
      expect((await admin.app.inject({ method: 'GET', url, headers: HOST })).statusCode, url).toBe(404);
    }
    const unbuilt = setupAdmin({ dashboardDir: join(tmpdir(), 'frostbunker-no-such-dashboard') });
    const missing = await unbuilt.app.inject({ method: 'GET', url: '/', headers: HOST });
    expect(missing.statusCode).toBe(503);
    expect(missing.body).toContain('pnpm build');
  });

  it('sends a logged-in operator from the auth_url page to the dashboard approval view', async () => {
    const admin = setupAdmin();
    const { approvalId } = admin.openApproval();
    const { cookie } = await login(admin);
    const redirected = await admin.app.inject({ method: 'GET', url: `/approvals/${approvalId}`, headers: { ...HOST, cookie } });
    expect(redirected.statusCode).toBe(303);
    expect(redirected.headers.location).toBe(`/#/approvals/${approvalId}`);
    const anonymous = await admin.app.inject({ method: 'GET', url: `/approvals/${approvalId}`, headers: HOST });
    expect(anonymous.statusCode).toBe(200);
    expect(anonymous.body).toContain(`href="/#/approvals/${approvalId}"`);
  });
});

describe('dashboard read routes (issue 10)', () => {
  it('reports signing per hour with latency, and each failure with the vetoing node and its reason', async () => {
    const admin = setupAdmin();
    const log = new SignLog({ db: admin.db, nowSec: () => admin.now.sec });
    await log.time('default', { kind: 1, eventId: 'a'.repeat(64) }, async () => 'sig');
    await expect(log.time('default', { kind: 7, eventId: 'b'.repeat(64) }, async () => {
      throw new VetoError('node-2', 'vetoed: rate_limit_minute: 30 per minute');
    })).rejects.toThrow(/vetoed by node-2/);
    await expect(log.time('default', { kind: 1, eventId: 'c'.repeat(64) }, async () => {
      throw new FrostbunkerError('QUORUM_UNAVAILABLE', 'quorum unavailable: node-3 silent');
    })).rejects.toThrow();
    const outcomes = (await admin.app.inject({ method: 'GET', url: '/api/v1/signing?failed=1', headers: admin.auth })).json().outcomes;
    expect(outcomes).toEqual([
      expect.objectContaining({ kind: 1, ok: false, code: 'QUORUM_UNAVAILABLE', reason: 'quorum unavailable: node-3 silent' }),
      expect.objectContaining({ kind: 7, ok: false, code: 'VETOED', node: 'node-2', reason: 'vetoed: rate_limit_minute: 30 per minute' }),
    ]);
    expect(outcomes[0]).not.toHaveProperty('node');
    const hours = (await admin.app.inject({ method: 'GET', url: '/api/v1/signing/hourly?hours=3', headers: admin.auth })).json().hours;
    expect(hours).toHaveLength(3);
    expect(hours[2]).toMatchObject({ signed: 1, failed: 2, vetoed: 1, latencyMsP50: expect.any(Number) });
    expect(hours[0]).toMatchObject({ signed: 0, failed: 0, latencyMsP50: null });
  });

  it('lists drill reports newest first with their text, skipping drill state files and unreadable files', async () => {
    const admin = setupAdmin();
    const drills = join(admin.dataDir, 'drills');
    expect((await admin.app.inject({ method: 'GET', url: '/api/v1/drills', headers: admin.auth })).json()).toEqual({ reports: [] });
    mkdirSync(drills);
    const report = (startedAt: string, outcome: string) => ({
      v: 1, kind: 'refresh', identity: 'default', dryRun: false, outcome, resumed: false, ceremonyId: null, startedAt, finishedAt: startedAt,
      npubBefore: 'npub1x', npubAfter: 'npub1x', sameNpub: true, epochBefore: 0, epochAfter: 1, threshold: 2, maxSigners: 3, nodes: ['node-1'],
      steps: [], totalMs: 1234, testSignature: null, mixedRound: null, acknowledged: [], notAcknowledged: ['node-3'], oldShareFiles: 'destroyed',
      interrupted: [], failure: null, notes: [],
    });
    writeFileSync(join(drills, '2026-01-01T00-00-00-000Z-refresh.json'), JSON.stringify(report('2026-01-01T00:00:00.000Z', 'committed')));
    writeFileSync(join(drills, '2026-01-01T00-00-00-000Z-refresh.txt'), 'frostbunker drill refresh — identity default\n');
    writeFileSync(join(drills, '2026-02-01T00-00-00-000Z-refresh.json'), JSON.stringify(report('2026-02-01T00:00:00.000Z', 'aborted')));
    writeFileSync(join(drills, 'default.state.json'), '{"phase":"idle"}');
    writeFileSync(join(drills, 'broken.json'), '{');
    const { reports } = (await admin.app.inject({ method: 'GET', url: '/api/v1/drills', headers: admin.auth })).json();
    expect(reports.map((r: { name: string; outcome: string }) => `${r.name} ${r.outcome}`)).toEqual([
      '2026-02-01T00-00-00-000Z-refresh aborted',
      '2026-01-01T00-00-00-000Z-refresh committed',
    ]);
    expect(reports[1]).toMatchObject({ text: expect.stringContaining('identity default'), notAcknowledged: ['node-3'], epochAfter: 1 });
    expect(reports[0]).not.toHaveProperty('text');
    expect(admin.logLines.join('\n')).toContain('unreadable drill report');
  });
});
