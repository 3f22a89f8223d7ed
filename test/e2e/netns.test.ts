import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { verifyEvent, type NostrEvent } from 'nostr-tools/pure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// deploy/netns/run.sh: relay, coordinator and three share nodes each in its own network namespace,
// joined by veth links on 10.231.0.0/24, a nostr-tools client in a sixth. The script reports facts
// as `NETNS {json}` lines; this file asserts on them. Root and iproute2 are requirements, not
// options: without them the test fails and says so (.ci/run installs iproute2).
const script = fileURLToPath(new URL('../../deploy/netns/run.sh', import.meta.url));

interface Run {
  code: number | null;
  result: string;
  facts: Record<string, unknown>[];
  stderr: string;
  /** A namespace that looked like a crashed run's leftover before the run. */
  staleNamespace: string;
}

function requireRootAndIp(): void {
  if (process.getuid?.() !== 0) throw new Error('the namespace test needs root (ip netns); run the suite as root, as CI does');
  if (spawnSync('ip', ['-V']).status !== 0) throw new Error('the namespace test needs `ip` from iproute2: apt-get install -y iproute2 (.ci/run does)');
}

function namespaces(): string[] {
  return spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').map((line) => line.split(' ')[0]!).filter(Boolean);
}

/** A pid that no process has now: a child that has already exited. */
function deadPid(): number {
  return spawnSync('true').pid!;
}

function runScript(): Promise<Omit<Run, 'staleNamespace'>> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // The script tears down on SIGTERM too, so a hang ends with no namespaces left behind.
    const timer = setTimeout(() => child.kill('SIGTERM'), 100_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const lines = stdout.split('\n');
      const facts = lines.filter((l) => l.startsWith('NETNS {')).map((l) => JSON.parse(l.slice('NETNS '.length)) as Record<string, unknown>);
      const result = lines.find((l) => l.startsWith('NETNS-RESULT '))?.slice('NETNS-RESULT '.length) ?? '(no result line)';
      resolve({ code, result, facts, stderr });
    });
  });
}

describe('frostbunker across network namespaces (deploy/netns/run.sh)', () => {
  let run: Run;
  const fact = (name: string) => run.facts.find((f) => f.fact === name);
  const step = (name: string) => run.facts.find((f) => f.step === name);
  const signers = (name: string) => run.facts.find((f) => f.fact === 'signers' && f.step === name)?.signers as string[] | undefined;

  beforeAll(async () => {
    requireRootAndIp();
    // What a crashed run leaves: a namespace named after a shell that no longer exists.
    const staleNamespace = `fbn-${deadPid()}-dead-relay`;
    expect(spawnSync('ip', ['netns', 'add', staleNamespace]).status).toBe(0);
    run = { ...(await runScript()), staleNamespace };
    if (run.result !== 'pass') console.error(run.stderr);
  }, 110_000);

  afterAll(() => {
    // Only if the script failed before its stale-namespace sweep; normally already gone.
    if (run && namespaces().includes(run.staleNamespace)) spawnSync('ip', ['netns', 'del', run.staleNamespace]);
  });

  it('passes end to end and exits 0', () => {
    expect(run.result).toBe('pass');
    expect(run.code).toBe(0);
  });

  it('puts the relay on its namespace address, not loopback, and every host on its own private address', () => {
    const addresses = fact('addresses') as { relay: string; coordinator: string; nodes: string[]; client: string };
    const all = [addresses.relay, addresses.coordinator, ...addresses.nodes, addresses.client];
    expect(new Set(all).size).toBe(6);
    for (const address of all) expect(address).toMatch(/^10\.\d+\.\d+\.\d+$/);
    expect(fact('relay')?.url).toBe(`ws://${addresses.relay}:7777`);
    expect(step('connect')?.relays).toEqual([`ws://${addresses.relay}:7777`]);
  });

  it('keeps the admin API on loopback inside the coordinator namespace: reachable there, refused from the client host', () => {
    expect(fact('admin')?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(fact('admin-scope')).toMatchObject({ healthInCoordinatorNs: 'ok', fromClientNs: 'refused' });
  });

  it('has a real nostr-tools client get the group key and a valid signature with every link up', () => {
    const groupPubkey = fact('identity')?.groupPubkey;
    expect(groupPubkey).toMatch(/^[0-9a-f]{64}$/);
    expect(step('connect')).toMatchObject({ ok: true, pubkey: groupPubkey });
    const event = step('all-links')?.event as NostrEvent;
    expect(step('all-links')?.ok).toBe(true);
    expect(event.pubkey).toBe(groupPubkey);
    expect(verifyEvent({ ...event })).toBe(true);
  });

  it('still signs 2-of-3 with node-3 cut off, without node-3', () => {
    expect(run.facts.findIndex((f) => f.fact === 'cut' && f.node === 'node-3')).toBeLessThan(run.facts.indexOf(step('one-cut')!));
    const event = step('one-cut')?.event as NostrEvent;
    expect(step('one-cut')?.ok).toBe(true);
    expect(event.pubkey).toBe(fact('identity')?.groupPubkey);
    expect(verifyEvent({ ...event })).toBe(true);
    expect(signers('one-cut')?.sort()).toEqual(['node-1', 'node-2']);
  });

  it('answers with a quorum error naming the cut nodes, within the deadline, once node-2 is cut too', () => {
    const twoCut = step('two-cut') as { ok: boolean; ms: number; error: string };
    expect(twoCut.ok).toBe(false);
    expect(twoCut.error).toMatch(/quorum unavailable.*silent: (node-2, node-3|node-3, node-2)$/);
    // The round deadline is 5 s; the client's own deadline is 20 s and its message is different.
    expect(twoCut.ms).toBeLessThan(15_000);
    expect(signers('two-cut')).toEqual([]);
    console.log(`[figure] netns quorum-loss error reply after ${twoCut.ms} ms; signing: all links ${String(step('all-links')?.ms)} ms, one cut ${String(step('one-cut')?.ms)} ms`);
  });

  it('signs again once the links are back, with no process restarted', () => {
    expect(step('restored')?.ok).toBe(true);
    expect(verifyEvent({ ...(step('restored')?.event as NostrEvent) })).toBe(true);
  });

  it('tears everything down: its namespaces, a crashed run\'s leftover, its processes and its files', () => {
    const { prefix, work } = fact('run') as { prefix: string; work: string };
    const left = namespaces();
    expect(left.filter((name) => name.startsWith(`${prefix}-`))).toEqual([]);
    expect(left).not.toContain(run.staleNamespace);
    expect(existsSync(work)).toBe(false);
    const stillRunning = readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(work);
        } catch {
          return false; // exited while we looked
        }
      });
    expect(stillRunning).toEqual([]);
  });
});
