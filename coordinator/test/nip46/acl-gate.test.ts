import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AclAdmin } from '../../src/acl-store/acl-admin.js';
import { AclStore } from '../../src/acl-store/acl-store.js';
import { openAclDatabase } from '../../src/acl-store/database.js';
import { TokenStore } from '../../src/acl-store/token-store.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { AclGate } from '../../src/nip46/acl-gate.js';

const client = (n: number) => n.toString(16).padStart(64, '0');

function setup() {
  const db = openAclDatabase(join(mkdtempSync(join(tmpdir(), 'frostbunker-gate-')), 'acl.db'));
  const now = { sec: 1_800_000_000 };
  const nowSec = () => now.sec;
  const audit = new AuditLog(db, { nowSec });
  const tokens = new TokenStore({ db, audit, identity: 'default', nowSec });
  const gate = new AclGate({ identity: 'default', store: new AclStore(db, { nowSec }), tokens });
  const admin = new AclAdmin({ db, audit, identity: 'default', nowSec });
  let seq = 0;
  const ask = (c: string, method: 'sign_event' | 'get_public_key' | 'nip44_decrypt', kind?: number) =>
    gate.authorize({ clientPubkey: c, requestId: `r${++seq}`, method, ...(kind === undefined ? {} : { kind }) });
  return { db, now, audit, tokens, gate, admin, ask };
}

describe('AclGate over SQLite', () => {
  it('binds a token to exactly one of 20 racing clients; the same client again gets ack, the others an error (T12)', () => {
    const { tokens, gate } = setup();
    const { secret } = tokens.create({ perms: 'sign_event:1', ttlSec: 600, label: 'race', actor: 'test' });
    const outcomes = Array.from({ length: 20 }, (_, i) => {
      try {
        gate.connect(client(i + 1), secret);
        return 'bound';
      } catch (error) {
        return (error as Error).message;
      }
    });
    expect(outcomes.filter((o) => o === 'bound')).toHaveLength(1);
    expect(new Set(outcomes.filter((o) => o !== 'bound'))).toEqual(new Set(['invalid, expired or already used connection token']));
    expect(() => gate.connect(client(1), secret)).not.toThrow();
  });

  it('grants exactly the token perms, joined live: sign_event:1 allows kind 1, asks for kind 7, and logout takes it away', () => {
    const { tokens, gate, ask } = setup();
    const { secret } = tokens.create({ perms: 'sign_event:1,get_public_key', ttlSec: 600, label: 't', actor: 'test' });
    gate.connect(client(1), secret);
    expect(ask(client(1), 'sign_event', 1).decision).toBe('allow');
    expect(ask(client(1), 'get_public_key').decision).toBe('allow');
    expect(ask(client(1), 'sign_event', 7)).toEqual({ decision: 'ask', reason: 'sign_event kind 7 is not granted to this client' });
    expect(ask(client(1), 'nip44_decrypt').decision).toBe('ask');
    gate.logout(client(1));
    expect(ask(client(1), 'sign_event', 1).decision).toBe('ask');
  });

  it('refuses a token at its expiry with no sweep having run', () => {
    const { tokens, gate, now } = setup();
    const early = tokens.create({ perms: 'ping', ttlSec: 60, label: 'a', actor: 'test' });
    const late = tokens.create({ perms: 'ping', ttlSec: 60, label: 'b', actor: 'test' });
    now.sec += 59;
    expect(() => gate.connect(client(1), early.secret)).not.toThrow();
    now.sec += 1;
    expect(() => gate.connect(client(2), late.secret)).toThrow(/expired/);
  });

  it('keeps sensitive kinds behind an explicit grant even under a sign_event wildcard token', () => {
    const { tokens, gate, admin, ask } = setup();
    gate.connect(client(1), tokens.create({ perms: 'sign_event', ttlSec: 600, label: 't', actor: 'test' }).secret);
    expect(ask(client(1), 'sign_event', 30023).decision).toBe('allow');
    expect(ask(client(1), 'sign_event', 0)).toEqual({ decision: 'ask', reason: 'kind 0 is sensitive and needs an explicit grant' });
    admin.grant({ clientPubkey: client(1), method: 'sign_event', kind: 0 }, { actor: 'operator', reason: 'profile update' });
    expect(ask(client(1), 'sign_event', 0).decision).toBe('allow');
  });

  it('welcomes back a known client without a secret and refuses a stranger without one', () => {
    const { tokens, gate } = setup();
    gate.connect(client(1), tokens.create({ perms: 'ping', ttlSec: 600, label: 't', actor: 'test' }).secret);
    expect(() => gate.connect(client(1), '')).not.toThrow();
    expect(() => gate.connect(client(2), '')).toThrow(/connection token/);
  });

  it('never stores a token secret, and audits creation and redemption', () => {
    const { db, tokens, gate, audit } = setup();
    const { secret } = tokens.create({ perms: 'ping', ttlSec: 600, label: 't', actor: 'test' });
    gate.connect(client(1), secret);
    const dump = JSON.stringify(db.prepare('SELECT * FROM tokens').all()) + JSON.stringify(db.prepare('SELECT * FROM audit').all());
    expect(dump).not.toContain(secret);
    expect(audit.tail(2).map((e) => e.action)).toEqual(['token.create', 'token.redeem']);
    expect(audit.verify().ok).toBe(true);
  });
});
