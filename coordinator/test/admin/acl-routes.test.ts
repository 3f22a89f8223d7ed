import { createHash } from 'node:crypto';
import { npubEncode } from 'nostr-tools/nip19';
import { describe, expect, it } from 'vitest';
import type { AclRequest } from '../../src/acl/types.js';
import { decideVerdict } from '../../src/acl/verdict.js';
import { AclStore } from '../../src/acl-store/acl-store.js';
import { CLIENT, IDENTITY, RELAY, setupAdmin } from './harness.js';

const CLIENT_URL = `/api/v1/identities/default/clients/${CLIENT}`;
const NPUB = npubEncode(CLIENT);
const BAD_NPUB = NPUB.slice(0, -1) + (NPUB.endsWith('q') ? 'p' : 'q');

function setup() {
  const admin = setupAdmin();
  const post = (url: string, payload: unknown) => admin.app.inject({ method: 'POST', url, headers: admin.auth, payload: payload as object });
  const get = (url: string) => admin.app.inject({ method: 'GET', url, headers: admin.auth });
  /** What the live verdict says now about one request of CLIENT. */
  const verdict = (method: AclRequest['method'], kind?: number) => {
    const request = { clientPubkey: CLIENT, method, ...(kind === undefined ? {} : { kind }) };
    return decideVerdict(new AclStore(admin.db, { nowSec: () => admin.now.sec }).loadRows('default', CLIENT), request, admin.now.sec).decision;
  };
  return { ...admin, post, get, verdict };
}

describe('admin API: the live ACL', () => {
  it('lists the identities', async () => {
    const { get } = setup();
    expect((await get('/api/v1/identities')).json()).toEqual({ identities: [IDENTITY] });
  });

  it('sets a trust level (creating the client), audited as admin:<label> with the reason', async () => {
    const { post, verdict, lastAudit } = setup();
    expect(verdict('sign_event', 1)).toBe('deny'); // unknown client
    const response = await post(`${CLIENT_URL}/trust`, { trustLevel: 'reasonable', reason: 'my phone' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ client: { clientPubkey: CLIENT, trustLevel: 'reasonable', grants: [], denials: [] } });
    expect(verdict('sign_event', 1)).toBe('allow');
    expect(lastAudit()).toMatchObject({ actor: 'admin:alice', action: 'subject.trust', target: `default/${CLIENT}`, reason: 'my phone' });
  });

  it('accepts the client as an npub', async () => {
    const { post, lastAudit } = setup();
    const response = await post(`/api/v1/identities/default/clients/${NPUB}/trust`, { trustLevel: 'full' });
    expect(response.json().client.clientPubkey).toBe(CLIENT);
    expect(lastAudit()).toMatchObject({ actor: 'admin:alice', reason: 'api' });
  });

  it('grants perms in the NIP-46 grammar with a ttl and a cap, one audited grant per perm', async () => {
    const { post, verdict, audit, now } = setup();
    await post(`${CLIENT_URL}/trust`, { trustLevel: 'paranoid' });
    const response = await post(`${CLIENT_URL}/grants`, { perms: 'sign_event:1,nip44_decrypt', ttlSec: 3600, cap: { max: 5, windowSec: 60 }, reason: 'notes app' });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.grantIds).toHaveLength(2);
    expect(body.client.grants).toEqual(expect.arrayContaining([
      expect.objectContaining({ method: 'sign_event', kind: 1, expiresAtSec: now.sec + 3600, usageCap: { max: 5, windowSec: 60 }, usedInWindow: 0, live: true, source: 'explicit' }),
      expect.objectContaining({ method: 'nip44_decrypt', live: true }),
    ]));
    expect(verdict('sign_event', 1)).toBe('allow');
    expect(verdict('nip44_decrypt')).toBe('allow');
    expect(verdict('sign_event', 7)).toBe('ask');
    const rows = audit.tail(2);
    expect(rows.map((r) => [r.actor, r.action, r.reason])).toEqual([['admin:alice', 'grant.create', 'notes app'], ['admin:alice', 'grant.create', 'notes app']]);
    now.sec += 3600;
    expect(verdict('sign_event', 1)).toBe('ask');
  });

  it('grants all the perms or none', async () => {
    const { post, audit } = setup();
    const before = audit.tail(100).length;
    const response = await post(`${CLIENT_URL}/grants`, { perms: 'sign_event:1,sign_event:x' });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.message).toContain('invalid kind');
    expect(audit.tail(100).length).toBe(before);
  });

  it('denies one perm for a while; the denial beats trust and is audited', async () => {
    const { post, verdict, lastAudit, now } = setup();
    await post(`${CLIENT_URL}/trust`, { trustLevel: 'full' });
    const response = await post(`${CLIENT_URL}/denials`, { perm: 'sign_event:1', forSec: 600, reason: 'spam' });
    expect(response.statusCode).toBe(200);
    expect(response.json().denialId).toMatch(/^d_/);
    expect(response.json().client.denials).toEqual([expect.objectContaining({ method: 'sign_event', kind: 1, untilSec: now.sec + 600, reason: 'spam', actor: 'admin:alice', live: true })]);
    expect(verdict('sign_event', 1)).toBe('deny');
    expect(verdict('sign_event', 7)).toBe('allow');
    expect(lastAudit()).toMatchObject({ actor: 'admin:alice', action: 'denial.create', reason: 'spam' });
    now.sec += 600;
    expect(verdict('sign_event', 1)).toBe('allow');
  });

  it('denies every method with *', async () => {
    const { post, verdict } = setup();
    await post(`${CLIENT_URL}/trust`, { trustLevel: 'full' });
    expect((await post(`${CLIENT_URL}/denials`, { perm: '*' })).statusCode).toBe(200);
    expect(verdict('ping')).toBe('deny');
  });

  it('suspends and revokes a known client, audited; both need the client to exist', async () => {
    const { post, verdict, lastAudit, now } = setup();
    expect((await post(`${CLIENT_URL}/suspend`, { forSec: 60 })).statusCode).toBe(404);
    expect((await post(`${CLIENT_URL}/revoke`, {})).statusCode).toBe(404);
    await post(`${CLIENT_URL}/trust`, { trustLevel: 'full' });
    const suspended = await post(`${CLIENT_URL}/suspend`, { forSec: 60, reason: 'odd activity' });
    expect(suspended.json().client.suspension).toEqual({ untilSec: now.sec + 60, reason: 'odd activity', actor: 'admin:alice' });
    expect(verdict('ping')).toBe('deny');
    expect(lastAudit()).toMatchObject({ actor: 'admin:alice', action: 'subject.suspend', reason: 'odd activity' });
    now.sec += 60;
    expect(verdict('ping')).toBe('allow');
    const revoked = await post(`${CLIENT_URL}/revoke`, { reason: 'lost phone' });
    expect(revoked.json().client.revokedAtSec).toBe(now.sec);
    expect(verdict('ping')).toBe('deny');
    expect(lastAudit()).toMatchObject({ actor: 'admin:alice', action: 'subject.revoke', reason: 'lost phone' });
  });

  it('lists clients with their grants and denials', async () => {
    const { post, get } = setup();
    await post(`${CLIENT_URL}/trust`, { trustLevel: 'paranoid' });
    await post(`${CLIENT_URL}/grants`, { perms: 'ping' });
    await post(`/api/v1/identities/default/clients/${'d'.repeat(64)}/denials`, { perm: 'nip44_decrypt' });
    const { clients } = (await get('/api/v1/identities/default/clients')).json();
    expect(clients).toEqual([
      expect.objectContaining({ clientPubkey: CLIENT, trustLevel: 'paranoid', grants: [expect.objectContaining({ method: 'ping' })], denials: [] }),
      expect.objectContaining({ clientPubkey: 'd'.repeat(64), grants: [], denials: [expect.objectContaining({ method: 'nip44_decrypt' })] }),
    ]);
    expect(clients[1]).not.toHaveProperty('trustLevel');
  });

  it('creates a connection token: a bunker:// URL whose secret is stored only hashed, audited', async () => {
    const { post, db, lastAudit } = setup();
    const response = await post('/api/v1/identities/default/connection-tokens', { perms: 'sign_event:1,nip44_encrypt', ttlSec: 300, label: 'laptop' });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    const url = new URL(body.bunkerUrl);
    expect(url.protocol).toBe('bunker:');
    expect(url.host).toBe(IDENTITY.transportPubkey);
    expect(url.searchParams.getAll('relay')).toEqual([RELAY]);
    const secret = url.searchParams.get('secret')!;
    expect(body).toMatchObject({ perms: 'nip44_encrypt,sign_event:1', expiresAtSec: 1_800_000_300 });
    const row = db.prepare('SELECT secret_hash, label FROM tokens WHERE token_id = ?').get(body.tokenId) as { secret_hash: string; label: string };
    expect(row).toEqual({ secret_hash: createHash('sha256').update(secret).digest('hex'), label: 'laptop' });
    expect(lastAudit()).toMatchObject({ actor: 'admin:alice', action: 'token.create', target: `default/${body.tokenId}` });
  });

  it('answers 404 for an unknown identity, with no change made', async () => {
    const { post, get, audit } = setup();
    const before = audit.tail(100).length;
    const response = await post(`/api/v1/identities/nobody/clients/${CLIENT}/trust`, { trustLevel: 'full' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'no identity "nobody"' } });
    expect((await get('/api/v1/identities/nobody/clients')).statusCode).toBe(404);
    expect((await post('/api/v1/identities/nobody/connection-tokens', {})).statusCode).toBe(404);
    expect(audit.tail(100).length).toBe(before);
  });

  it.each([
    ['a client that is no pubkey', '/api/v1/identities/default/clients/zz/trust', { trustLevel: 'full' }, 'params.client: expected the client pubkey'],
    ['an npub with a bad checksum', `/api/v1/identities/default/clients/${BAD_NPUB}/trust`, { trustLevel: 'full' }, 'params.client: not a valid npub'],
    ['an unknown trust level', `${CLIENT_URL}/trust`, { trustLevel: 'total' }, 'body.trustLevel'],
    ['a misspelt field', `${CLIENT_URL}/grants`, { perms: 'ping', ttl: 60 }, 'body: Unrecognized key: "ttl"'],
    ['an unknown method', `${CLIENT_URL}/grants`, { perms: 'sign_everything' }, 'unknown method in "sign_everything"'],
    ['perms that name nothing', `${CLIENT_URL}/grants`, { perms: ',' }, 'body.perms: names no permission'],
    ['a negative ttl', `${CLIENT_URL}/grants`, { perms: 'ping', ttlSec: -1 }, 'body.ttlSec'],
    ['two perms to deny', `${CLIENT_URL}/denials`, { perm: 'ping,logout' }, 'body.perm: expected *, one method'],
    ['a suspension without a duration', `${CLIENT_URL}/suspend`, {}, 'body.forSec'],
    ['an empty reason', `${CLIENT_URL}/trust`, { trustLevel: 'full', reason: ' ' }, 'body.reason'],
    ['bad token perms', '/api/v1/identities/default/connection-tokens', { perms: 'nip44_encrypt:abc' }, 'param not allowed'],
  ])('answers 400 naming the problem for %s', async (_name, url, payload, message) => {
    const { post, audit } = setup();
    const before = audit.tail(100).length;
    const response = await post(url, payload);
    expect(response.statusCode).toBe(400);
    expect(response.json().error.message).toContain(message);
    expect(audit.tail(100).length).toBe(before);
  });
});
