import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getPublicKey } from 'nostr-tools/pure';
import { hexToBytes } from '@noble/hashes/utils.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '@frostbunker/deploy/lab';
import { note, readyForChaos, recordedSign, scrapeAll, stream, waitForServing, type Client } from '../harness/chaos-lab.js';
import { goal } from '../harness/chaos-report.js';
import { ChaosRelay } from '../harness/chaos-relay.js';
import { History, percentiles } from '../harness/history.js';
import { formatTimes, pacedStream, resubscribeTimes } from '../harness/relay-resubscribe.js';
import { makeTempDir } from '../harness/tmp.js';

/** A lab process's pids, to show that nothing was restarted. */
const pids = (lab: Lab) => [lab.coordinator.pid, ...lab.nodes.map((n) => n!.pid)].join(',');

function nodePubkey(lab: Lab, index: number): string {
  const secrets = JSON.parse(readFileSync(join(lab.layout.nodeDirs[index - 1]!, 'secrets.json'), 'utf8')) as { nodeSecretKey: string };
  return getPublicKey(hexToBytes(secrets.nodeSecretKey));
}

// RELIABILITY.md G2, T8 and G22 with real processes behind one chaos relay, G3 behind two.
describe('relay faults (chaos tier)', () => {
  const dir = makeTempDir('chaos-relay');
  let relay: ChaosRelay;
  let lab: Lab;
  let client: Client;

  beforeAll(async () => {
    relay = await ChaosRelay.start();
    lab = await Lab.start({ root: dir.path, relays: [relay.url] });
    client = await readyForChaos(lab);
  });
  afterAll(async () => {
    await client?.close();
    await lab?.stop();
    await relay?.close();
    dir.remove();
  });

  it('G2: the relay restarted twice for 3 s during a stream → every request ends in a reply or a publish error; signing resumes with no process restarted', async () => {
    await goal('G2', 'single relay restart during a stream', '100 requests, concurrency 4, spread over 17 s, 2 restarts of 3 s (CI size)', async (figure) => {
      const before = pids(lab);
      const history = new History();
      const ups: number[] = [];
      let upAtMs = 0;
      const churn = (async () => {
        for (let cycle = 0; cycle < 2; cycle++) {
          await new Promise((resolve) => setTimeout(resolve, 4_000));
          await relay.kill();
          await new Promise((resolve) => setTimeout(resolve, 3_000));
          await relay.restart();
          upAtMs = performance.now();
          ups.push(Date.now());
        }
      })();
      // Spread over both outages: a stream that ends before the first kill tests nothing.
      await pacedStream(100, 4, 170, (i) => recordedSign(history, client, 'c1', note(`G2 ${i}`)));
      await churn;
      const check = history.check({ deadlineMs: 30_000, groupPubkey: lab.userPubkey, allowInfo: true });
      expect(check.violations).toEqual([]);
      // Both outages fell inside the stream, so it really ran through them.
      expect(history.entries.filter((e) => e.type === 'invoke').at(-1)!.t).toBeGreaterThan(14_000);
      const resubscribed = ups.map((upWallMs) => resubscribeTimes(lab, relay.url, upWallMs));
      for (const times of resubscribed) expect([...times].filter(([, ms]) => ms === undefined)).toEqual([]);
      // After the relay is back, with nothing restarted, a request signs (G2: sent ≥ 15 s after relay-up).
      const waitMs = Math.max(0, 15_000 - (performance.now() - upAtMs));
      await new Promise((resolve) => setTimeout(resolve, waitMs));
      const after = new History();
      const resumed = await recordedSign(after, client, 'c1', note('G2 after'));
      expect(resumed.ok, resumed.ok ? '' : resumed.error).toBe(true);
      expect(pids(lab)).toBe(before);
      const reasons = history.entries.filter((e) => e.type !== 'ok' && e.type !== 'invoke').map((e) => String(e.value).slice(0, 60));
      figure(`100 requests: ${check.oks} signed, ${check.fails} error replies, ${check.infos} client publish errors, 0 silent; signed after relay-up with the same pids; latency ${percentiles(check.okLatenciesMs)}`);
      for (const [cycle, times] of resubscribed.entries()) figure(`restart ${cycle + 1}, relay-up → resubscribed (target ≤ 2 s): ${formatTimes(times)}`);
      // nostr-tools re-sends its REQ 10 s after a drop: until then only a reply copy reaches it.
      figure(`${check.okLatenciesMs.filter((ms) => ms > 10_000).length} requests answered after > 10 s, by a reply copy once the client's subscription was back`);
      if (reasons.length > 0) figure(`non-ok answers: ${[...new Set(reasons)].join(' | ')}`);
    });
  });

  it('T8: the relay drops all of node-3\'s events, then delays (0–500 ms) and duplicates (p 0.2) everything → every request signs', async () => {
    await goal('T8', 'lossy relay: one node blackholed, then delay + duplicates', '30 + 30 requests', async (figure) => {
      relay.drop(1, { pubkey: nodePubkey(lab, 3) });
      const history = new History();
      await stream(30, 3, (i) => recordedSign(history, client, 'c1', note(`T8 drop ${i}`)));
      const dropped = history.check({ deadlineMs: 30_000, groupPubkey: lab.userPubkey });
      expect(dropped.violations).toEqual([]);
      expect(dropped.oks).toBe(30);
      relay.heal().delay(0, 500).dup(0.2);
      const delayed = new History();
      await stream(30, 3, (i) => recordedSign(delayed, client, 'c1', note(`T8 delay ${i}`)));
      relay.heal();
      const check = delayed.check({ deadlineMs: 30_000, groupPubkey: lab.userPubkey });
      expect(check.violations).toEqual([]);
      expect(check.oks).toBe(30);
      figure(`node-3 blackholed: 30/30 signed (${percentiles(dropped.okLatenciesMs)}); delay 0–500 ms + dup 0.2: 30/30 signed (${percentiles(check.okLatenciesMs)}); relay seed ${relay.seed}, stats ${JSON.stringify(relay.stats)}`);
      await waitForServing(lab, ['node-1', 'node-2', 'node-3']);
    });
  });

  it('G22: cold start with the relay down; the relay comes up 10 s later → a request signs within 20 s of relay-up', async () => {
    await goal('G22', 'cold start with the relay down', '1 cold start (CI size)', async (figure) => {
      await client.close();
      await lab.stop();
      await relay.kill();
      // Same data, same relay URL: the processes start while nothing answers on the port.
      const cold = await Lab.start({ root: dir.path, relays: [relay.url] });
      lab = cold;
      await new Promise((resolve) => setTimeout(resolve, 10_000));
      await relay.restart();
      const upAt = performance.now();
      client = await readyForChaos(lab, 20_000);
      const history = new History();
      const result = await recordedSign(history, client, 'c1', note('G22'));
      expect(result.ok, result.ok ? '' : result.error).toBe(true);
      const elapsedMs = performance.now() - upAt;
      expect(elapsedMs).toBeLessThanOrEqual(20_000);
      figure(`first signature ${elapsedMs.toFixed(0)} ms after relay-up (asserted ≤ 20 s)`);
    });
  });
});

interface RelayView {
  url: string;
  connected: boolean;
  degraded: boolean;
  probeMisses: number;
  liveSubscriptions: number;
}

describe('silent subscription death (chaos tier)', () => {
  const dir = makeTempDir('chaos-blackhole');
  let r1: ChaosRelay;
  let r2: ChaosRelay;
  let lab: Lab;
  let client: Client;
  const relaysOf = async () => ((await (await fetch(`${lab.adminUrl}/health`)).json()) as { relays: RelayView[]; problems: string[] });

  beforeAll(async () => {
    r1 = await ChaosRelay.start();
    r2 = await ChaosRelay.start();
    lab = await Lab.start({ root: dir.path, relays: [r1.url, r2.url] });
    client = await readyForChaos(lab);
  });
  afterAll(async () => {
    await client?.close();
    await lab?.stop();
    await r1?.close();
    await r2?.close();
    dir.remove();
  });

  it('G3: the coordinator\'s subscription on R1 is blackholed with its socket open → /health shows R1 degraded, the probe resubscribes within 30 s, and 60/60 requests sign through R2 meanwhile', async () => {
    await goal('G3', 'silent subscription death', '1 blackhole, 60 requests (CI size)', async (figure) => {
      const warm = await recordedSign(new History(), client, 'c1', note('G3 warm-up'));
      expect(warm.ok, warm.ok ? '' : warm.error).toBe(true);
      const deadline = performance.now() + 10_000;
      while (!(await relaysOf()).relays.every((r) => r.connected && !r.degraded && r.liveSubscriptions >= 2)) {
        if (performance.now() > deadline) throw new Error('relays not live before the blackhole');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const hit = r1.blackhole({ subscriberPubkey: lab.transportPubkey });
      expect(hit).toBe(1);
      const blackholedAt = performance.now();
      const blackholedWallMs = Date.now();
      let degradedAt: number | undefined;
      let recoveredAt: number | undefined;
      let degradedProblem = '';
      let polling = true;
      const poller = (async () => {
        while (polling && recoveredAt === undefined) {
          const health = await relaysOf();
          const view = health.relays.find((r) => r.url === r1.url)!;
          if (view.degraded && degradedAt === undefined) {
            degradedAt = performance.now();
            degradedProblem = health.problems.find((p) => p.includes('degraded')) ?? '';
          }
          if (degradedAt !== undefined && view.connected && !view.degraded) recoveredAt = performance.now();
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      })();
      const history = new History();
      // 60 requests over ~24 s: before the probe notices (≤ 2 intervals of 10 s) and after.
      await pacedStream(60, 3, 400, (i) => recordedSign(history, client, 'c1', note(`G3 ${i}`)));
      while (recoveredAt === undefined && performance.now() - blackholedAt < 35_000) await new Promise((resolve) => setTimeout(resolve, 200));
      polling = false;
      await poller;
      const check = history.check({ deadlineMs: 30_000, groupPubkey: lab.userPubkey });
      expect(check.violations).toEqual([]);
      expect(check.oks).toBe(60);
      expect(degradedAt, '/health never showed R1 degraded').toBeDefined();
      expect(degradedProblem).toContain(r1.url);
      expect(recoveredAt, 'R1 still degraded 35 s after the blackhole').toBeDefined();
      expect(recoveredAt! - blackholedAt).toBeLessThanOrEqual(30_000);
      const misses = await scrapeAll(lab, 'frostbunker_relay_probe_misses');
      expect(misses.get(`{relay="${r1.url}"}`)).toBeGreaterThanOrEqual(1);
      expect(misses.get(`{relay="${r2.url}"}`)).toBe(0);
      const resubscribedMs = resubscribeTimes(lab, r1.url, blackholedWallMs).get('coordinator');
      expect(resubscribedMs).toBeDefined();
      figure(`blackholed at 0: /health degraded at ${(degradedAt! - blackholedAt).toFixed(0)} ms (polled every 200 ms), coordinator resubscribed on a new socket at ${resubscribedMs} ms, probe answered again (not degraded) at ${(recoveredAt! - blackholedAt).toFixed(0)} ms (asserted ≤ 30 s; probe every 10 s)`);
      figure(`60 requests meanwhile: ${check.oks} signed via R2 (${percentiles(check.okLatenciesMs)}); probe misses R1 ${misses.get(`{relay="${r1.url}"}`)}, R2 ${misses.get(`{relay="${r2.url}"}`)}; events withheld by the blackhole ${r1.stats.blackholed}`);
    });
  });
});
