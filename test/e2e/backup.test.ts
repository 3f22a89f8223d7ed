import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { AclAdmin, AclStore, AuditLog, decideVerdict, openAclDatabase, TokenStore, type AclDatabase } from '@frostbunker/coordinator';
import { frostbunkerCli, frostbunkerCliOutcome } from '../harness/frostbunker-cli.js';
import { scanForSecrets } from '../harness/secret-scanner.js';
import { makeTempDir } from '../harness/tmp.js';

const IDENTITY = 'default';
const CLIENTS = 40;
/** Five mutations per client, client after client: the first half of the clients is final before the backup begins. */
const WRITES = CLIENTS * 5;
const BACKUP_AFTER_ACKS = WRITES / 2;
/** Spreads the second half over a few seconds, so it runs while the backup process starts and copies. */
const PAUSE_MS = 15;
const operator = { actor: 'g20-writer', reason: 'backup test' };
/** better-sqlite3 as the coordinator resolves it (this package does not depend on it). */
const BETTER_SQLITE3 = createRequire(new URL('../../coordinator/package.json', import.meta.url)).resolve('better-sqlite3');
/** A process that commits to acl.db's WAL and dies by SIGKILL before any checkpoint. */
const KILLED_WRITER = `
  const db = new (require(process.env.SQLITE))(process.env.DB);
  db.pragma('wal_autocheckpoint = 0');
  db.exec('CREATE TABLE killed_write (x)');
  process.kill(process.pid, 'SIGKILL');`;

/** What each mutation left behind, to find it (or not) in the backup. */
type Mutation =
  | { op: 'trust'; client: string }
  | { op: 'grant'; client: string; grantId: string }
  | { op: 'deny'; client: string; denialId: string }
  | { op: 'token'; client: string; tokenId: string; secret: string }
  | { op: 'revoke'; client: string; grantId: string }
  | { op: 'suspend'; client: string };

/** The five mutations of client `c` through the coordinator's store API (each its own audited transaction). */
function* mutationsOf(db: AclDatabase, client: string, c: number, nowSec: () => number): Generator<Mutation> {
  const audit = new AuditLog(db, { nowSec });
  const admin = new AclAdmin({ db, audit, identity: IDENTITY, nowSec });
  const tokens = new TokenStore({ db, audit, identity: IDENTITY, nowSec });
  admin.setTrustLevel(client, 'paranoid', operator);
  yield { op: 'trust', client };
  const grantId = admin.grant({ clientPubkey: client, method: 'sign_event', kind: 1, ...(c % 2 === 0 ? { usageCap: { max: 10, windowSec: 60 } } : {}) }, operator);
  yield { op: 'grant', client, grantId };
  const denialId = admin.deny({ clientPubkey: client, method: 'sign_event', kind: 4 }, operator);
  yield { op: 'deny', client, denialId };
  const token = tokens.create({ perms: 'sign_event:7', ttlSec: 3_600, label: `client ${c}`, actor: operator.actor });
  yield { op: 'token', client, tokenId: token.tokenId, secret: token.secret };
  if (c % 2 === 1) {
    admin.revokeGrant(grantId, client, operator);
    yield { op: 'revoke', client, grantId };
  } else {
    admin.suspendSubject(client, nowSec() + 86_400, operator);
    yield { op: 'suspend', client };
  }
}

/** Whether the database holds the mutation's effect. */
function holds(db: AclDatabase, m: Mutation): boolean {
  const one = (sql: string, ...args: unknown[]) => db.prepare(sql).get(...args) !== undefined;
  switch (m.op) {
    case 'trust':
      return one('SELECT 1 FROM subjects WHERE identity = ? AND client_pubkey = ?', IDENTITY, m.client);
    case 'grant':
      return one('SELECT 1 FROM grants WHERE grant_id = ?', m.grantId);
    case 'deny':
      return one('SELECT 1 FROM denials WHERE denial_id = ?', m.denialId);
    case 'token':
      return one('SELECT 1 FROM tokens WHERE token_id = ?', m.tokenId);
    case 'revoke':
      return one('SELECT 1 FROM grants WHERE grant_id = ? AND revoked_at_sec IS NOT NULL', m.grantId);
    case 'suspend':
      return one('SELECT 1 FROM subjects WHERE client_pubkey = ? AND suspended_until_sec IS NOT NULL', m.client);
  }
}

/** Every verdict that matters for `clients`, as a fresh coordinator's store would decide them at `atSec`. */
function verdicts(db: AclDatabase, clients: readonly string[], atSec: number): string[] {
  const store = new AclStore(db, { nowSec: () => atSec });
  const requests = [
    { method: 'sign_event', kind: 1 },
    { method: 'sign_event', kind: 4 },
    { method: 'sign_event', kind: 7 },
    { method: 'nip44_decrypt' },
    { method: 'get_public_key' },
  ] as const;
  return clients.flatMap((clientPubkey) =>
    requests.map((request) => `${clientPubkey.slice(0, 8)} ${JSON.stringify(request)} → ${JSON.stringify(decideVerdict(store.loadRows(IDENTITY, clientPubkey), { clientPubkey, ...request }, atSec))}`),
  );
}

// RELIABILITY.md G20 at CI size: `frostbunker backup` (a separate process, SQLite's online backup)
// while 200 ACL mutations go on in this one; the backup is intact, holds every mutation
// acknowledged before it began and a prefix of the rest, carries no token secret, and `frostbunker
// restore` puts it back so that the coordinator's store gives the same verdicts.
describe('acl.db backup and restore (G20)', () => {
  const dir = makeTempDir('g20');
  afterAll(() => {
    if (!process.env.KEEP) dir.remove();
    else console.log('kept', dir.path);
  });

  it('backs up a consistent snapshot during 200 concurrent mutations, with no token secret in it, and restores the same ACL', async () => {
    const dataDir = join(dir.path, 'coordinator');
    const backupPath = join(dir.path, 'backups', 'acl-backup.db');
    const nowSec = () => Math.floor(Date.now() / 1000);
    const db = openAclDatabase(join(dataDir, 'acl.db'));
    mkdirSync(join(dir.path, 'backups'), { mode: 0o700 });
    const clients = Array.from({ length: CLIENTS }, () => randomBytes(32).toString('hex'));
    const done: Mutation[] = [];
    let backupRunning = false;
    let duringBackup = 0;
    let before: { acks: number; verdicts: string[]; atSec: number } | undefined;
    let backupOutput: Promise<string> | undefined;

    for (const [c, client] of clients.entries()) {
      for (const mutation of mutationsOf(db, client, c, nowSec)) {
        done.push(mutation);
        if (backupRunning) duringBackup++;
        if (done.length === BACKUP_AFTER_ACKS) {
          const atSec = nowSec() + 60;
          before = { acks: done.length, atSec, verdicts: verdicts(db, clients.slice(0, CLIENTS / 2), atSec) };
          backupRunning = true;
          backupOutput = frostbunkerCli('backup', '--out', backupPath, '--data', dataDir).finally(() => {
            backupRunning = false;
          });
        }
        if (done.length > BACKUP_AFTER_ACKS) await sleep(PAUSE_MS);
      }
    }
    const printed = await backupOutput!;
    db.close();
    console.log(`[figure] G20 ${printed.trim().split('\n')[0]}`);
    console.log(`[figure] G20 writes: ${before!.acks} acknowledged before the backup began, ${duringBackup} while the backup process ran, ${WRITES - before!.acks - duringBackup} after`);
    expect(duringBackup).toBeGreaterThan(0);
    expect(printed).toMatch(new RegExp(`^backup ${backupPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: \\d+ bytes \\(\\d+ pages\\) in \\d+ ms at \\S+; integrity_check ok`));
    expect(statSync(backupPath).mode & 0o777).toBe(0o600);
    // One self-contained file: no -wal, -shm or -journal beside it.
    expect(readdirSync(join(dir.path, 'backups'))).toEqual(['acl-backup.db']);

    // Inspected through a copy: opening a database as the coordinator does switches it to WAL.
    const inspected = join(dir.path, 'inspected.db');
    copyFileSync(backupPath, inspected);
    const backup = openAclDatabase(inspected);
    const present = done.map((m) => holds(backup, m));
    const auditCheck = new AuditLog(backup, { nowSec }).verify();
    const integrity = backup.pragma('integrity_check', { simple: true });
    const unaudited = backup
      .prepare(`SELECT grant_id FROM grants g WHERE NOT EXISTS (SELECT 1 FROM audit a WHERE a.action = 'grant.create' AND instr(a.after, g.grant_id) > 0)`)
      .all();
    backup.close();
    const held = present.filter(Boolean).length;
    console.log(`[figure] G20 backup holds ${held} of ${WRITES} mutations (${before!.acks} acknowledged before it began); audit chain ${auditCheck.entries} rows`);
    expect(integrity).toBe('ok');
    expect(auditCheck.ok).toBe(true);
    expect(unaudited).toEqual([]);
    // Every acknowledged mutation is there, and the rest form a prefix: one snapshot, no torn writes.
    expect(present.slice(0, before!.acks).every(Boolean)).toBe(true);
    expect(present).toEqual(done.map((_, i) => i < held));

    // Tokens are stored as their sha256: no secret in any encoding, but the hash is found (the scan reads the file).
    const tokens = done.filter((m): m is Extract<Mutation, { op: 'token' }> => m.op === 'token');
    const scan = scanForSecrets([backupPath], tokens.map((t) => ({ name: t.tokenId, bytes: Buffer.from(t.secret, 'hex') })));
    const control = scanForSecrets([backupPath], [{ name: 'hash', text: createHash('sha256').update(tokens[0]!.secret).digest('hex') }]);
    console.log(`[figure] G20 secret scan of the backup: ${scan.hits.length} hits for ${tokens.length} token secrets, ${scan.bytesScanned} bytes`);
    expect(scan.hits).toEqual([]);
    expect(control.hits.length).toBeGreaterThan(0);

    // Restore while the coordinator runs: refused, nothing touched.
    writeFileSync(join(dataDir, 'admin.json'), JSON.stringify({ url: 'http://127.0.0.1:1', pid: process.pid }));
    const refused = await frostbunkerCliOutcome(['restore', '--from', backupPath, '--data', dataDir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/is running: stop it first/);
    expect(readdirSync(dataDir).some((f) => f.includes('.replaced-'))).toBe(false);

    // A coordinator killed mid-write leaves acl.db-wal and -shm; their frames must not reach the restored file.
    rmSync(join(dataDir, 'admin.json'));
    const killed = spawnSync(process.execPath, ['-e', KILLED_WRITER], { env: { ...process.env, SQLITE: BETTER_SQLITE3, DB: join(dataDir, 'acl.db') } });
    expect(killed.signal).toBe('SIGKILL');
    expect(readdirSync(dataDir)).toEqual(expect.arrayContaining(['acl.db-wal', 'acl.db-shm']));
    // Stopped: the backup replaces acl.db, and a fresh coordinator store on it decides as before.
    const restored = await frostbunkerCli('restore', '--from', backupPath, '--data', dataDir);
    console.log(`[figure] G20 ${restored.trim().split('\n').join('; ')}`);
    expect(restored).toMatch(/^restored .*acl\.db \(\d+ bytes\); integrity_check ok/);
    expect(readdirSync(dataDir).filter((f) => f.includes('.replaced-')).map((f) => f.replace(/\.replaced-\d+-[0-9a-f]+$/, '')).sort()).toEqual(['acl.db', 'acl.db-shm', 'acl.db-wal']);
    expect(statSync(join(dataDir, 'acl.db')).mode & 0o777).toBe(0o600);
    const reopened = openAclDatabase(join(dataDir, 'acl.db'));
    try {
      expect(verdicts(reopened, clients.slice(0, CLIENTS / 2), before!.atSec)).toEqual(before!.verdicts);
      // The database is the backup's snapshot, not the state the live database ended in.
      expect(done.map((m) => holds(reopened, m))).toEqual(present);
      expect(reopened.prepare("SELECT name FROM sqlite_master WHERE name = 'killed_write'").get()).toBeUndefined();
    } finally {
      reopened.close();
    }
  });
});
