import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EventTemplate } from 'nostr-tools/pure';
import { Lab } from '@frostbunker/deploy/lab';
import { connectBunkerSigner, withDeadline } from './bunker-client.js';
import { History } from './history.js';

export type Client = Awaited<ReturnType<typeof connectBunkerSigner>>;

/** A kind-1 template with tags and content worth comparing byte for byte. */
export function note(content: string): EventTemplate {
  return { kind: 1, content, tags: [['t', 'chaos'], ['client', 'chaos "q" \u00e9']], created_at: Math.floor(Date.now() / 1000) };
}

/** Signs `template` through `client`, recorded in `history`, with a client-side deadline. */
export function recordedSign(history: History, client: Client, name: string, template: EventTemplate, deadlineMs = 30_000) {
  return history.run(name, 'sign_event', template, () => withDeadline(client.signer.signEvent(template), deadlineMs, 'sign_event'));
}

/** Runs `count` operations with at most `concurrency` in flight. */
export async function stream(count: number, concurrency: number, operation: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await operation(next++);
    }),
  );
}

/** Scrapes one Prometheus text sample (the first whose name and labels contain `match`), or 0. */
export async function scrape(lab: Lab, match: RegExp): Promise<number> {
  const text = await (await fetch(`${lab.adminUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => !l.startsWith('#') && match.test(l));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** Every sample of a metric family as `labels → value`. */
export async function scrapeAll(lab: Lab, name: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${lab.adminUrl}/metrics`)).text();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(name.length, at), Number(line.slice(at + 1)));
  }
  return samples;
}

/** Lines of the coordinator's log (stderr, JSON) matching `pattern`. */
export function coordinatorLogLines(lab: Lab, pattern: RegExp): string[] {
  return readFileSync(join(lab.options.root, 'logs', 'coordinator.log'), 'utf8').split('\n').filter((l) => pattern.test(l));
}

/** Connects a nostr-tools client with reconnection on (the relay may restart under it). */
export function chaosClient(lab: Lab): Promise<Client> {
  return connectBunkerSigner(lab.newBunkerUrl(), { enableReconnect: true });
}

/** Waits for the lab's quorum, raises its nodes' rate limits and connects a chaos client: what every chaos lab does before its first request. */
export async function readyForChaos(lab: Lab, quorumTimeoutMs?: number): Promise<Client> {
  await lab.waitForQuorum(quorumTimeoutMs);
  raiseNodeRateLimits(lab);
  return chaosClient(lab);
}

/** Polls the coordinator's `/health` until every node in `labels` is online (not frozen). */
export async function waitForServing(lab: Lab, labels: readonly string[], timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const health = (await (await fetch(`${lab.adminUrl}/health`)).json()) as { identities: { nodes: { label: string; online: boolean }[] }[] };
    const online = new Set(health.identities[0]!.nodes.filter((n) => n.online).map((n) => n.label));
    if (labels.every((label) => online.has(label))) return;
    if (performance.now() > deadline) throw new Error(`not online within ${timeoutMs} ms: ${labels.filter((l) => !online.has(l)).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Chaos streams sign hundreds of events a minute; the share nodes' default policy vetoes past 60
 * a minute (`rate_limit_minute`). Raises the limits in every node's policy.json and SIGHUPs the
 * nodes so they re-read it.
 */
export function raiseNodeRateLimits(lab: Lab): void {
  for (const [i, nodeDir] of lab.layout.nodeDirs.entries()) {
    writeFileSync(join(nodeDir, 'policy.json'), `${JSON.stringify({ v: 1, rateLimits: { perMinute: 100_000, perHour: 1_000_000, perDay: 10_000_000 } })}\n`, { mode: 0o600 });
    lab.nodes[i]?.child.kill('SIGHUP');
  }
}
