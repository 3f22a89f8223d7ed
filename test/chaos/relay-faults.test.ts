import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getPublicKey } from 'nostr-tools/pure';
import { hexToBytes } from '@noble/hashes/utils.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '@frostbunker/deploy/lab';
import { chaosClient, raiseNodeRateLimits, note, recordedSign, stream, waitForServing, type Client } from '../harness/chaos-lab.js';
import { goal } from '../harness/chaos-report.js';
import { ChaosRelay } from '../harness/chaos-relay.js';
import { History, percentiles } from '../harness/history.js';
import { makeTempDir } from '../harness/tmp.js';

/** A lab process's pids, to show that nothing was restarted. */
const pids = (lab: Lab) => [lab.coordinator.pid, ...lab.nodes.map((n) => n!.pid)].join(',');

function nodePubkey(lab: Lab, index: number): string {
  const secrets = JSON.parse(readFileSync(join(lab.layout.nodeDirs[index - 1]!, 'secrets.json'), 'utf8')) as { nodeSecretKey: string };
  return getPublicKey(hexToBytes(secrets.nodeSecretKey));
}

// RELIABILITY.md G2, T8 and G22 with real processes behind the chaos relay.
describe('relay faults (chaos tier)', () => {
  const dir = makeTempDir('chaos-relay');
  let relay: ChaosRelay;
  let lab: Lab;
  let client: Client;

  beforeAll(async () => {
    relay = await ChaosRelay.start();
    lab = await Lab.start({ root: dir.path, relays: [relay.url] });
    await lab.waitForQuorum();
    raiseNodeRateLimits(lab);
    client = await chaosClient(lab);
  });
  afterAll(async () => {
    await client?.close();
    await lab?.stop();
    await relay?.close();
    dir.remove();
  });

  it('G2: the relay restarted twice for 3 s during a stream → every request ends in a reply or a publish error; signing resumes with no process restarted', async () => {
    await goal('G2', 'single relay restart during a stream', '100 requests, concurrency 4, 2 restarts of 3 s (CI size)', async (figure) => {
      const before = pids(lab);
      const history = new History();
      let upAtMs = 0;
      const churn = (async () => {
        for (let cycle = 0; cycle < 2; cycle++) {
          await new Promise((resolve) => setTimeout(resolve, 4_000));
          await relay.kill();
          await new Promise((resolve) => setTimeout(resolve, 3_000));
          await relay.restart();
          upAtMs = performance.now();
        }
      })();
      await stream(100, 4, (i) => recordedSign(history, client, 'c1', note(`G2 ${i}`)));
      await churn;
      const check = history.check({ deadlineMs: 30_000, groupPubkey: lab.userPubkey, allowInfo: true });
      expect(check.violations).toEqual([]);
      // After the relay is back, with nothing restarted, a request signs (G2: sent ≥ 15 s after relay-up).
      const waitMs = Math.max(0, 15_000 - (performance.now() - upAtMs));
      await new Promise((resolve) => setTimeout(resolve, waitMs));
      const after = new History();
      const resumed = await recordedSign(after, client, 'c1', note('G2 after'));
      expect(resumed.ok, resumed.ok ? '' : resumed.error).toBe(true);
      expect(pids(lab)).toBe(before);
      const reasons = history.entries.filter((e) => e.type !== 'ok' && e.type !== 'invoke').map((e) => String(e.value).slice(0, 60));
      figure(`100 requests: ${check.oks} signed, ${check.fails} error replies, ${check.infos} client publish errors, 0 silent; signed after relay-up with the same pids; latency ${percentiles(check.okLatenciesMs)}`);
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
      await lab.waitForQuorum(20_000);
      raiseNodeRateLimits(lab);
      client = await chaosClient(lab);
      const history = new History();
      const result = await recordedSign(history, client, 'c1', note('G22'));
      expect(result.ok, result.ok ? '' : result.error).toBe(true);
      const elapsedMs = performance.now() - upAt;
      expect(elapsedMs).toBeLessThanOrEqual(20_000);
      figure(`first signature ${elapsedMs.toFixed(0)} ms after relay-up (asserted ≤ 20 s)`);
    });
  });
});
