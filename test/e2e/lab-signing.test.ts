import { readFileSync } from 'node:fs';
import { schnorr } from '@noble/curves/secp256k1.js';
import { hexToBytes } from '@noble/hashes/utils.js';
import { verifyEvent } from 'nostr-tools/pure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '@frostbunker/deploy/lab';
import { connectBunkerSigner, withDeadline } from '../harness/bunker-client.js';
import { frostbunkerCli } from '../harness/frostbunker-cli.js';
import { makeTempDir } from '../harness/tmp.js';

// Real relay process, coordinator process, three share-node processes, nostr-tools BunkerSigner.
describe('2-of-3 lab signing through NIP-46', () => {
  const dir = makeTempDir('e2e');
  let lab: Lab;
  let client: Awaited<ReturnType<typeof connectBunkerSigner>>;
  const authUrls: string[] = [];

  beforeAll(async () => {
    lab = await Lab.start({ root: dir.path, relayPort: 0 });
    await lab.waitForQuorum();
    client = await connectBunkerSigner(lab.bunkerUrl, { onauth: (url) => void authUrls.push(url) });
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

  it('asks the operator about a sensitive kind (auth_url) and relays their denial through the admin API', async () => {
    const profile = { ...template('{"name":"mallory"}'), kind: 0 };
    const refused = expect(withDeadline(client.signer.signEvent(profile), 30_000, 'sign kind 0')).rejects.toThrow('denied by the operator: not this profile');
    for (let attempt = 0; attempt < 100 && authUrls.length === 0; attempt++) await new Promise((resolve) => setTimeout(resolve, 100));
    const url = authUrls[0]!;
    expect(url.startsWith(`${lab.adminUrl}/approvals/apr_`)).toBe(true);
    // The link itself shows the state, never the request's content.
    const page = await (await fetch(url)).text();
    expect(page).toContain('waiting for a decision');
    expect(page).not.toContain('mallory');
    const token = (await frostbunkerCli('admin-token', 'create', '--label', 'e2e', '--data', lab.layout.coordinatorDir)).trim();
    const approvalId = url.slice(url.lastIndexOf('/') + 1);
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`${lab.adminUrl}/api/v1${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
    const shown = (await (await api(`/approvals/${approvalId}`)).json()) as { approval: { request?: { params: string[] } } };
    expect(shown.approval.request?.params[0]).toContain('mallory');
    expect((await api(`/approvals/${approvalId}/deny`, { method: 'POST', body: JSON.stringify({ reason: 'not this profile' }) })).status).toBe(200);
    await refused;
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
    // Issue 5: health says so, naming the nodes, and exits 1; the metrics count the failure.
    // (The monitor marks a node offline after three missed pings, 6 s in the lab.)
    let health: { code?: number; stdout?: string } | undefined;
    for (let attempt = 0; attempt < 40 && health === undefined; attempt++) {
      health = await frostbunkerCli('health', '--data', lab.layout.coordinatorDir).then(
        () => undefined,
        (error: { code?: number; stdout?: string }) => error,
      );
      if (health === undefined) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(health?.code).toBe(1);
    expect(health?.stdout).toMatch(/NOT OK: default: quorum unavailable, 1 of 2 share nodes serving; offline: node-2, node-3/);
    expect(health?.stdout).toMatch(/node-1 +online +seen/);
    const metrics = await (await fetch(`${lab.adminUrl}/metrics`)).text();
    expect(metrics).toContain('frostbunker_quorum_available{identity="default"} 0');
    expect(metrics).toMatch(/frostbunker_sign_failures_total\{code="QUORUM_UNAVAILABLE",identity="default"\} 1/);
    expect(metrics).toMatch(/frostbunker_sign_duration_seconds_count\{identity="default"\} [1-9]/);
    expect(metrics).toMatch(/frostbunker_acl_decisions_total\{decision="ask",identity="default"\} 1/);

    const online = lab.waitForOnline(['node-2']);
    await lab.startNode(2);
    await online;
    const signed = await withDeadline(client.signer.signEvent(template('back to two')), 20_000, 'sign after restart');
    expect(verifyEvent({ ...signed })).toBe(true);
    const recovered = JSON.parse(await frostbunkerCli('health', '--json', '--data', lab.layout.coordinatorDir)) as { ok: boolean; identities: { nodes: { label: string; online: boolean }[] }[] };
    expect(recovered.ok).toBe(true);
    expect(recovered.identities[0]!.nodes.filter((n) => n.online).map((n) => n.label)).toEqual(['node-1', 'node-2']);
  });
});
