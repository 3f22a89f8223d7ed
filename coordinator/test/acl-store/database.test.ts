import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openAclDatabase, withDeferredFsync } from '../../src/acl-store/database.js';
import { MIGRATIONS } from '../../src/acl-store/migrations.js';

const dbPath = () => join(mkdtempSync(join(tmpdir(), 'frostbunker-acl-')), 'acl.db');

describe('openAclDatabase', () => {
  it('runs WAL with synchronous=FULL and secure_delete on a real file (RELIABILITY decision 1, G10)', () => {
    const db = openAclDatabase(dbPath());
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    expect(db.pragma('secure_delete', { simple: true })).toBe(1);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    db.close();
  });

  it('applies every migration once and reopens without reapplying', () => {
    const path = dbPath();
    openAclDatabase(path).close();
    const db = openAclDatabase(path);
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'audit'").get()).toEqual({ n: 1 });
    db.close();
  });

  it('refuses a database written by a newer coordinator', () => {
    const path = dbPath();
    const db = openAclDatabase(path);
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    expect(() => openAclDatabase(path)).toThrow(/newer than this coordinator/);
  });

  it('withDeferredFsync writes at synchronous=NORMAL and always restores FULL, also when the write throws', () => {
    const db = openAclDatabase(dbPath());
    db.exec('CREATE TABLE t (x INTEGER)');
    const during = withDeferredFsync(db, () => {
      db.prepare('INSERT INTO t VALUES (1)').run();
      return db.pragma('synchronous', { simple: true });
    });
    expect(during).toBe(1);
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    expect(() => withDeferredFsync(db, () => { throw new Error('boom'); })).toThrow('boom');
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    // Inside a transaction the setting cannot change; the write simply joins that transaction.
    db.transaction(() => withDeferredFsync(db, () => db.prepare('INSERT INTO t VALUES (2)').run()))();
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 2 });
    db.close();
  });
});
