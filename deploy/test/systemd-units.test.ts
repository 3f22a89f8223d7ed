import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The units in deploy/systemd cannot run here (no systemd as PID 1), so they are held to what
// can be checked: systemd's own parser (`systemd-analyze verify`, from Debian's systemd package)
// and the hardening the operator guide promises.
const repo = fileURLToPath(new URL('../../', import.meta.url));
const unitDir = join(repo, 'deploy/systemd');
const INSTALL_ROOT = '/opt/frostbunker/';

/** `[Section]` → key → values (a key may repeat). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      current = new Map();
      sections.set(section[1]!, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (!current || eq < 0) throw new Error(`not a unit-file line: ${line}`);
    const key = line.slice(0, eq);
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1)]);
  }
  return sections;
}

const units = [
  { file: 'frostbunker-coordinator.service', instance: 'frostbunker-coordinator.service', entry: 'coordinator/dist/main.js', source: 'coordinator/src/main.ts', data: '/var/lib/frostbunker/coordinator', credential: '/etc/frostbunker/coordinator.passphrase' },
  { file: 'frostbunker-share-node@.service', instance: 'frostbunker-share-node@node-2.service', entry: 'share-node/dist/main.js', source: 'share-node/src/main.ts', data: '/var/lib/frostbunker/%i', credential: '/etc/frostbunker/%i.passphrase' },
];

describe.each(units)('deploy/systemd/$file', (unit) => {
  const service = () => parseUnit(readFileSync(join(unitDir, unit.file), 'utf8')).get('Service')!;
  const one = (key: string) => {
    const values = service().get(key);
    expect(values, key).toHaveLength(1);
    return values![0]!;
  };

  it('runs the role entry point from the install root, with its data directory and the passphrase credential', () => {
    const exec = one('ExecStart').split(/\s+/);
    expect(exec[0]).toBe('node');
    expect(exec[1]).toBe(`${INSTALL_ROOT}${unit.entry}`);
    // The entry point is built from this source; a rename must break this test, not a server.
    expect(existsSync(join(repo, unit.source))).toBe(true);
    expect(exec.slice(2)).toEqual(['--data', unit.data, '--passphrase-file', '%d/passphrase']);
    expect(one('LoadCredential')).toBe(`passphrase:${unit.credential}`);
    expect(one('WorkingDirectory')).toBe(INSTALL_ROOT.replace(/\/$/, ''));
  });

  it('is hardened: dedicated user, read-only system but its data directory, no privileges, restarts on failure', () => {
    expect(one('User')).toBe('frostbunker');
    expect(one('ProtectSystem')).toBe('strict');
    expect(one('ReadWritePaths')).toBe(unit.data);
    expect(one('StateDirectory')).toBe(unit.data.replace('/var/lib/', ''));
    expect(one('StateDirectoryMode')).toBe('0700');
    expect(one('PrivateTmp')).toBe('yes');
    expect(one('NoNewPrivileges')).toBe('yes');
    expect(one('CapabilityBoundingSet')).toBe('');
    expect(one('RestrictAddressFamilies').split(' ').sort()).toEqual(['AF_INET', 'AF_INET6', 'AF_UNIX']);
    expect(one('Restart')).toBe('on-failure');
    expect(one('LimitCORE')).toBe('0');
    expect(one('UMask')).toBe('0077');
    // V8 needs W+X pages: this setting would kill the process at start.
    expect(service().has('MemoryDenyWriteExecute')).toBe(false);
  });

  it('passes systemd-analyze verify without a warning', () => {
    const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
    if (analyze.error) throw new Error('systemd-analyze is missing: apt-get install -y systemd (.ci/run does)');
    const dir = mkdtempSync(join(tmpdir(), 'frostbunker-units-'));
    try {
      // A template is verified as an instance; verify resolves `node` in systemd's fixed PATH.
      copyFileSync(join(unitDir, unit.file), join(dir, unit.instance));
      const result = spawnSync('systemd-analyze', ['verify', '--man=no', join(dir, unit.instance)], { encoding: 'utf8' });
      expect(`${result.stdout}${result.stderr}`.trim()).toBe('');
      expect(result.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
