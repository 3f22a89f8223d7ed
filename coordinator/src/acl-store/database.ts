import { mkdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
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
 * in order), or when `flushDeferred(db)` resolves. A process crash loses nothing (the frames are in
 * the page cache); a power loss before either loses the rows. So only for rows whose loss is
 * harmless (ReplayStore.firstSighting), or whose dependants wait for `flushDeferred` (the ACL
 * decision: nothing that depends on it leaves before, issue 9).
 */
export function withDeferredFsync<T>(db: AclDatabase, write: () => T): T {
  if (db.inTransaction) return write();
  db.pragma('synchronous = NORMAL');
  try {
    const written = write();
    flusherOf(db).noteCommit();
    return written;
  } finally {
    db.pragma('synchronous = FULL');
  }
}

/**
 * Resolves once every transaction committed so far is on disk: one fsync of the WAL file in the
 * thread pool serves every caller waiting meanwhile. Rejects when the fsync fails.
 */
export function flushDeferred(db: AclDatabase): Promise<void> {
  return flusherOf(db).flush();
}

const flushers = new WeakMap<AclDatabase, WalFlusher>();

function flusherOf(db: AclDatabase): WalFlusher {
  let flusher = flushers.get(db);
  if (flusher === undefined) {
    flusher = new WalFlusher(db.memory ? undefined : `${db.name}-wal`);
    flushers.set(db, flusher);
  }
  return flusher;
}

/** Counts deferred commits and fsyncs the WAL for them; opened by path each time, so a WAL file SQLite recreated is the one synced. */
class WalFlusher {
  readonly #walPath: string | undefined;
  #committed = 0;
  #durable = 0;
  #syncing: Promise<void> | undefined;

  constructor(walPath: string | undefined) {
    this.#walPath = walPath;
  }

  noteCommit(): void {
    this.#committed++;
  }

  async flush(): Promise<void> {
    const target = this.#committed;
    while (this.#durable < target) {
      this.#syncing ??= this.#syncNow().finally(() => {
        this.#syncing = undefined;
      });
      await this.#syncing;
    }
  }

  async #syncNow(): Promise<void> {
    const upTo = this.#committed;
    if (this.#walPath !== undefined) {
      let handle;
      try {
        handle = await open(this.#walPath, 'r+');
      } catch (error) {
        // No WAL file: SQLite checkpointed (and synced) everything into the database and removed it.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
      try {
        await handle?.sync();
      } finally {
        await handle?.close();
      }
    }
    this.#durable = Math.max(this.#durable, upTo);
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
