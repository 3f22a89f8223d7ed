import { join, resolve } from 'node:path';
import { ConfigError } from '@frostbunker/shared/errors';
import { ACL_DB_FILE, backupAclDatabase, restoreAclDatabase } from './acl-store/backup.js';

export const BACKUP_USAGE = `  backup --out <file>                       online backup of acl.db (ACL, request log, audit chain)
                                            while the coordinator runs: SQLite's backup API, file 0600,
                                            integrity_check ok; it holds no share and no token in clear
  restore --from <file>                     put a backup in place of acl.db (coordinator stopped;
                                            the replaced files are kept aside as *.replaced-<time>-<tag>)`;

/** `frostbunker backup` / `restore` (RELIABILITY.md G20); paths relative to where pnpm was run. */
export async function runBackupCommand(
  command: 'backup' | 'restore',
  options: { dir: string; cwd: string; out?: string; from?: string },
  print: (line: string) => void,
): Promise<number> {
  const nowSec = () => Math.floor(Date.now() / 1000);
  if (command === 'backup') {
    if (options.out === undefined) throw new ConfigError('--out', 'required: the backup file to create');
    const result = await backupAclDatabase(join(options.dir, ACL_DB_FILE), resolve(options.cwd, options.out), () => performance.now());
    print(`backup ${result.path}: ${result.bytes} bytes (${result.pages} pages) in ${result.ms} ms at ${new Date().toISOString()}; integrity_check ok`);
    print('it holds the ACL, the request log and the audit chain; no share (share nodes hold those) and no token in clear');
    return 0;
  }
  if (options.from === undefined) throw new ConfigError('--from', 'required: the backup file to restore');
  const result = await restoreAclDatabase(options.dir, resolve(options.cwd, options.from), nowSec);
  print(`restored ${result.path} (${result.bytes} bytes); integrity_check ok`);
  for (const file of result.replaced) print(`replaced file kept aside: ${file} (delete it once the coordinator runs as expected)`);
  return 0;
}
