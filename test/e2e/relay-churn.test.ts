import WebSocket from 'ws';
import NDK, { NDKEvent, NDKNip46Signer, NDKPrivateKeySigner, NDKRelayStatus, type NDKPool } from '@nostr-dev-kit/ndk';
import type { EventTemplate, Event } from 'nostr-tools/pure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '@frostbunker/deploy/lab';
import { withDeadline } from '../harness/bunker-client.js';
import { note, readyForChaos, recordedSign, scrape, type Client } from '../harness/chaos-lab.js';
import { ChaosRelay } from '../harness/chaos-relay.js';
import { History, type HistoryEntry } from '../harness/history.js';
import { formatTimes, pacedStream, resubscribeTimes } from '../harness/relay-resubscribe.js';
import { makeTempDir } from '../harness/tmp.js';

const KIND_NIP46 = 24133;
const REQUESTS = 150;
const CONCURRENCY = 8;
/** The stream is spread over this long so that both outages fall inside it. */
const RUN_MS = 20_000;
const OUTAGE_MS = 3_000;

interface NdkClient {
  signEvent(template: EventTemplate): Promise<Event>;
  close(): void;
}

/**
 * NDK's NIP-46 signer, kept alive across relay restarts the way an NDK app has to (INTEROP.md):
 * NDK 3.0.3 retries a dropped relay once, 1 s later, and never again if that fails; and after a
 * reconnect it does not send its REQs again. So: retry every relay of the signer's own pool every
 * 500 ms while it is down, and open the NIP-46 subscription again once it is back.
 */
async function connectChurnTolerantNdk(bunkerUrl: string, relayUrls: string[]): Promise<NdkClient> {
  (globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket as unknown;
  const ndk = new NDK({ explicitRelayUrls: relayUrls });
  await withDeadline(ndk.connect(5_000), 10_000, 'ndk connect');
  const localSigner = NDKPrivateKeySigner.generate();
  const localPubkey = (await localSigner.user()).pubkey;
  const signer = NDKNip46Signer.bunker(ndk, bunkerUrl, localSigner);
  await withDeadline(signer.blockUntilReady(), 20_000, 'ndk blockUntilReady');
  // The signer talks through a pool of its own, built from the bunker URL's relays (not exported).
  const rpcPool = (signer.rpc as unknown as { pool: NDKPool }).pool;
  const timers: NodeJS.Timeout[] = [];
  for (const relay of rpcPool.relays.values()) {
    let dropped = false;
    relay.on('disconnect', () => void (dropped = true));
    relay.on('ready', () => {
      if (!dropped) return;
      dropped = false;
      void signer.rpc.subscribe({ kinds: [KIND_NIP46], '#p': [localPubkey] });
    });
    timers.push(setInterval(() => {
      if (relay.status === NDKRelayStatus.DISCONNECTED) relay.connect().catch(() => {});
    }, 500));
  }
  return {
    async signEvent(template) {
      const event = new NDKEvent(ndk, { ...template, tags: template.tags });
      await event.sign(signer);
      return event.rawEvent() as Event;
    },
    close() {
      for (const timer of timers) clearInterval(timer);
      signer.stop();
      for (const relay of [...rpcPool.relays.values(), ...ndk.pool.relays.values()]) relay.disconnect();
    },
  };
}

/** p50/p95/p99 of the ok latencies of `entries`' operations invoked in [fromMs, toMs). */
function phaseLatencies(entries: readonly HistoryEntry[], fromMs: number, toMs: number): string {
  const invokedAt = new Map(entries.filter((e) => e.type === 'invoke').map((e) => [`${e.client}/${e.reqId}`, e.t]));
  const latencies = entries
    .filter((e) => e.type === 'ok')
    .map((e) => ({ at: invokedAt.get(`${e.client}/${e.reqId}`)!, ms: e.t - invokedAt.get(`${e.client}/${e.reqId}`)! }))
    .filter(({ at }) => at >= fromMs && at < toMs)
    .map(({ ms }) => ms)
    .sort((a, b) => a - b);
  if (latencies.length === 0) return 'n = 0';
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!.toFixed(0);
  return `n = ${latencies.length}, p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, p99 ${at(0.99)} ms`;
}

// RELIABILITY.md G1 (tier 1, CI size): relay churn, zero lost replies. 2-of-3 on relays R1 and R2
// (chaos relays: a fresh embedded relay behind a proxy, restarted on the same port), two real
// clients on both relays; R1 killed at 25 % of the run and R2 at 60 %, each back after 3 s.
describe('G1: relay churn with two relays and two real clients (real processes)', () => {
  const dir = makeTempDir('relay-churn');
  let r1: ChaosRelay;
  let r2: ChaosRelay;
  let lab: Lab;
  let nostrTools: Client;
  let ndk: NdkClient;
  let fileStartedMs = 0;

  beforeAll(async () => {
    fileStartedMs = performance.now();
    r1 = await ChaosRelay.start();
    r2 = await ChaosRelay.start();
    lab = await Lab.start({ root: dir.path, relays: [r1.url, r2.url] });
    nostrTools = await readyForChaos(lab);
    ndk = await connectChurnTolerantNdk(lab.newBunkerUrl(), lab.relayUrls);
  });
  afterAll(async () => {
    ndk?.close();
    await nostrTools?.close();
    await lab?.stop();
    await r1?.close();
    await r2?.close();
    dir.remove();
  });

  it('150 requests from nostr-tools and NDK while R1 and then R2 restart → every one signs within 30 s, valid, once, within the ROAST session bound', async () => {
    const sessionsBefore = await scrape(lab, /^frostbunker_signing_sessions_per_request_sum\{identity="default"\}/);
    const requestsBefore = await scrape(lab, /^frostbunker_signing_sessions_per_request_count\{identity="default"\}/);
    const history = new History();
    const historyStartMs = performance.now();
    const schedule: { relay: ChaosRelay; killAtMs: number; killedMs: number; upMs: number; upWallMs: number }[] = [
      { relay: r1, killAtMs: 0.25 * RUN_MS, killedMs: 0, upMs: 0, upWallMs: 0 },
      { relay: r2, killAtMs: 0.6 * RUN_MS, killedMs: 0, upMs: 0, upWallMs: 0 },
    ];
    const churn = (async () => {
      for (const outage of schedule) {
        await new Promise((resolve) => setTimeout(resolve, historyStartMs + outage.killAtMs - performance.now()));
        await outage.relay.kill();
        outage.killedMs = performance.now() - historyStartMs;
        await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
        await outage.relay.restart();
        outage.upMs = performance.now() - historyStartMs;
        outage.upWallMs = Date.now();
      }
    })();
    await pacedStream(REQUESTS, CONCURRENCY, RUN_MS / REQUESTS, async (i) => {
      const template = note(`G1 ${i}`);
      if (i % 2 === 0) return recordedSign(history, nostrTools, 'nostr-tools', template);
      return history.run('ndk', 'sign_event', template, () => withDeadline(ndk.signEvent(template), 30_000, 'sign_event'));
    });
    await churn;

    const check = history.check({ deadlineMs: 30_000, groupPubkey: lab.userPubkey });
    expect(check.violations).toEqual([]);
    expect(check.oks).toBe(REQUESTS);
    // Never both down, and both outages inside the stream.
    const [first, second] = schedule as [(typeof schedule)[0], (typeof schedule)[0]];
    expect(first.upMs).toBeLessThan(second.killedMs);
    expect(history.entries.filter((e) => e.type === 'invoke').at(-1)!.t).toBeGreaterThan(second.upMs);
    // ROAST bound: at most n − k + 1 = 2 sessions per request.
    const sessions = (await scrape(lab, /^frostbunker_signing_sessions_per_request_sum\{identity="default"\}/)) - sessionsBefore;
    const signRequests = (await scrape(lab, /^frostbunker_signing_sessions_per_request_count\{identity="default"\}/)) - requestsBefore;
    expect(signRequests).toBe(REQUESTS);
    expect(sessions).toBeGreaterThanOrEqual(REQUESTS);
    expect(sessions).toBeLessThanOrEqual(REQUESTS * 2);
    // Every component was back on each relay before the run ended (and so before the other outage).
    const resubscribed = schedule.map((outage) => resubscribeTimes(lab, outage.relay.url, outage.upWallMs));
    for (const times of resubscribed) expect([...times].filter(([, ms]) => ms === undefined)).toEqual([]);

    const lastUpMs = second.upMs;
    console.log(`[figure] G1: ${REQUESTS}/${REQUESTS} signed (nostr-tools ${history.entries.filter((e) => e.client === 'nostr-tools' && e.type === 'ok').length}, NDK ${history.entries.filter((e) => e.client === 'ndk' && e.type === 'ok').length}), valid under nostr-tools and noble with pubkey = x(Q) and untouched fields, 1 answer per request; ${sessions} signing sessions for ${signRequests} requests (bound ${REQUESTS * 2})`);
    console.log(`[figure] G1: R1 down ${(first.killedMs / 1000).toFixed(1)}–${(first.upMs / 1000).toFixed(1)} s, R2 down ${(second.killedMs / 1000).toFixed(1)}–${(second.upMs / 1000).toFixed(1)} s of a ${(RUN_MS / 1000).toFixed(0)} s stream at concurrency ${CONCURRENCY}`);
    console.log(`[figure] G1: latency before churn ${phaseLatencies(history.entries, 0, first.killedMs)}; during ${phaseLatencies(history.entries, first.killedMs, lastUpMs)}; after ${phaseLatencies(history.entries, lastUpMs, Infinity)}`);
    for (const [i, times] of resubscribed.entries()) console.log(`[figure] G1: R${i + 1} up → resubscribed: ${formatTimes(times)}`);
    // Answers later than the copy delay came from a reply published again after relay churn
    // (ReplyRedelivery): the client's subscription was not back when the first one went out.
    const slow = (client: string) => {
      const invokedAt = new Map(history.entries.filter((e) => e.type === 'invoke').map((e) => [e.reqId, e.t]));
      return history.entries.filter((e) => e.type === 'ok' && e.client === client && e.t - invokedAt.get(e.reqId)! > 10_000).length;
    };
    console.log(`[figure] G1: answered after > 10 s, by a reply copy once the client's subscription was back: nostr-tools ${slow('nostr-tools')}, NDK ${slow('ndk')}`);
    console.log(`[figure] G1: wall time ${((performance.now() - fileStartedMs) / 1000).toFixed(1)} s from lab start to the last answer`);
  });
});
