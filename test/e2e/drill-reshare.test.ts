import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { verifyEvent } from 'nostr-tools/pure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab, parseStatusLine } from '@frostbunker/deploy/lab';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { commit, createSigningPackage, hexToBytes, parseGroupPackage, SigningShare, signShare } from '@frostbunker/shared/crypto';
import type { FrostIdentifier } from '@frostbunker/shared/protocol';
import { connectBunkerSigner, withDeadline } from '../harness/bunker-client.js';
import { frostbunkerCliOutcome } from '../harness/frostbunker-cli.js';
import { shareCensus, signableEpochs } from '../harness/share-census.js';
import { shareNodeCli } from '../harness/share-node-cli.js';
import { makeTempDir } from '../harness/tmp.js';

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

// Real relay, coordinator and share-node processes; two joining nodes made with `share-node init`.
describe('reshare drill on a running lab: 2-of-3 -> 3-of-5 -> 2-of-3, same npub (issue 7)', () => {
  const dir = makeTempDir('e2e-reshare');
  let lab: Lab;
  let client: Awaited<ReturnType<typeof connectBunkerSigner>>;
  const template = (content: string) => ({ kind: 1, content, tags: [], created_at: Math.floor(Date.now() / 1000) });
  const nodeDirs = () => [...lab.layout.nodeDirs, join(dir.path, 'node-4'), join(dir.path, 'node-5')];

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

  const waitReloaded = (epoch: number) =>
    lab.coordinator.waitForLine((l) => {
      const s = parseStatusLine(l);
      return s?.event === 'reloaded' && s.toEpoch === epoch;
    }, 15_000);

  const drill = async (...args: string[]) => {
    const started = performance.now();
    const outcome = await frostbunkerCliOutcome(['drill', ...args, '--data', lab.layout.coordinatorDir, '--insecure-plaintext', '--step-timeout', '10s']);
    console.log(`[figure] drill ${args.join(' ')}: ${(performance.now() - started).toFixed(0)} ms (CLI process included)\n${outcome.stdout}`);
    expect(outcome.code, outcome.stdout + outcome.stderr).toBe(0);
    return outcome.stdout;
  };

  /** Waits until the node's relay subscription is live (so the drill's first message reaches it). */
  const waitSubscribed = async (nodeDir: string) => {
    for (let i = 0; i < 50; i++) {
      if (/"liveSubscriptions":\s*[1-9]/.test(await shareNodeCli(nodeDir, 'status').catch(() => ''))) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`${nodeDir} never subscribed`);
  };

  /** A new host: `share-node init` (identity key, enrolled coordinator), started as lab node `index`; returns its pubkey. */
  const joinNode = async (index: number, nodeDir: string, label: string) => {
    const node1 = readJson(join(lab.layout.nodeDirs[0]!, 'config.json'));
    mkdirSync(nodeDir, { recursive: true, mode: 0o700 });
    const out = await shareNodeCli(nodeDir, 'init', '--coordinator', node1.coordinatorPubkey, ...lab.relayUrls.flatMap((r) => ['--relay', r]), '--label', label, ...node1.encryptionPubkeys.flatMap((k: string) => ['--encryption-pubkey', k]), '--insecure-plaintext');
    await lab.startNode(index, {}, nodeDir);
    await waitSubscribed(nodeDir);
    return out.trim().split('\n').pop()!;
  };

  /** Every share file's contents in the given node directories (to show old shares are gone). */
  const shareHexes = (dirs: readonly string[]) =>
    dirs.flatMap((d) => (existsSync(join(d, 'secrets.json')) ? [readJson(join(d, 'secrets.json')).signingShare as string] : []));

  const expectNoFileHolds = (dirs: readonly string[], shares: readonly string[]) => {
    for (const d of dirs) {
      for (const file of readdirSync(d)) {
        const path = join(d, file);
        if (statSync(path).isFile()) for (const share of shares) expect(readFileSync(path, 'utf8'), path).not.toContain(share);
      }
    }
  };

  /**
   * k' - 1 new shares from disk cannot sign: our FROST wrapper refuses the round outright, and (the
   * maths behind it) interpolating those k' - 1 shares as if they were enough gives a key that is
   * not the group key.
   */
  const expectBelowThresholdFails = (dirs: readonly string[]) => {
    const configs = dirs.map((d) => readJson(join(d, 'config.json')));
    const group = parseGroupPackage(configs[0].group);
    const few = dirs.slice(0, group.threshold - 1).map((d, i) => ({ identifier: configs[i].identifier as FrostIdentifier, hex: readJson(join(d, 'secrets.json')).signingShare as string }));
    const shares = few.map((f) => SigningShare.fromHex(f.identifier, f.hex, group));
    const rounds = shares.map((share) => ({ share, ...commit(share) }));
    const pkg = createSigningPackage(hexToBytes('42'.repeat(32)), rounds.map((r) => r.commitments));
    expect(() => signShare(shares[0]!, group, rounds[0]!.nonces, pkg)).toThrow(new RegExp(`threshold is ${group.threshold}`));
    const Fn = secp256k1.Point.Fn;
    const xs = few.map((f) => Fn.fromBytes(hexToBytes(f.identifier)));
    let secret = Fn.ZERO;
    for (const [i, f] of few.entries()) {
      let lambda = Fn.ONE;
      for (const [j, xj] of xs.entries()) if (j !== i) lambda = Fn.mul(lambda, Fn.div(xj, Fn.sub(xj, xs[i]!)));
      secret = Fn.add(secret, Fn.mul(lambda, Fn.fromBytes(hexToBytes(f.hex))));
    }
    const guessed = secret === Fn.ZERO ? '' : secp256k1.Point.BASE.multiply(secret).toHex(true);
    expect(guessed).not.toBe(group.groupKey);
  };

  it('grows to 3-of-5 with two joining nodes and shrinks back to 2-of-3; the same client signs after each without a coordinator restart', async () => {
    const npub = lab.userPubkey;
    const groupKey = parseGroupPackage(readJson(join(lab.layout.nodeDirs[0]!, 'config.json')).group).groupKey;
    expect((await withDeadline(client.signer.signEvent(template('2-of-3')), 20_000, 'sign')).pubkey).toBe(npub);
    const oldShares = shareHexes(lab.layout.nodeDirs);

    // New hosts: `share-node init` makes an identity key; the operator hands its pubkey to the drill.
    const joiners: string[] = [];
    for (const index of [4, 5]) joiners.push(await joinNode(index, join(dir.path, `node-${index}`), `node-${index}`));

    const grow = await drill('reshare', '--threshold', '3', '--nodes', joiners.map((pk, i) => `node-${i + 4}:${pk}`).join(','));
    expect(grow).toMatch(/committed: npub unchanged, epoch 0 -> 1/);
    console.log(readFileSync(/summary: (.*)/.exec(grow)![1]!, 'utf8'));
    await waitReloaded(1);
    const signed = await withDeadline(client.signer.signEvent(template('3-of-5')), 30_000, 'sign 3-of-5');
    expect(signed.pubkey).toBe(npub);
    expect(verifyEvent({ ...signed })).toBe(true);
    const grown = shareCensus(nodeDirs());
    expect(grown.map((e) => [e.epoch, e.threshold, e.intact.length])).toEqual([[1, 3, 5]]);
    expect(signableEpochs(grown, groupKey)).toHaveLength(1);
    expectNoFileHolds(nodeDirs(), oldShares);
    expectBelowThresholdFails(nodeDirs());
    expect(readJson(join(lab.layout.coordinatorDir, 'config.json')).identities[0].members.map((m: { label: string }) => m.label)).toEqual(['node-1', 'node-2', 'node-3', 'node-4', 'node-5']);

    const sharesOf5 = shareHexes(nodeDirs());
    const shrink = await drill('reshare', '--threshold', '2', '--nodes', '3');
    expect(shrink).toMatch(/committed: npub unchanged, epoch 1 -> 2/);
    await waitReloaded(2);
    const back = await withDeadline(client.signer.signEvent(template('2-of-3 again')), 30_000, 'sign 2-of-3 again');
    expect(back.pubkey).toBe(npub);
    expect(verifyEvent({ ...back })).toBe(true);
    // node-4 and node-5 were retired: their shares are destroyed and their processes ended.
    for (const index of [4, 5]) {
      expect(existsSync(join(dir.path, `node-${index}`, 'secrets.json'))).toBe(false);
      expect(await lab.nodes[index - 1]!.exited).toBe(0);
    }
    const shrunk = shareCensus(nodeDirs());
    expect(shrunk.map((e) => [e.epoch, e.threshold, e.intact.length])).toEqual([[2, 2, 3]]);
    expectNoFileHolds(nodeDirs(), sharesOf5);
    expectBelowThresholdFails(lab.layout.nodeDirs);
  });

  it('repairs a lost node-2 onto a new host from k helpers: same npub and 2-of-3, the lost share no longer fits, the client signs', async () => {
    const npub = lab.userPubkey;
    const lostDir = lab.layout.nodeDirs[1]!;
    const lost = { config: readJson(join(lostDir, 'config.json')), secrets: readJson(join(lostDir, 'secrets.json')) };
    const epoch = lost.config.epoch as number;
    await lab.stopNode(2, true); // the host is gone (its disk may be in someone's hands)
    const newDir = join(dir.path, 'node-2-new');
    const pubkey = await joinNode(2, newDir, 'node-2');
    const out = await drill('repair', '--index', '2', '--node-pubkey', pubkey);
    expect(out).toMatch(new RegExp(`committed: npub unchanged, epoch ${epoch} -> ${epoch + 1}`));
    await waitReloaded(epoch + 1);
    const signed = await withDeadline(client.signer.signEvent(template('after the repair')), 30_000, 'sign after repair');
    expect(signed.pubkey).toBe(npub);
    expect(verifyEvent({ ...signed })).toBe(true);
    const dirs = [lab.layout.nodeDirs[0]!, newDir, lab.layout.nodeDirs[2]!];
    const census = shareCensus(dirs);
    expect(census.map((e) => [e.epoch, e.threshold, e.intact.sort()])).toEqual([[epoch + 1, 2, ['node-1', 'node-2', 'node-3']]]);
    const repaired = readJson(join(newDir, 'config.json'));
    expect(repaired.identifier).toBe(lost.config.identifier);
    expect(readJson(join(lab.layout.coordinatorDir, 'config.json')).identities[0].members.find((m: { label: string }) => m.label === 'node-2').nodePubkey).toBe(pubkey);
    // The lost disk's share does not fit the new group: it cannot take part in any round.
    expect(() => SigningShare.fromHex(lost.config.identifier, lost.secrets.signingShare, parseGroupPackage(repaired.group))).toThrow();
    expectBelowThresholdFails(dirs);
  });
});
