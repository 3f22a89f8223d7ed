import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { nip19 } from 'nostr-tools';
import { getPublicKey, verifyEvent } from 'nostr-tools/pure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '@frostbunker/deploy/lab';
import { groupXOnlyKey, hexToBytes, parseGroupPackage } from '@frostbunker/shared/crypto';
import { connectBunkerSigner, withDeadline } from '../harness/bunker-client.js';
import { makeTempDir } from '../harness/tmp.js';

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const filesUnder = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    const stat = statSync(path);
    return stat.isDirectory() ? filesUnder(path) : stat.isFile() ? [path] : []; // not the control sockets
  });

/** The x-only pubkey of 32 bytes read as a secret key; null when they are not a valid scalar (a hash, say). */
const keyOf = (secret: Uint8Array): string | null => {
  try {
    return getPublicKey(secret);
  } catch {
    return null;
  }
};

// Real relay, coordinator and three share-node processes; the identity comes from a DKG among them.
describe('a DKG lab: the identity is made by the share nodes, then signs through NIP-46 like a dealt one (issue 7)', () => {
  const dir = makeTempDir('e2e-dkg');
  let lab: Lab;

  beforeAll(async () => {
    const started = performance.now();
    lab = await Lab.start({ root: dir.path, relayPort: 0, dkg: true });
    await lab.waitForQuorum();
    console.log(`[figure] DKG lab up in ${(performance.now() - started).toFixed(0)} ms\n${readFileSync(lab.dkgReportPaths!.text, 'utf8')}`);
  });

  afterAll(async () => {
    await lab?.stop();
    dir.remove();
  });

  it('a nostr-tools BunkerSigner gets a kind 1 signed under the DKG group key, and no file holds the group secret', async () => {
    const report = lab.dkgReport!;
    expect(report.outcome).toBe('committed');
    const group = parseGroupPackage(readJson(join(lab.layout.coordinatorDir, 'config.json')).identities[0].group);
    expect(group.groupKey).toBe(report.groupKey);
    expect(lab.userPubkey).toBe(groupXOnlyKey(group));

    const client = await connectBunkerSigner(lab.bunkerUrl);
    try {
      expect(await withDeadline(client.signer.getPublicKey(), 20_000, 'get_public_key')).toBe(lab.userPubkey);
      const signed = await withDeadline(client.signer.signEvent({ kind: 1, content: 'made by DKG', tags: [], created_at: Math.floor(Date.now() / 1000) }), 30_000, 'sign');
      expect(signed.pubkey).toBe(lab.userPubkey);
      expect(verifyEvent({ ...signed })).toBe(true);
    } finally {
      await client.close();
    }

    // Each node holds its own share only: no share file's scalar times G is the group key.
    const shares = lab.layout.nodeDirs.map((d) => readJson(join(d, 'secrets.json')).signingShare as string);
    expect(new Set(shares).size).toBe(3);
    for (const share of shares) expect(getPublicKey(hexToBytes(share))).not.toBe(lab.userPubkey);
    // And no file anywhere in the lab holds a key for the npub (as 64 hex or nsec1…).
    for (const path of filesUnder(dir.path)) {
      const text = readFileSync(path, 'latin1');
      for (const hex of text.match(/[0-9a-f]{64}/g) ?? []) expect(keyOf(hexToBytes(hex)), path).not.toBe(lab.userPubkey);
      for (const nsec of text.match(/nsec1[02-9ac-hj-np-z]{58}/g) ?? []) expect(keyOf(nip19.decode(nsec).data as Uint8Array), path).not.toBe(lab.userPubkey);
    }
  });
});
