import { describe, expect, it } from 'vitest';
import { CLIENT, setupAdmin } from './harness.js';

/** A concrete URL for a route pattern, with valid-looking values for every parameter. */
function concrete(url: string): string {
  return url.replace(':identity', 'default').replace(':client', CLIENT).replace(':approvalId', 'apr_0123456789abcdef');
}

describe('admin API authentication', () => {
  it('answers 401 with a JSON error and a Bearer challenge on every /api/v1 route without a token', async () => {
    const { app, routes } = setupAdmin();
    const apiRoutes = routes.filter((r) => r.url.startsWith('/api/v1'));
    expect(apiRoutes.length).toBeGreaterThanOrEqual(14);
    for (const route of apiRoutes) {
      expect(route.access).toBe('operator');
      const response = await app.inject({ method: route.method, url: concrete(route.url), ...(route.method === 'POST' ? { payload: {} } : {}) });
      expect(response.statusCode, `${route.method} ${route.url}`).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer realm="frostbunker-admin"');
      expect(response.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.stringContaining('admin-token create') } });
    }
  });

  it('refuses a wrong, a malformed and a revoked token, and accepts the live one', async () => {
    const { app, alice, auth, adminTokens } = setupAdmin();
    const get = (authorization?: string) => app.inject({ method: 'GET', url: '/api/v1/identities', headers: authorization === undefined ? {} : { authorization } });
    expect((await get(auth.authorization)).statusCode).toBe(200);
    expect((await get(`bearer ${alice.token}`)).statusCode).toBe(200); // the scheme is case-insensitive
    const wrong = await get(`Bearer fba_${'0'.repeat(64)}`);
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error.message).toBe('invalid or revoked admin token');
    expect((await get(`Basic ${Buffer.from(`x:${alice.token}`).toString('base64')}`)).statusCode).toBe(401);
    expect((await get(alice.token)).statusCode).toBe(401);
    adminTokens.revoke(alice.tokenId, { actor: 'cli:root', reason: 'test' });
    expect((await get(auth.authorization)).statusCode).toBe(401);
  });

  it('runs no handler for an unauthenticated mutation', async () => {
    const { app, audit } = setupAdmin();
    const before = audit.tail(100).length;
    const response = await app.inject({ method: 'POST', url: `/api/v1/identities/default/clients/${CLIENT}/trust`, payload: { trustLevel: 'full' } });
    expect(response.statusCode).toBe(401);
    expect(audit.tail(100).length).toBe(before);
  });

  it('keeps /health, /openapi.json and the approval page public', async () => {
    const { app } = setupAdmin();
    expect((await app.inject({ method: 'GET', url: '/health' })).json()).toMatchObject({ ok: true, problems: [] });
    expect((await app.inject({ method: 'GET', url: '/openapi.json' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/approvals/apr_0123456789abcdef' })).statusCode).toBe(404);
  });
});
