import { describe, expect, it } from 'vitest';
import { Failpoints } from '@frostbunker/shared/config';
import { setupAdmin } from '../admin/harness.js';
import { endpointHarness } from '../nip46/endpoint-harness.js';

const CLIENT = 'cd'.repeat(32);
const TABLES = ['subjects', 'grants', 'denials', 'tokens', 'audit'];

/** Every ACL row, as text: "byte-identical before and after" is compared on this. */
function dump(db: ReturnType<typeof setupAdmin>['db']): string {
  return TABLES.map((table) => JSON.stringify(db.prepare(`SELECT * FROM ${table} ORDER BY rowid`).all())).join('\n');
}

// RELIABILITY.md G11 (CI size: 100 mutations + 100 signs): with the audit log (or the request
// log) failing, nothing changes unaudited and nothing is signed unlogged; once the fault clears,
// service resumes without a restart.
describe('audit fails closed (G11)', () => {
  it('refuses 100/100 admin mutations with a clear error while audit rows cannot be written, changes nothing, and resumes once cleared', async () => {
    const failpoints = new Failpoints();
    const admin = setupAdmin({}, { failpoints });
    const post = (path: string, payload: unknown) =>
      admin.app.inject({ method: 'POST', url: `/api/v1/identities/default${path}`, headers: admin.auth, payload: payload as object });
    await post(`/clients/${CLIENT}/trust`, { trustLevel: 'reasonable' }); // a subject to suspend and revoke
    const before = dump(admin.db);
    failpoints.set('audit.insert', 'throw');
    const requests = [
      () => post(`/clients/${CLIENT}/grants`, { perms: 'sign_event:1' }),
      () => post(`/clients/${CLIENT}/denials`, { perm: 'sign_event:7', forSec: 60 }),
      () => post(`/clients/${CLIENT}/suspend`, { forSec: 60 }),
      () => post(`/clients/${CLIENT}/trust`, { trustLevel: 'full' }),
      () => post(`/clients/${CLIENT}/revoke`, {}),
      () => post('/connection-tokens', { perms: 'ping' }),
    ];
    const statuses: number[] = [];
    for (let i = 0; i < 100; i++) {
      const response = await requests[i % requests.length]!();
      statuses.push(response.statusCode);
      expect(response.json()).toEqual({ error: { code: 'STORE_FAILED', message: 'the change could not be recorded in the audit log, so it was not made' } });
    }
    expect(statuses.every((s) => s === 503)).toBe(true);
    expect(dump(admin.db)).toBe(before);
    failpoints.set('audit.insert', undefined);
    expect((await post(`/clients/${CLIENT}/grants`, { perms: 'sign_event:1' })).statusCode).toBe(200);
    expect(admin.audit.verify().ok).toBe(true);
  });

  it('answers 100/100 sign requests with an error and signs nothing while the request log cannot be written, then resumes', async () => {
    const failpoints = new Failpoints();
    const h = await endpointHarness({ failpoints });
    const client = h.client();
    await h.connectWithToken(client, 'sign_event:1');
    failpoints.set('request_log.insert', 'throw');
    for (let i = 0; i < 100; i++) {
      h.clock.ms += 1_000; // one a second: inside the client's error-reply budget
      await h.endpoint.handleEvent(client.request('sign_event', [JSON.stringify({ kind: 1, content: `g11 ${i}`, tags: [], created_at: 1 })]));
    }
    const replies = client.replies().slice(1);
    expect(replies).toHaveLength(100);
    expect(replies.every((r) => r.error !== undefined && r.result === '')).toBe(true);
    expect(h.signingSessions()).toBe(0);
    expect((h.db.prepare('SELECT count(*) AS n FROM request_log').get() as { n: number }).n).toBe(0);
    failpoints.set('request_log.insert', undefined);
    await h.endpoint.handleEvent(client.request('sign_event', [JSON.stringify({ kind: 1, content: 'after', tags: [], created_at: 1 })]));
    expect(client.replies().at(-1)?.error).toBeUndefined();
    expect(h.signingSessions()).toBe(1);
  });

  it('ignores FROSTBUNKER_FAILPOINTS outside test mode, and says so', () => {
    const warnings: string[] = [];
    const production = Failpoints.fromEnv({ FROSTBUNKER_FAILPOINTS: 'audit.insert=throw', NODE_ENV: 'production' }, (m) => warnings.push(m));
    expect(production.armed).toEqual([]);
    expect(() => production.hit('audit.insert')).not.toThrow();
    expect(warnings[0]).toMatch(/ignored/);
    const test = Failpoints.fromEnv({ FROSTBUNKER_FAILPOINTS: 'audit.insert=throw', NODE_ENV: 'test', FROSTBUNKER_TEST_MODE: '1' }, (m) => warnings.push(m));
    expect(test.armed).toEqual(['audit.insert']);
    expect(() => test.hit('audit.insert')).toThrow(/failpoint audit.insert/);
    expect(warnings[1]).toMatch(/TEST MODE: failpoints armed: audit.insert=throw/);
  });
});
