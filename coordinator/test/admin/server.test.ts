import { describe, expect, it } from 'vitest';
import { isLoopbackHost, startAdminServer } from '../../src/admin/admin-server.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { CLIENT, setupAdmin } from './harness.js';

describe('admin server', () => {
  it('serves an OpenAPI 3.1 document that lists every route it serves, from the zod schemas', async () => {
    const admin = setupAdmin();
    const served: string[] = [];
    admin.app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) if (method !== 'HEAD') served.push(`${method} ${route.url.replace(/:([A-Za-z]+)/g, '{$1}')}`);
    });
    await admin.app.ready();
    const document = (await admin.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(document.openapi).toBe('3.1.0');
    const documented = Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(served.length).toBeGreaterThanOrEqual(17);
    expect(documented.sort()).toEqual(served.sort());
    const grant = document.paths['/api/v1/identities/{identity}/clients/{client}/grants'].post;
    expect(grant.security).toEqual([{ bearer: [] }]);
    expect(grant.requestBody.content['application/json'].schema).toMatchObject({ type: 'object', properties: { perms: { type: 'string' } }, required: ['perms'], additionalProperties: false });
    expect(grant.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`)).toEqual(['path:identity', 'path:client']);
    expect(grant.responses['401']).toEqual({ $ref: '#/components/responses/E401' });
    expect(document.paths['/health'].get.security).toEqual([]);
    expect(document.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('puts the security headers on every response: success, 401, 404, 400 and HTML', async () => {
    const { app, auth } = setupAdmin();
    const responses = await Promise.all([
      app.inject({ method: 'GET', url: '/health' }),
      app.inject({ method: 'GET', url: '/api/v1/identities' }),
      app.inject({ method: 'GET', url: '/nowhere' }),
      app.inject({ method: 'GET', url: '/api/v1/audit?n=0', headers: auth }),
      app.inject({ method: 'GET', url: '/approvals/apr_0123456789abcdef' }),
    ]);
    expect(responses.map((r) => r.statusCode)).toEqual([200, 401, 404, 400, 404]);
    for (const response of responses) {
      expect(response.headers['content-security-policy']).toMatch(/^default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'/);
      expect(response.headers).toMatchObject({
        'x-frame-options': 'DENY',
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'cache-control': 'no-store',
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-resource-policy': 'same-origin',
      });
      expect(response.headers).not.toHaveProperty('access-control-allow-origin');
    }
  });

  it('answers JSON errors for bad JSON, a non-JSON body, a body over the limit and unknown routes', async () => {
    const { app, auth } = setupAdmin({ bodyLimitBytes: 1024 });
    const url = `/api/v1/identities/default/clients/${CLIENT}/trust`;
    const badJson = await app.inject({ method: 'POST', url, headers: { ...auth, 'content-type': 'application/json' }, payload: '{"trustLevel":' });
    expect(badJson.statusCode).toBe(400);
    expect(badJson.json().error.code).toBe('INVALID_REQUEST');
    const text = await app.inject({ method: 'POST', url, headers: { ...auth, 'content-type': 'text/plain' }, payload: 'trustLevel=full' });
    expect(text.statusCode).toBe(415);
    expect(text.json().error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const large = await app.inject({ method: 'POST', url, headers: auth, payload: { trustLevel: 'full', reason: 'x'.repeat(2048) } });
    expect(large.statusCode).toBe(413);
    expect(large.json().error.code).toBe('PAYLOAD_TOO_LARGE');
    const proto = await app.inject({ method: 'POST', url, headers: { ...auth, 'content-type': 'application/json' }, payload: '{"trustLevel":"full","__proto__":{"x":1}}' });
    expect(proto.statusCode).toBe(400);
    const missing = await app.inject({ method: 'DELETE', url: '/api/v1/identities', headers: auth });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'no route DELETE /api/v1/identities' } });
  });

  it('answers 400 for a bad query and reads the audit tail and chain', async () => {
    const { app, auth } = setupAdmin();
    await app.inject({ method: 'POST', url: `/api/v1/identities/default/clients/${CLIENT}/trust`, headers: auth, payload: { trustLevel: 'full' } });
    expect((await app.inject({ method: 'GET', url: '/api/v1/audit?n=abc', headers: auth })).json().error.message).toBe('query.n: expected a positive integer');
    expect((await app.inject({ method: 'GET', url: '/api/v1/audit?n=5&x=1', headers: auth })).statusCode).toBe(400);
    const tail = (await app.inject({ method: 'GET', url: '/api/v1/audit?n=1', headers: auth })).json();
    expect(tail.entries).toEqual([expect.objectContaining({ actor: 'admin:alice', action: 'subject.trust' })]);
    const check = (await app.inject({ method: 'GET', url: '/api/v1/audit/verify', headers: auth })).json();
    expect(check).toMatchObject({ ok: true, entries: 2 });
  });

  it('reads the request log as metadata, filtered by client', async () => {
    const { app, auth, db } = setupAdmin();
    const insert = db.prepare("INSERT INTO request_log (at_sec, identity, client_pubkey, request_id, method, kind, event_id, decision, rule) VALUES (1, 'default', ?, ?, 'sign_event', 1, ?, 'allow', 'grant_exact')");
    insert.run(CLIENT, 'r1', 'e'.repeat(64));
    insert.run('d'.repeat(64), 'r2', 'f'.repeat(64));
    const response = await app.inject({ method: 'GET', url: `/api/v1/requests?client=${CLIENT}`, headers: auth });
    expect(response.json().requests).toEqual([
      { requestSeq: 1, atSec: 1, identity: 'default', clientPubkey: CLIENT, requestId: 'r1', method: 'sign_event', kind: 1, eventId: 'e'.repeat(64), decision: 'allow', rule: 'grant_exact' },
    ]);
  });

  it('answers an internal failure with a bare 500, never its message or stack, and logs it', async () => {
    const base = setupAdmin();
    const audit = new AuditLog(base.db, { nowSec: () => 0 });
    audit.verify = () => {
      throw new Error('disk on fire at /var/secret/path');
    };
    const admin = setupAdmin({ audit });
    const response = await admin.app.inject({ method: 'GET', url: '/api/v1/audit/verify', headers: admin.auth });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({ error: { code: 'INTERNAL', message: 'internal error' } });
    expect(response.body).not.toContain('/var/secret');
    expect(admin.logLines.some((line) => line.includes('disk on fire'))).toBe(true);
  });

  it('listens on loopback with port 0 and reports the real address', async () => {
    const admin = setupAdmin();
    const server = await startAdminServer(
      { db: admin.db, audit: admin.audit, approvals: admin.approvals, approvalWaiter: admin.waiter, identities: [], relays: [], nowSec: () => 0, logger: createSilent(), dataDir: admin.dataDir },
      { host: '127.0.0.1', port: 0 },
    );
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(server.url).not.toMatch(/:0$/);
      expect(server.publicUrl).toBe(server.url);
      // Until main.ts binds the running identities, health says the coordinator is starting.
      const health = await fetch(`${server.url}/health`);
      expect(health.status).toBe(503);
      expect(await health.json()).toMatchObject({ ok: false, starting: true, problems: ['starting'] });
    } finally {
      await server.close();
    }
  });

  it('refuses a non-loopback host unless allowed explicitly, then warns', async () => {
    const admin = setupAdmin();
    const deps = { db: admin.db, audit: admin.audit, approvals: admin.approvals, approvalWaiter: admin.waiter, identities: [], relays: [], nowSec: () => 0, logger: createSilent(), dataDir: admin.dataDir };
    await expect(startAdminServer(deps, { host: '0.0.0.0', port: 0 })).rejects.toThrow(/admin.host: 0.0.0.0 is not a loopback address/);
    const warnings: string[] = [];
    const server = await startAdminServer({ ...deps, logger: createSilent(warnings) }, { host: '0.0.0.0', port: 0, allowNonLoopback: true, publicUrl: 'https://bunker.example/' });
    try {
      expect(warnings).toEqual([expect.stringContaining('beyond loopback')]);
      expect(server.publicUrl).toBe('https://bunker.example');
    } finally {
      await server.close();
    }
  });

  it.each([
    ['127.0.0.1', true], ['127.1.2.3', true], ['localhost', true], ['::1', true], ['[::1]', true], ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false], ['::', false], ['192.168.1.10', false], ['example.com', false], ['127.example.com', false],
  ])('isLoopbackHost(%s) is %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});

function createSilent(warnings: string[] = []) {
  const logger = {
    debug: () => {},
    info: () => {},
    warn: (message: string) => void warnings.push(message),
    error: () => {},
    child: () => logger,
  };
  return logger;
}
