import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { scanForSecrets, type SecretToFind } from '../../../test/harness/secret-scanner.js';
import { AclAdmin } from '../../src/acl-store/acl-admin.js';
import { ACL_DB_FILE, backupAclDatabase } from '../../src/acl-store/backup.js';
import { openAclDatabase } from '../../src/acl-store/database.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { backupNote, writeDrillReport } from '../../src/drill/drill-report.js';
import { createRefreshCluster } from './refresh-cluster.js';

// RELIABILITY.md G20 / 2.5: after a refresh the report tells the operator which backups hold old
// shares (share nodes') and which hold none (the coordinator's), and the latter is checked here.
describe('backups and a refresh drill (G20)', () => {
  it('reports that only share-node backups taken before the new epoch hold old shares, and a coordinator backup holds none', async () => {
    const cluster = await createRefreshCluster({ threshold: 2, maxSigners: 3 });
    onTestFinished(() => rmSync(cluster.root, { recursive: true, force: true }));
    const db = openAclDatabase(join(cluster.coordinatorDir, ACL_DB_FILE));
    const nowSec = () => Math.floor(Date.now() / 1000);
    new AclAdmin({ db, audit: new AuditLog(db, { nowSec }), identity: 'default', nowSec }).setTrustLevel('c'.repeat(64), 'paranoid', { actor: 'test', reason: 'a row to back up' });
    const { report } = await cluster.drill();
    expect(report.outcome).toBe('committed');
    expect(report.notes).toContain(backupNote(1));
    const text = readFileSync(writeDrillReport(cluster.coordinatorDir, report).text, 'utf8');
    expect(text).toContain('note: backups taken before epoch 1: those of share-node data directories hold old shares (destroy them); coordinator backups (frostbunker backup) hold no share');

    const backup = await backupAclDatabase(join(cluster.coordinatorDir, ACL_DB_FILE), join(cluster.root, 'coordinator-backup.db'), () => performance.now());
    db.close();
    const newShares = await Promise.all(cluster.nodeDirs.map(async (_, i) => (await cluster.loadNode(i)).share));
    const shares: SecretToFind[] = [
      ...cluster.shares.map((share, i) => ({ name: `node-${i + 1} epoch 0 share`, bytes: Buffer.from(share.toHex(), 'hex') })),
      ...newShares.map((share, i) => ({ name: `node-${i + 1} epoch 1 share`, bytes: Buffer.from(share.toHex(), 'hex') })),
    ];
    const coordinatorSide = scanForSecrets([backup.path, cluster.coordinatorDir], shares);
    // Control: the same scan finds the new shares where they are (plaintext node files in this cluster).
    const nodeSide = scanForSecrets(cluster.nodeDirs, shares);
    console.log(`[figure] G20 coordinator data dir and backup: ${coordinatorSide.files} files, ${coordinatorSide.bytesScanned} bytes, ${coordinatorSide.hits.length} share hits; node dirs: ${new Set(nodeSide.hits.map((h) => h.secret)).size} shares found`);
    expect(coordinatorSide.hits).toEqual([]);
    expect(new Set(nodeSide.hits.map((h) => h.secret))).toEqual(new Set(newShares.map((_, i) => `node-${i + 1} epoch 1 share`)));
  });
});
