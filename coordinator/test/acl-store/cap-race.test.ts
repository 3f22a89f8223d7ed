import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { AclAdmin } from '../../src/acl-store/acl-admin.js';
import { openAclDatabase } from '../../src/acl-store/database.js';
import { AuditLog } from '../../src/audit/audit-log.js';

const run = promisify(execFile);
const DIST = resolve(import.meta.dirname, '../../dist/index.js');
const CLIENT = 'ab'.repeat(32);
const CAP = 25;
const WORKERS = 4;
const PER_WORKER = 40;

/** One OS process deciding `count` capped requests against the shared database file. */
const worker = `
const { AclStore, decideVerdict, openAclDatabase } = await import(process.argv[1]);
const [path, client, worker, count] = process.argv.slice(2);
const db = openAclDatabase(path);
const store = new AclStore(db, { nowSec: () => Math.floor(Date.now() / 1000) });
let allowed = 0;
for (let i = 0; i < Number(count); i++) {
  const verdict = store.decideAndLog(
    { identity: 'default', clientPubkey: client, requestId: worker + '-' + i, method: 'sign_event', kind: 1 },
    (rows, nowSec) => decideVerdict(rows, { clientPubkey: client, method: 'sign_event', kind: 1 }, nowSec),
  );
  if (verdict.decision === 'allow') allowed++;
}
db.close();
console.log(allowed);
`;

// Issue 3: "cap exhaustion under concurrent requests" — the usage count and the request-log row
// are one IMMEDIATE transaction, so even separate processes on the same file cannot both spend
// the last unit.
describe('usage cap under concurrent processes', () => {
  it(`allows exactly ${CAP} of ${WORKERS * PER_WORKER} requests racing from ${WORKERS} processes`, async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'frostbunker-cap-race-')), 'acl.db');
    const db = openAclDatabase(path);
    const nowSec = () => Math.floor(Date.now() / 1000);
    const admin = new AclAdmin({ db, audit: new AuditLog(db, { nowSec }), identity: 'default', nowSec });
    admin.setTrustLevel(CLIENT, 'paranoid', { actor: 'test', reason: 'race' });
    admin.grant({ clientPubkey: CLIENT, method: 'sign_event', kind: 1, usageCap: { max: CAP, windowSec: 3_600 } }, { actor: 'test', reason: 'race' });
    db.close();
    const results = await Promise.all(
      Array.from({ length: WORKERS }, (_, w) =>
        run(process.execPath, ['--input-type=module', '-e', worker, DIST, path, CLIENT, String(w), String(PER_WORKER)], { timeout: 60_000 }),
      ),
    );
    const allowedPerWorker = results.map(({ stdout }) => Number(stdout.trim()));
    expect(allowedPerWorker.reduce((a, b) => a + b, 0)).toBe(CAP);
    const check = openAclDatabase(path);
    const rows = check.prepare("SELECT decision, count(*) AS n FROM request_log GROUP BY decision ORDER BY decision").all();
    check.close();
    expect(rows).toEqual([
      { decision: 'allow', n: CAP },
      { decision: 'deny', n: WORKERS * PER_WORKER - CAP },
    ]);
    console.log(`[figure] cap race: allowed per process ${allowedPerWorker.join(' + ')} = ${CAP}`);
  });
});
