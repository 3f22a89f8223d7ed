import { readFileSync } from 'node:fs';
import { schnorr } from '@noble/curves/secp256k1.js';
import { hexToBytes } from '@noble/hashes/utils.js';
import { verifyEvent } from 'nostr-tools/pure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '@frostbunker/deploy/lab';
import { connectBunkerSigner, withDeadline } from '../harness/bunker-client.js';
import { makeTempDir } from '../harness/tmp.js';

// Real relay process, coordinator process, three share-node processes, nostr-tools BunkerSigner.
describe('2-of-3 lab signing through NIP-46', () => {
  const dir = makeTempDir('e2e');
  let lab: Lab;
  let client: Awaited<ReturnType<typeof connectBunkerSigner>>;

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

  const template = (content: string) => ({
    kind: 1,
    content,
    tags: [['t', 'frostbunker'], ['client', 'e2e "quoted" \u00e9']],
    created_at: Math.floor(Date.now() / 1000),
  });

  it('runs the relay, the coordinator and each share node as separate processes named by role', () => {
    const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    expect(cmdline(lab.relay!.pid)).toContain('relay/main.js');
    expect(cmdline(lab.coordinator.pid)).toContain('coordinator/dist/main.js');
    const nodePids = lab.nodes.map((n) => n!.pid);
    expect(new Set([lab.relay!.pid, lab.coordinator.pid, ...nodePids]).size).toBe(5);
    for (const pid of nodePids) expect(cmdline(pid)).toContain('share-node/dist/main.js');
  });

  it('returns the group key from get_public_key', async () => {
    const pubkey = await withDeadline(client.signer.getPublicKey(), 15_000, 'get_public_key');
    expect(pubkey).toBe(lab.userPubkey);
    expect(pubkey).not.toBe(lab.transportPubkey);
  });

  it('signs kind-1 events under the group key, verified by nostr-tools and noble, fields untouched', async () => {
    const latenciesMs: number[] = [];
    for (let i = 0; i < 7; i++) {
      const unsigned = template(`threshold note ${i}`);
      const started = performance.now();
      const signed = await withDeadline(client.signer.signEvent(unsigned), 20_000, 'sign_event');
      latenciesMs.push(performance.now() - started);
      expect(signed.pubkey).toBe(lab.userPubkey);
      expect(verifyEvent({ ...signed })).toBe(true);
      expect(schnorr.verify(hexToBytes(signed.sig), hexToBytes(signed.id), hexToBytes(signed.pubkey))).toBe(true);
      expect(signed.content).toBe(unsigned.content);
      expect(signed.tags).toEqual(unsigned.tags);
      expect(signed.created_at).toBe(unsigned.created_at);
    }
    latenciesMs.sort((a, b) => a - b);
    console.log(`[figure] lab sign_event latency over ${latenciesMs.length}: median ${latenciesMs[3]!.toFixed(0)} ms, min ${latenciesMs[0]!.toFixed(0)} ms, max ${latenciesMs.at(-1)!.toFixed(0)} ms`);
  });

  it('binds a bunker:// token to the first client: another client is refused and needs its own token', async () => {
    await expect(connectBunkerSigner(lab.bunkerUrl)).rejects.toThrow(/already used connection token/);
    const other = await connectBunkerSigner(lab.newBunkerUrl());
    expect(await withDeadline(other.signer.getPublicKey(), 15_000, 'get_public_key')).toBe(lab.userPubkey);
    await other.close();
  });

  it('answers an unknown method with an error reply', async () => {
    await expect(withDeadline(client.signer.sendRequest('frobnicate', []), 15_000, 'frobnicate')).rejects.toThrow(/unknown method/);
  });

  it('refuses a sensitive kind without an explicit grant', async () => {
    const profile = { ...template('{"name":"mallory"}'), kind: 0 };
    await expect(withDeadline(client.signer.signEvent(profile), 15_000, 'sign kind 0')).rejects.toThrow(/sensitive/);
  });

  it('still signs with one share node stopped', async () => {
    await lab.stopNode(3);
    const signed = await withDeadline(client.signer.signEvent(template('two of three')), 20_000, 'sign with 2 nodes');
    expect(verifyEvent({ ...signed })).toBe(true);
    expect(signed.pubkey).toBe(lab.userPubkey);
  });

  it('answers with a quorum error in bounded time when two share nodes are stopped, then recovers', async () => {
    await lab.stopNode(2);
    const started = performance.now();
    await expect(withDeadline(client.signer.signEvent(template('one of three')), 20_000, 'sign with 1 node')).rejects.toThrow(
      /quorum unavailable.*node-2.*node-3|quorum unavailable.*node-3.*node-2/,
    );
    console.log(`[figure] quorum-loss error reply after ${(performance.now() - started).toFixed(0)} ms`);

    const online = lab.waitForOnline(['node-2']);
    await lab.startNode(2);
    await online;
    const signed = await withDeadline(client.signer.signEvent(template('back to two')), 20_000, 'sign after restart');
    expect(verifyEvent({ ...signed })).toBe(true);
  });
});
