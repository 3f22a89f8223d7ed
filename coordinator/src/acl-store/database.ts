import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { FrostbunkerError } from '@frostbunker/shared/errors';
import { MIGRATIONS } from './migrations.js';

export type AclDatabase = Database.Database;

/**
 * Opens (creating if needed) the coordinator's ACL/audit database with the durability RELIABILITY.md
 * decision 1 requires: WAL with synchronous=FULL (better-sqlite3 defaults WAL to NORMAL, which can
 * lose acknowledged rows on power loss), secure_delete so deleted secrets do not linger in pages,
 * and every migration applied.
 */
export function openAclDatabase(path: string): AclDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('secure_delete = ON');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

/**
 * Runs `write` (one transaction) without its own fsync: its WAL frames become durable with the next
 * synchronous=FULL commit, which fsyncs the WAL up to and including them (WAL frames are written
 * in order). Only for rows whose loss before that commit is harmless; see ReplayStore.firstSighting.
 */
export function withDeferredFsync<T>(db: AclDatabase, write: () => T): T {
  if (db.inTransaction) return write();
  db.pragma('synchronous = NORMAL');
  try {
    return write();
  } finally {
    db.pragma('synchronous = FULL');
  }
}

function migrate(db: AclDatabase): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new FrostbunkerError('STORE_FAILED', `database schema ${current} is newer than this coordinator (${MIGRATIONS.length})`);
  }
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version]!);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
