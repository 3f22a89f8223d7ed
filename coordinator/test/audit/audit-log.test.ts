import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openAclDatabase } from '../../src/acl-store/database.js';
import { AuditLog } from '../../src/audit/audit-log.js';

function setup() {
  const db = openAclDatabase(join(mkdtempSync(join(tmpdir(), 'frostbunker-audit-')), 'acl.db'));
  const now = { sec: 1_800_000_000 };
  return { db, now, audit: new AuditLog(db, { nowSec: () => now.sec }) };
}

const record = (target: string) => ({ actor: 'operator', action: 'grant.create', target, reason: 'test', before: null, after: { kind: 1 } });

describe('AuditLog', () => {
  it('chains rows and verifies the whole chain', () => {
    const { db, audit } = setup();
    db.transaction(() => {
      audit.append(record('client-a'));
      audit.append(record('client-b'));
    })();
    const check = audit.verify();
    expect(check).toMatchObject({ ok: true, entries: 2 });
    expect(audit.tail(1)[0]).toMatchObject({ target: 'client-b', after: { kind: 1 }, hash: check.headHash });
  });

  it('is written only inside the transaction of the change it records', () => {
    const { audit } = setup();
    expect(() => audit.append(record('x'))).toThrow(/inside the transaction/);
  });

  it('refuses UPDATE and DELETE at the database level', () => {
    const { db, audit } = setup();
    db.transaction(() => void audit.append(record('x')))();
    expect(() => db.prepare("UPDATE audit SET reason = 'edited'").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit').run()).toThrow(/append-only/);
  });

  it('names the first row whose content was edited behind its back', () => {
    const { db, audit } = setup();
    db.transaction(() => {
      for (const target of ['a', 'b', 'c']) audit.append(record(target));
    })();
    db.exec('DROP TRIGGER audit_no_update');
    db.prepare("UPDATE audit SET reason = 'forged' WHERE seq = 2").run();
    expect(audit.verify()).toMatchObject({ ok: false, brokenAtSeq: 2 });
  });

  it('fails closed: when the audit row cannot be written, the change it records rolls back', () => {
    const { db, audit } = setup();
    db.exec('CREATE TABLE grants_demo (id TEXT)');
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() =>
      db.transaction(() => {
        db.prepare("INSERT INTO grants_demo VALUES ('g1')").run();
        audit.append({ ...record('g1'), after: circular });
      })(),
    ).toThrow();
    expect(db.prepare('SELECT count(*) AS n FROM grants_demo').get()).toEqual({ n: 0 });
    expect(audit.verify()).toMatchObject({ ok: true, entries: 0 });
  });
});
