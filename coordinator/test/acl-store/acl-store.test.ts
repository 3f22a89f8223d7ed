import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decideVerdict } from '../../src/acl/verdict.js';
import type { AclRequest } from '../../src/acl/types.js';
import { AclAdmin } from '../../src/acl-store/acl-admin.js';
import { AclStore } from '../../src/acl-store/acl-store.js';
import { openAclDatabase } from '../../src/acl-store/database.js';
import { AuditLog } from '../../src/audit/audit-log.js';

const CLIENT = 'c'.repeat(64);
const operator = { actor: 'operator', reason: 'test' };

/** A real SQLite file per test (STYLE.md 2.9: no DB mocks), the real pure verdict on top. */
function setup() {
  const db = openAclDatabase(join(mkdtempSync(join(tmpdir(), 'frostbunker-acl-store-')), 'acl.db'));
  const now = { sec: 1_800_000_000 };
  const nowSec = () => now.sec;
  const audit = new AuditLog(db, { nowSec });
  const admin = new AclAdmin({ db, audit, identity: 'default', nowSec });
  const store = new AclStore(db, { nowSec });
  let seq = 0;
  const request = (method: AclRequest['method'], kind?: number) =>
    store.decideAndLog({ identity: 'default', clientPubkey: CLIENT, requestId: `r${++seq}`, method, ...(kind === undefined ? {} : { kind }) }, (rows, t) =>
      decideVerdict(rows, { clientPubkey: CLIENT, method, ...(kind === undefined ? {} : { kind }) }, t),
    );
  return { db, now, audit, admin, store, request };
}

describe('AclStore with the live verdict', () => {
  it('round-trips subjects, grants and denials through SQLite into the verdict row types', () => {
    const { admin, store } = setup();
    admin.setTrustLevel(CLIENT, 'paranoid', operator);
    const grantId = admin.grant({ clientPubkey: CLIENT, method: 'sign_event', kind: 1, expiresAtSec: 1_900_000_000, usageCap: { max: 5, windowSec: 60 } }, operator);
    admin.grant({ clientPubkey: CLIENT, method: 'sign_event', kind: '*' }, operator);
    admin.deny({ clientPubkey: CLIENT, method: 'nip44_decrypt', untilSec: 1_800_000_600 }, operator);
    const rows = store.loadRows('default', CLIENT);
    expect(rows.subject).toEqual({ clientPubkey: CLIENT, trustLevel: 'paranoid' });
    expect(rows.grants.find((g) => g.grantId === grantId)).toEqual({
      grantId, clientPubkey: CLIENT, method: 'sign_event', kind: 1, expiresAtSec: 1_900_000_000, usageCap: { max: 5, windowSec: 60 }, source: 'explicit',
    });
    expect(rows.grants.map((g) => g.kind).sort()).toEqual(['*', 1]);
    expect(rows.denials).toMatchObject([{ method: 'nip44_decrypt', untilSec: 1_800_000_600, reason: 'test', actor: 'operator' }]);
    expect(store.loadRows('other-identity', CLIENT)).toEqual({ grants: [], denials: [], usage: new Map() });
  });

  it('counts a usage cap from the request log in the same transaction and refuses past it', () => {
    const { admin, request, now } = setup();
    admin.setTrustLevel(CLIENT, 'paranoid', operator);
    admin.grant({ clientPubkey: CLIENT, method: 'sign_event', kind: 1, usageCap: { max: 2, windowSec: 60 } }, operator);
    expect(request('sign_event', 1).decision).toBe('allow');
    expect(request('sign_event', 1).decision).toBe('allow');
    expect(request('sign_event', 1)).toMatchObject({ decision: 'deny', rule: { rule: 'usage_cap_exhausted' } });
    now.sec += 61; // the window slides: the two uses fall out of it
    expect(request('sign_event', 1).decision).toBe('allow');
  });

  it('honours a revoke and a suspension on the very next request', () => {
    const { admin, request, now } = setup();
    admin.setTrustLevel(CLIENT, 'full', operator);
    expect(request('sign_event', 1).decision).toBe('allow');
    admin.suspendSubject(CLIENT, now.sec + 30, { actor: 'alice', reason: 'investigating' });
    expect(request('sign_event', 1)).toMatchObject({ decision: 'deny', rule: { rule: 'subject_suspended', reason: 'investigating', actor: 'alice' } });
    now.sec += 30;
    expect(request('sign_event', 1).decision).toBe('allow');
    admin.revokeSubject(CLIENT, operator);
    expect(request('get_public_key')).toMatchObject({ decision: 'deny', rule: { rule: 'subject_revoked' } });
  });

  it('refuses an expired grant at its deadline with no sweep having run', () => {
    const { admin, request, now } = setup();
    admin.setTrustLevel(CLIENT, 'paranoid', operator);
    admin.grant({ clientPubkey: CLIENT, method: 'sign_event', kind: 7, expiresAtSec: now.sec + 10 }, operator);
    now.sec += 9;
    expect(request('sign_event', 7).decision).toBe('allow');
    now.sec += 1;
    expect(request('sign_event', 7).decision).not.toBe('allow');
  });

  it('logs every decision with its rule, and every change in a verifiable audit chain', () => {
    const { db, admin, audit, request } = setup();
    admin.setTrustLevel(CLIENT, 'reasonable', operator);
    const grantId = admin.grant({ clientPubkey: CLIENT, method: 'sign_event', kind: 0 }, operator);
    request('sign_event', 0);
    request('sign_event', 3);
    admin.revokeGrant(grantId, CLIENT, operator);
    const log = db.prepare('SELECT method, kind, decision, rule, grant_id AS grantId FROM request_log ORDER BY request_seq').all();
    expect(log).toEqual([
      { method: 'sign_event', kind: 0, decision: 'allow', rule: 'grant_exact', grantId },
      { method: 'sign_event', kind: 3, decision: 'ask', rule: 'trust_level', grantId: null },
    ]);
    expect(audit.verify()).toMatchObject({ ok: true, entries: 3 });
    expect(audit.tail(3).map((e) => e.action)).toEqual(['subject.trust', 'grant.create', 'grant.revoke']);
  });

  it('fails closed: a change whose audit row cannot be written does not happen (G11)', () => {
    const { db, admin, store } = setup();
    db.exec('ALTER TABLE audit RENAME TO audit_unavailable');
    expect(() => admin.setTrustLevel(CLIENT, 'full', operator)).toThrow();
    db.exec('ALTER TABLE audit_unavailable RENAME TO audit');
    expect(store.loadRows('default', CLIENT).subject).toBeUndefined();
  });
});
