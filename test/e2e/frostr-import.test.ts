import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encode_group_package, encode_share_package } from '@frostr/bifrost/encoder';
import { generate_dealer_package } from '@frostr/bifrost/lib';
import { verifyEvent } from 'nostr-tools/pure';
import { afterAll, describe, expect, it } from 'vitest';
import { Lab } from '@frostbunker/deploy/lab';
import { connectBunkerSigner, withDeadline } from '../harness/bunker-client.js';
import { makeTempDir } from '../harness/tmp.js';

interface BifrostDealerPackage {
  group: { group_pk: string };
  shares: unknown[];
}

describe('FROSTR import into a lab (real processes)', () => {
  const dir = makeTempDir('frostr');
  afterAll(() => dir.remove());

  it('signs with shares made by bifrost under the FROSTR group key', async () => {
    const pkg = generate_dealer_package(2, 3) as BifrostDealerPackage;
    const file = join(dir.path, 'credentials.txt');
    // Shares listed out of order, with a comment: the lab orders them by index.
    const lines = ['# exported from a FROSTR signer', encode_group_package(pkg.group), ...pkg.shares.map((s) => encode_share_package(s)).reverse()];
    writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
    const lab = await Lab.start({ root: join(dir.path, 'lab'), relayPort: 0, importFrostr: file });
    try {
      expect(lab.userPubkey).toBe(pkg.group.group_pk.slice(2));
      await lab.waitForQuorum();
      const client = await connectBunkerSigner(lab.bunkerUrl);
      const signed = await withDeadline(client.signer.signEvent({ kind: 1, content: 'from FROSTR shares', tags: [], created_at: Math.floor(Date.now() / 1000) }), 20_000, 'sign');
      expect(signed.pubkey).toBe(pkg.group.group_pk.slice(2));
      expect(verifyEvent({ ...signed })).toBe(true);
      await client.close();
    } finally {
      await lab.stop();
    }
  });
});
