import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openAclDatabase } from '../../src/acl-store/database.js';
import { AdminTokenStore } from '../../src/admin/admin-token-store.js';
import { AuditLog } from '../../src/audit/audit-log.js';

const by = { actor: 'cli:root', reason: 'new operator' };

function setup() {
  const path = join(mkdtempSync(join(tmpdir(), 'frostbunker-admin-tokens-')), 'acl.db');
  const db = openAclDatabase(path);
  const nowSec = () => 1_800_000_000;
  const audit = new AuditLog(db, { nowSec });
  return { path, db, audit, tokens: new AdminTokenStore({ db, audit, nowSec }) };
}

describe('AdminTokenStore', () => {
  it('makes a 32-byte random token and keeps only its sha256', () => {
    const { path, db, tokens } = setup();
    const created = tokens.create('alice', by);
    expect(created.token).toMatch(/^fba_[0-9a-f]{64}$/);
    expect(tokens.create('bob', by).token).not.toBe(created.token);
    const row = db.prepare('SELECT * FROM admin_tokens WHERE token_id = ?').get(created.tokenId) as Record<string, unknown>;
    expect(row.token_hash).toBe(createHash('sha256').update(created.token).digest('hex'));
    expect(JSON.stringify(row)).not.toContain(created.token.slice(4));
    db.pragma('wal_checkpoint(TRUNCATE)');
    expect(readFileSync(path).includes(created.token.slice(4))).toBe(false);
    expect(tokens.list()).toEqual([
      { tokenId: created.tokenId, label: 'alice', createdAtSec: 1_800_000_000 },
      expect.objectContaining({ label: 'bob' }),
    ]);
  });

  it('authenticates the live token only: not a near miss, not another format, not once revoked', () => {
    const { tokens } = setup();
    const created = tokens.create('alice', by);
    expect(tokens.authenticate(created.token)).toMatchObject({ tokenId: created.tokenId, label: 'alice' });
    const flipped = created.token.slice(0, -1) + (created.token.endsWith('0') ? '1' : '0');
    expect(tokens.authenticate(flipped)).toBeUndefined();
    expect(tokens.authenticate(created.token.toUpperCase())).toBeUndefined();
    expect(tokens.authenticate('')).toBeUndefined();
    tokens.revoke(created.tokenId, by);
    expect(tokens.authenticate(created.token)).toBeUndefined();
  });

  it('audits creation and revocation with the actor, in the same transaction', () => {
    const { audit, tokens } = setup();
    const created = tokens.create('alice', by);
    tokens.revoke(created.tokenId, { actor: 'cli:root', reason: 'left the team' });
    const [create, revoke] = audit.tail(2);
    expect(create).toMatchObject({ actor: 'cli:root', action: 'admin_token.create', target: `admin/${created.tokenId}`, reason: 'new operator', after: { tokenId: created.tokenId, label: 'alice' } });
    expect(revoke).toMatchObject({ actor: 'cli:root', action: 'admin_token.revoke', reason: 'left the team', after: { revoked: true } });
    expect(JSON.stringify(audit.tail(10))).not.toContain(created.token);
    expect(audit.verify().ok).toBe(true);
  });

  it('refuses a second live token with the same label, a bad label, and unknown or repeated revocations', () => {
    const { audit, tokens } = setup();
    const first = tokens.create('alice', by);
    expect(() => tokens.create('alice', by)).toThrow(/already labelled "alice"/);
    expect(() => tokens.create('has space', by)).toThrow(/label/);
    expect(() => tokens.revoke('adm_0000000000000000', by)).toThrow(/no admin token/);
    tokens.revoke(first.tokenId, by);
    expect(() => tokens.revoke(first.tokenId, by)).toThrow(/already revoked/);
    // Once revoked, the label is free again; the refused operations left no audit rows.
    expect(tokens.create('alice', by).label).toBe('alice');
    expect(audit.tail(10).map((e) => e.action)).toEqual(['admin_token.create', 'admin_token.revoke', 'admin_token.create']);
  });
});
