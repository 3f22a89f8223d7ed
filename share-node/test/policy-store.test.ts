import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@frostbunker/shared/logger';
import { PolicyStore } from '../src/policy-store.js';
import { DEFAULT_VETO_POLICY } from '../src/veto/policy-schema.js';

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'frostbunker-policy-'));
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ name: 'test', write: (line) => void lines.push(JSON.parse(line)) });
  return { path: join(dir, 'policy.json'), lines, logger };
}

describe('PolicyStore', () => {
  it('uses the documented defaults when the node has no policy file', async () => {
    const { path, logger } = setup();
    expect((await PolicyStore.open(path, logger)).current()).toEqual({ policy: DEFAULT_VETO_POLICY, rules: [] });
  });

  it('refuses to start on a bad policy file, naming the file and the field', async () => {
    const { path, logger } = setup();
    writeFileSync(path, JSON.stringify({ rateLimits: { perMinute: -1 } }));
    await expect(PolicyStore.open(path, logger)).rejects.toThrow(/policy\.json.*rateLimits\.perMinute/);
  });

  it('keeps the previous policy in force when a reload finds a corrupt file (T19)', async () => {
    const { path, lines, logger } = setup();
    writeFileSync(path, JSON.stringify({ deniedKinds: [1] }));
    const store = await PolicyStore.open(path, logger);
    writeFileSync(path, '{ "deniedKinds": [1');
    expect(await store.reload()).toMatchObject({ ok: false, error: expect.stringMatching(/not valid JSON/) });
    expect(store.current().policy.deniedKinds).toEqual([1]);
    expect(lines.some((l) => l.level === 'error' && String(l.msg).includes('previous policy stays in force'))).toBe(true);
  });

  it('applies a valid edit on reload', async () => {
    const { path, logger } = setup();
    writeFileSync(path, JSON.stringify({ deniedKinds: [1] }));
    const store = await PolicyStore.open(path, logger);
    writeFileSync(path, JSON.stringify({ deniedKinds: [7] }));
    expect(await store.reload()).toEqual({ ok: true });
    expect(store.current().policy.deniedKinds).toEqual([7]);
  });

  it('loads plugin rules named in the file, relative to it', async () => {
    const { path, logger } = setup();
    const plugin = join(process.cwd(), 'share-node/examples/veto-plugin/link-guard.mjs');
    writeFileSync(path, JSON.stringify({ plugins: [plugin] }));
    expect((await PolicyStore.open(path, logger)).current().rules.length).toBeGreaterThan(0);
  });
});

describe('PolicyStore with an enrolled encryption key', () => {
  it('allows a 10044 for the enrolled key only, whatever the operator policy lists', async () => {
    const { decideVeto } = await import('../src/veto/policy.js');
    const { path, logger } = setup();
    const enrolled = 'a'.repeat(64);
    writeFileSync(path, JSON.stringify({ encryptionKeyEvents: { allowedPubkeys: ['b'.repeat(64)] } }));
    const { policy, rules } = (await PolicyStore.open(path, logger, { enrolledEncryptionPubkeys: [enrolled] })).current();
    const ctx = { nowSec: 1_800_000_000, approvedCounts: { lastMinute: 0, lastHour: 0, lastDay: 0 } };
    const announce = (key: string) => ({ pubkey: 'c'.repeat(64), created_at: 1_800_000_000, kind: 10044, tags: [['n', key]], content: '' });
    expect(decideVeto(announce(enrolled), policy, ctx, rules)).toEqual({ decision: 'allow' });
    expect(decideVeto(announce('b'.repeat(64)), policy, ctx, rules)).toEqual({ decision: 'allow' });
    expect(decideVeto(announce('d'.repeat(64)), policy, ctx, rules)).toMatchObject({ decision: 'deny', rule: 'encryption_key_event' });
  });
});
