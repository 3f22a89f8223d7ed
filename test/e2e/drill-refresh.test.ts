import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { verifyEvent } from 'nostr-tools/pure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '@frostbunker/deploy/lab';
import {
  aggregateSignature,
  commit,
  createSigningPackage,
  hexToBytes,
  parseGroupPackage,
  SigningShare,
  signShare,
} from '@frostbunker/shared/crypto';
import { CheaterError } from '@frostbunker/shared/errors';
import type { FrostIdentifier } from '@frostbunker/shared/protocol';
import { connectBunkerSigner, withDeadline } from '../harness/bunker-client.js';
import { frostbunkerCli } from '../harness/frostbunker-cli.js';
import { makeTempDir } from '../harness/tmp.js';

interface NodeFiles {
  config: { identifier: FrostIdentifier; group: unknown; epoch: number };
  secrets: { signingShare: string };
}

const readNode = (dir: string): NodeFiles => ({
  config: JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')),
  secrets: JSON.parse(readFileSync(join(dir, 'secrets.json'), 'utf8')),
});

// Real relay, coordinator and three share-node processes; the drill runs as the operator's CLI.
describe('refresh drill on a running 2-of-3 lab (issue 7)', () => {
  const dir = makeTempDir('e2e-drill');
  let lab: Lab;
  let client: Awaited<ReturnType<typeof connectBunkerSigner>>;
  const template = (content: string) => ({ kind: 1, content, tags: [], created_at: Math.floor(Date.now() / 1000) });

  beforeAll(async () => {
    lab = await Lab.start({ root: dir.path, relayPort: 0 });
    await lab.waitForQuorum();
    client = await connectBunkerSigner(lab.bunkerUrl);
  });

  afterAll(async () => {
    await client?.close();
    await lab?.stop();
    dir.remove();
  });

  it('keeps the npub and the bunker:// client, destroys every old share file, and an old share kept aside fails a mixed round, named', async () => {
    const npub = lab.userPubkey;
    const before = await withDeadline(client.signer.signEvent(template('before the refresh')), 20_000, 'sign before');
    expect(before.pubkey).toBe(npub);
    // The operator's mistake the drill must survive: node-1's old share copied aside.
    const aside = join(dir.path, 'aside');
    mkdirSync(aside);
    for (const file of ['config.json', 'secrets.json']) copyFileSync(join(lab.layout.nodeDirs[0]!, file), join(aside, file));
    const old = readNode(aside);
    const oldShares = lab.layout.nodeDirs.map((nodeDir) => readNode(nodeDir).secrets.signingShare);

    const started = performance.now();
    const stdout = await frostbunkerCli('drill', 'refresh', '--data', lab.layout.coordinatorDir, '--insecure-plaintext');
    console.log(`[figure] drill refresh on the lab: ${(performance.now() - started).toFixed(0)} ms (CLI process included)`);
    expect(stdout).toMatch(/\[S7\] old shares destroyed and acknowledged .*every node acknowledged/);
    expect(stdout).toMatch(/committed: npub unchanged, epoch 0 -> 1/);

    // The report: JSON and a readable summary.
    const drills = join(lab.layout.coordinatorDir, 'drills');
    const jsonFile = readdirSync(drills).find((f) => f.endsWith('-refresh.json'))!;
    const report = JSON.parse(readFileSync(join(drills, jsonFile), 'utf8'));
    expect(report).toMatchObject({ outcome: 'committed', sameNpub: true, epochBefore: 0, epochAfter: 1, notAcknowledged: [] });
    expect(report.mixedRound).toMatchObject({ oldShareOf: 'node-1', failed: true, named: ['node-1'] });
    expect(report.steps.map((s: { step: string }) => s.step)).toEqual(['S0', 'S1', 'S2', 'S3', 'S4', 'S5', 'S6', 'S7']);
    expect(readFileSync(join(drills, jsonFile.replace(/\.json$/, '.txt')), 'utf8')).toContain('(unchanged)');

    // Every node is on epoch 1 with a new share; no file in any node directory holds an old share.
    const nodes = lab.layout.nodeDirs.map(readNode);
    for (const [i, node] of nodes.entries()) {
      expect(node.config.epoch).toBe(1);
      expect(node.secrets.signingShare).not.toBe(oldShares[i]);
      for (const file of readdirSync(lab.layout.nodeDirs[i]!)) {
        const path = join(lab.layout.nodeDirs[i]!, file);
        if (statSync(path).isFile()) for (const share of oldShares) expect(readFileSync(path, 'utf8')).not.toContain(share);
      }
      expect(readdirSync(lab.layout.nodeDirs[i]!).filter((f) => f.includes('pending'))).toEqual([]);
    }

    // The running coordinator picks up the new epoch at restart; the same client keeps signing.
    await lab.restartCoordinator();
    await lab.waitForQuorum();
    expect(lab.userPubkey).toBe(npub);
    const after = await withDeadline(client.signer.signEvent(template('after the refresh')), 30_000, 'sign after');
    expect(after.pubkey).toBe(npub);
    expect(verifyEvent({ ...after })).toBe(true);

    // The old share kept aside, in a round with node-2's new share: the round fails and names node-1.
    const oldGroup = parseGroupPackage(old.config.group);
    const newGroup = parseGroupPackage(nodes[1]!.config.group);
    const oldShare = SigningShare.fromHex(old.config.identifier, old.secrets.signingShare, oldGroup);
    const newShare = SigningShare.fromHex(nodes[1]!.config.identifier, nodes[1]!.secrets.signingShare, newGroup);
    expect(() => SigningShare.fromHex(old.config.identifier, old.secrets.signingShare, newGroup)).toThrow();
    const a = commit(oldShare);
    const b = commit(newShare);
    const pkg = createSigningPackage(hexToBytes('77'.repeat(32)), [a.commitments, b.commitments]);
    const partials = { [oldShare.identifier]: signShare(oldShare, oldGroup, a.nonces, pkg), [newShare.identifier]: signShare(newShare, newGroup, b.nonces, pkg) };
    let error: unknown;
    try {
      aggregateSignature(newGroup, pkg, partials);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CheaterError);
    expect((error as CheaterError).culprits).toEqual([old.config.identifier]);
  });

  // @TODO(issue 7): the G12 4-case slice with real processes (N2 killed at S3, S5, S6 via
  // FROSTBUNKER_FAILPOINTS, and C at S5); the same cases run in-process in
  // coordinator/test/drill/refresh-drill.test.ts.
});
