import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dealerKeygen } from '@frostbunker/shared/crypto';
import { writeJsonFileAtomic } from '@frostbunker/shared/config';
import { createLogger } from '@frostbunker/shared/logger';
import type { SigningIdentity } from '../src/signing/identity.js';
import { ConfigWatcher, reloadSigningConfig } from '../src/config-reload.js';
import { IdentityRuntime } from '../src/signing/identity-runtime.js';
import { makeIdentity } from './signing/identity-fixture.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'frostbunker-reload-'));
  dirs.push(dir);
  const { group } = dealerKeygen({ threshold: 2, maxSigners: 3 });
  const identity = makeIdentity(group, 0);
  const write = (identities: { name: string; identity: SigningIdentity }[]) =>
    writeJsonFileAtomic(join(dir, 'config.json'), {
      v: 1,
      relays: ['ws://127.0.0.1:1'],
      identities: identities.map(({ name, identity: i }) => ({ name, group: i.group, epoch: i.epoch, members: i.members })),
    });
  write([{ name: 'default', identity }]);
  const epochs: number[] = [];
  const runtime = new IdentityRuntime({
    name: 'default',
    identity,
    makeSigner: (i) => {
      epochs.push(i.epoch);
      return { sign: async () => i.epoch, handleMessage: () => {} };
    },
    makeMonitor: () => ({ start() {}, stop() {}, handleMessage() {}, status: () => null, details: () => null }),
    retireAfterMs: 10,
    logger: createLogger({ name: 't', level: 'error', write: () => {} }),
  });
  const logLines: string[] = [];
  const logger = createLogger({ name: 't', level: 'debug', write: (line) => void logLines.push(line) });
  return { dir, group, identity, write, runtime, epochs, logger, logLines };
}

describe('config.json reload: a committed drill reaches the running coordinator (issue 7)', () => {
  it('swaps an identity to the newer epoch the file names, members included', async () => {
    const { dir, identity, write, runtime, logger } = setup();
    const next = { ...makeIdentity(identity.group, 1, ['node-1', 'node-2', 'node-4']) };
    write([{ name: 'default', identity: next }]);
    expect(reloadSigningConfig(dir, [runtime], logger)).toEqual({ ok: true, swapped: [{ identity: 'default', fromEpoch: 0, toEpoch: 1 }] });
    expect(runtime.epoch).toBe(1);
    expect(runtime.identity.groupId).toBe(next.groupId);
    expect(runtime.nodePubkeys).toEqual(next.members.map((m) => m.nodePubkey));
    expect(await runtime.sign({} as never)).toBe(1);
    // Reading it again changes nothing.
    expect(reloadSigningConfig(dir, [runtime], logger)).toEqual({ ok: true, swapped: [] });
  });

  it('keeps the old config on a torn file, a broken group, a changed npub or a missing identity, and logs why', () => {
    const { dir, identity, write, runtime, logger, logLines } = setup();
    const path = join(dir, 'config.json');
    const good = readFileSync(path, 'utf8');
    const cases: [string, () => void, RegExp][] = [
      ['torn', () => writeFileSync(path, good.slice(0, good.length / 2)), /JSON|parse|Unexpected|Unterminated/i],
      ['broken group', () => writeFileSync(path, good.replace(identity.group.groupKey, '02' + 'ff'.repeat(32))), /group/i],
      ['new npub', () => write([{ name: 'default', identity: makeIdentity(dealerKeygen({ threshold: 2, maxSigners: 3 }).group, 1) }]), /group key changed/],
      ['identity gone', () => write([{ name: 'other', identity: { ...identity, epoch: 1 } }]), /is gone/],
    ];
    for (const [name, damage, error] of cases) {
      damage();
      const result = reloadSigningConfig(dir, [runtime], logger);
      expect(result.ok, name).toBe(false);
      expect(result.ok ? '' : result.error, name).toMatch(error);
      expect(runtime.epoch, name).toBe(0);
    }
    expect(logLines.filter((l) => l.includes('previous config stays in force'))).toHaveLength(cases.length);
  });

  it('notices an atomic rewrite of config.json through the directory watch', async () => {
    const { dir, identity, write, runtime, logger } = setup();
    let done: () => void = () => {};
    const reloaded = new Promise<void>((resolve) => (done = resolve));
    const watcher = new ConfigWatcher({ dir, debounceMs: 50, logger, reload: () => {
      const result = reloadSigningConfig(dir, [runtime], logger);
      if (result.ok && result.swapped.length > 0) done();
    } });
    try {
      write([{ name: 'default', identity: { ...identity, epoch: 1 } }]);
      await reloaded;
      expect(runtime.epoch).toBe(1);
      // The watch survives the rename: a second drill is noticed too.
      const second = new Promise<void>((resolve) => (done = resolve));
      write([{ name: 'default', identity: { ...identity, epoch: 2 } }]);
      await second;
      expect(runtime.epoch).toBe(2);
    } finally {
      watcher.close();
    }
  });
});
