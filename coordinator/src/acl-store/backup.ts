import { closeSync, existsSync, fsyncSync, openSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { readJsonFile } from '@frostbunker/shared/config';
import { ConfigError, FrostbunkerError } from '@frostbunker/shared/errors';
import { openAclDatabase } from './database.js';

/** The coordinator's database in its data directory. */
export const ACL_DB_FILE = 'acl.db';

export interface BackupResult {
  path: string;
  bytes: number;
  ms: number;
  pages: number;
}

export interface RestoreResult {
  path: string;
  bytes: number;
  /** Where the replaced database files went (the operator deletes them once satisfied). */
  replaced: string[];
}

/** sqlite3_backup_step's "all remaining pages" (better-sqlite3 caps the step at this). */
const ALL_PAGES = 0x7fffffff;

/**
 * Online backup of the ACL/audit database (RELIABILITY.md G20; never `cp`, which can tear a page
 * or miss the `-wal`): SQLite's backup API copies one consistent snapshot while the coordinator
 * keeps writing, into a new file created 0600. Everything is copied in one step: a stepwise
 * backup restarts whenever another connection writes, and a busy coordinator always does. The copy
 * is switched to a rollback journal, so it is one self-contained file, and must pass
 * `PRAGMA integrity_check`, or it is deleted and this throws. It holds no share and no secret
 * in clear: connection and admin tokens are stored as their sha256.
 */
export async function backupAclDatabase(source: string, out: string, monotonicMs: () => number): Promise<BackupResult> {
  if (!existsSync(source)) throw new ConfigError('--data', `no ${ACL_DB_FILE} at ${source}`);
  const startedMs = monotonicMs();
  // 'wx': never overwrite an earlier backup; SQLite takes the empty file as an empty database and keeps its mode.
  try {
    closeSync(openSync(out, 'wx', 0o600));
  } catch (error) {
    throw new ConfigError('--out', `cannot create ${out}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  try {
    const db = new Database(source, { fileMustExist: true });
    let pages: number;
    try {
      db.pragma('busy_timeout = 5000');
      ({ totalPages: pages } = await db.backup(out, { progress: () => ALL_PAGES }));
    } finally {
      db.close();
    }
    assertIntact(out, { standalone: true });
    fsyncPath(out);
    fsyncPath(dirname(out));
    return { path: out, bytes: statSync(out).size, ms: Math.round(monotonicMs() - startedMs), pages };
  } catch (error) {
    removeIfExists(out);
    removeIfExists(`${out}-journal`);
    throw error;
  }
}

const adminFileSchema = z.object({ pid: z.number().int() });

/**
 * Puts a backup in place of `<dataDir>/acl.db` while the coordinator is stopped: checks the backup,
 * copies it next to acl.db and opens the copy as the coordinator would (migrations; a backup from
 * a newer coordinator is refused here, before anything is replaced), moves the current database and
 * its `-wal`/`-shm` aside (an old `-wal` next to another database file would be replayed into it),
 * then renames the fsynced copy into place.
 */
export async function restoreAclDatabase(dataDir: string, backup: string, nowSec: () => number): Promise<RestoreResult> {
  assertCoordinatorStopped(dataDir);
  assertIntact(backup, { standalone: false });
  const target = join(dataDir, ACL_DB_FILE);
  const tag = `${nowSec()}-${randomBytes(3).toString('hex')}`;
  const staging = `${target}.restoring-${tag}`;
  closeSync(openSync(staging, 'wx', 0o600));
  try {
    const source = new Database(backup, { fileMustExist: true });
    try {
      await source.backup(staging, { progress: () => ALL_PAGES });
    } finally {
      source.close();
    }
    // Closing checkpoints and removes the copy's -wal and -shm: the file alone is the database.
    openAclDatabase(staging).close();
    assertIntact(staging, { standalone: false });
  } catch (error) {
    for (const file of [staging, `${staging}-wal`, `${staging}-shm`, `${staging}-journal`]) removeIfExists(file);
    throw error;
  }
  // The -wal and -shm go aside first: a crash midway then leaves the old database without its
  // newest frames (consistent), never the restored one with the old frames.
  const replaced: string[] = [];
  for (const file of [`${target}-wal`, `${target}-shm`, target]) {
    if (!existsSync(file)) continue;
    const aside = `${file}.replaced-${tag}`;
    renameSync(file, aside);
    replaced.push(aside);
  }
  fsyncPath(staging);
  renameSync(staging, target);
  fsyncPath(dirname(target));
  return { path: target, bytes: statSync(target).size, replaced };
}

/** Refuses while `<dataDir>/admin.json` names a live process: the coordinator writes it at start. */
function assertCoordinatorStopped(dataDir: string): void {
  const file = join(dataDir, 'admin.json');
  if (!existsSync(file)) return;
  const { pid } = readJsonFile(file, adminFileSchema);
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: alive, another user's. Only "no such process" means stopped.
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return;
  }
  throw new ConfigError('--data', `the coordinator (pid ${pid}, ${file}) is running: stop it first (if pid ${pid} is another program, remove admin.json)`);
}

/** `PRAGMA integrity_check` must say ok; `standalone` also makes the file a rollback-journal database. */
function assertIntact(path: string, options: { standalone: boolean }): void {
  const db = new Database(path, { fileMustExist: true });
  try {
    const result = db.pragma('integrity_check', { simple: true });
    if (result !== 'ok') throw new FrostbunkerError('STORE_FAILED', `${path}: integrity_check says ${String(result)}`);
    if (options.standalone) db.pragma('journal_mode = DELETE');
  } finally {
    db.close();
  }
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function removeIfExists(path: string): void {
  if (existsSync(path)) unlinkSync(path);
}
