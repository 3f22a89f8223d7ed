import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import { startLocalRelay } from '../src/relay/index.js';
import { RelayPool } from '../../shared/src/transport/index.js';
import type { NostrEvent } from '../../shared/src/nostr/event.js';
import { KIND_FROSTBUNKER_NODE, KIND_NIP46 } from '../../shared/src/nostr/kinds.js';
import { initEventSigner } from '../../shared/src/nostr/event-signer.js';
import { sleep, waitFor } from '../../shared/test/transport/conformance.js';
import { freePort, openRawClient, startHostileRelay } from './helpers/raw-client.js';

const nowSec = () => Math.floor(Date.now() / 1000);

// As each main.ts does before it builds a pool.
beforeAll(() => initEventSigner());
const signed = (content: string) =>
  finalizeEvent({ kind: KIND_FROSTBUNKER_NODE, content, tags: [], created_at: nowSec() }, generateSecretKey());
const PROBE_TAG = 'frostbunker-probe';

describe('RelayPool', { timeout: 15_000 }, () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  const later = <T extends { close(): Promise<unknown> }>(x: T): T => {
    cleanups.push(() => x.close());
    return x;
  };
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('resubscribes after a relay sends CLOSED, and reports the reason in health()', async () => {
    const hostile = later(await startHostileRelay({ closeFirstReqWith: 'error: shutting down subscription' }));
    const pool = later(new RelayPool({ urls: [hostile.url], backoffMs: { initial: 100, max: 400 } }));
    const received: NostrEvent[] = [];
    pool.subscribe([{ kinds: [KIND_FROSTBUNKER_NODE] }], (event) => received.push(event));
    await waitFor('resubscribed', () => pool.health()[0]?.liveSubscriptions === 1);
    expect(pool.health()[0]?.lastRejection).toBe('error: shutting down subscription');
    const event = signed('after CLOSED');
    hostile.inject(event);
    await waitFor('event', () => received.length === 1);
    expect(received[0]?.id).toBe(event.id);
  });

  it('drops the connection on a frame over maxFrameBytes, delivers nothing from it, and reconnects', async () => {
    const hostile = later(await startHostileRelay());
    const pool = later(
      new RelayPool({ urls: [hostile.url], maxFrameBytes: 16 * 1024, backoffMs: { initial: 100, max: 400 } }),
    );
    const received: string[] = [];
    pool.subscribe([{ kinds: [KIND_FROSTBUNKER_NODE] }], (event) => received.push(event.content));
    await waitFor('subscribed', () => pool.health()[0]?.liveSubscriptions === 1);
    hostile.inject(signed('x'.repeat(32 * 1024)));
    await waitFor('reconnected after the oversize frame', () => {
      const health = pool.health()[0];
      return health?.reconnects === 1 && health.liveSubscriptions === 1;
    });
    hostile.inject(signed('small'));
    await waitFor('small event', () => received.length === 1);
    expect(received).toEqual(['small']);
  });

  it('keeps a healthy connection up across dead-socket pings', async () => {
    const relay = later(await startLocalRelay());
    const pool = later(new RelayPool({ urls: [relay.url], pingIntervalMs: 50 }));
    await pool.waitUntilConnected(2_000);
    await sleep(400);
    expect(pool.health()[0]).toMatchObject({ connected: true, reconnects: 0, lastError: null });
  });

  it('waitUntilConnected rejects with TIMEOUT while nothing listens, then resolves once a relay appears', async () => {
    const port = await freePort();
    const pool = later(new RelayPool({ urls: [`ws://127.0.0.1:${port}`], backoffMs: { initial: 100, max: 200 } }));
    await expect(pool.waitUntilConnected(300)).rejects.toMatchObject({ code: 'TIMEOUT' });
    const waiting = pool.waitUntilConnected(5_000);
    later(await startLocalRelay({ port }));
    await expect(waiting).resolves.toBeUndefined();
  });

  it('sends a publish made while disconnected once a relay connects within the timeout', async () => {
    const port = await freePort();
    const pool = later(
      new RelayPool({ urls: [`ws://127.0.0.1:${port}`], backoffMs: { initial: 100, max: 200 }, publishTimeoutMs: 5_000 }),
    );
    const event = signed('queued');
    const publishing = pool.publish(event);
    await sleep(300);
    const relay = later(await startLocalRelay({ port }));
    await expect(publishing).resolves.toEqual({ acceptedBy: [relay.url], rejected: [] });
  });

  it('rejects with PROTOCOL_INVALID when every relay refuses the event', async () => {
    const relay = later(await startLocalRelay());
    const pool = later(new RelayPool({ urls: [relay.url] }));
    const event = { ...signed('tampered'), content: 'changed after signing' };
    await expect(pool.publish(event)).rejects.toMatchObject({
      name: 'PublishError',
      code: 'PROTOCOL_INVALID',
      rejected: [{ url: relay.url, reason: 'invalid: id is wrong' }],
    });
    expect(pool.health()[0]?.lastRejection).toBe('invalid: id is wrong');
  });

  it('catches an event published after a relay restart but before its own resubscription (the relay retains ephemeral events)', async () => {
    const first = await startLocalRelay();
    const port = first.port;
    // A slow first retry, so the publish below lands in the gap for certain.
    const pool = later(new RelayPool({ urls: [first.url], backoffMs: { initial: 1_000, max: 1_000 }, probeIntervalMs: 0 }));
    const me = getPublicKey(generateSecretKey());
    const received: string[] = [];
    pool.subscribe(() => [{ kinds: [KIND_NIP46], '#p': [me], since: nowSec() - 60 }], (event) => received.push(event.content));
    await waitFor('subscribed', () => pool.health()[0]?.liveSubscriptions === 1);
    await first.close();
    const relay = later(await startLocalRelay({ port }));
    const publisher = later(await openRawClient(relay.url));
    const gap = finalizeEvent({ kind: KIND_NIP46, content: 'sent in the gap', tags: [['p', me]], created_at: nowSec() }, generateSecretKey());
    publisher.send(['EVENT', gap]);
    await publisher.next((frame) => frame[0] === 'OK' && frame[1] === gap.id);
    expect(pool.health()[0]?.connected).toBe(false);
    await waitFor('resubscribed and caught up', () => received.length === 1, 5_000);
    expect(received).toEqual(['sent in the gap']);
  });

  it('with liveOnlyAtStart: nothing the relay kept from before the start, new events at once, and the gap after a reconnect', async () => {
    const first = await startLocalRelay();
    const port = first.port;
    const me = getPublicKey(generateSecretKey());
    const event = (content: string) => finalizeEvent({ kind: KIND_NIP46, content, tags: [['p', me]], created_at: nowSec() }, generateSecretKey());
    const publish = async (url: string, e: NostrEvent) => {
      const publisher = await openRawClient(url);
      publisher.send(['EVENT', e]);
      await publisher.next((frame) => frame[0] === 'OK' && frame[1] === e.id);
      await publisher.close();
    };
    await publish(first.url, event('from before the start'));
    const pool = later(new RelayPool({ urls: [first.url], backoffMs: { initial: 1_000, max: 1_000 }, probeIntervalMs: 0 }));
    const received: string[] = [];
    pool.subscribe(() => [{ kinds: [KIND_NIP46], '#p': [me], since: nowSec() - 60 }], (e) => received.push(e.content), { liveOnlyAtStart: true });
    await waitFor('subscribed', () => pool.health()[0]?.liveSubscriptions === 1);
    await publish(first.url, event('live'));
    await waitFor('live event', () => received.length === 1);
    // A restart in which an event lands before the pool is back: the reconnect's REQ asks for history.
    await first.close();
    const relay = later(await startLocalRelay({ port }));
    await publish(relay.url, event('sent in the gap'));
    await waitFor('resubscribed and caught up', () => received.length === 2, 5_000);
    expect(received).toEqual(['live', 'sent in the gap']);
  });

  it('marks a relay that stops delivering as degraded, reconnects, and clears it once a probe comes back', async () => {
    const hostile = later(await startHostileRelay({ deafFirstConnection: true }));
    const logs: string[] = [];
    const pool = later(
      new RelayPool({
        urls: [hostile.url],
        backoffMs: { initial: 100, max: 400 },
        probeIntervalMs: 300,
        logger: (_level, msg) => logs.push(msg),
      }),
    );
    const me = getPublicKey(generateSecretKey());
    const received: NostrEvent[] = [];
    pool.subscribe([{ kinds: [KIND_NIP46], '#p': [me] }], (event) => received.push(event));
    await waitFor('degraded', () => pool.health()[0]?.degraded === true, 3_000);
    expect(pool.health()[0]?.probeMisses).toBe(1);
    await waitFor('delivering again', () => {
      const health = pool.health()[0];
      return health?.degraded === false && health.reconnects === 1 && health.liveSubscriptions === 1;
    }, 3_000);
    expect(logs).toEqual(expect.arrayContaining(['relay subscription probe missed; reconnecting', 'relay subscriptions live', 'relay delivers again (subscription probe answered)']));
    const event = signed('after the reconnect');
    hostile.inject(event);
    await waitFor('event', () => received.length === 1);
    // Probes never reach the subscriber, and a healthy relay accrues no further misses.
    await sleep(700);
    expect(received.map((e) => e.id)).toEqual([event.id]);
    expect(pool.health()[0]).toMatchObject({ degraded: false, probeMisses: 1, reconnects: 1 });
  });

  it('does not count a probe the relay refuses as a miss, and drops foreign probes before any handler', async () => {
    const refuseProbes = {
      beforeHandleEvent: (event: { tags: string[][] }) =>
        event.tags.some((t) => t[0] === PROBE_TAG) ? { canHandle: false, message: 'blocked: no probes here' } : { canHandle: true },
    };
    const relay = later(await startLocalRelay({ plugins: [refuseProbes] }));
    const pool = later(new RelayPool({ urls: [relay.url], probeIntervalMs: 200 }));
    const me = getPublicKey(generateSecretKey());
    const received: string[] = [];
    pool.subscribe([{ kinds: [KIND_NIP46], '#p': [me] }], (event) => received.push(event.content));
    await waitFor('subscribed', () => pool.health()[0]?.liveSubscriptions === 1);
    await sleep(900);
    expect(pool.health()[0]).toMatchObject({ degraded: false, probeMisses: 0, reconnects: 0, lastRejection: 'blocked: no probes here' });
    const hostile = later(await startHostileRelay());
    const other = later(new RelayPool({ urls: [hostile.url], probeIntervalMs: 0 }));
    const seen: string[] = [];
    other.subscribe([{ kinds: [KIND_NIP46] }], (event) => seen.push(event.content));
    await waitFor('subscribed', () => other.health()[0]?.liveSubscriptions === 1);
    const foreign = finalizeEvent({ kind: KIND_NIP46, content: 'probe of another process', tags: [[PROBE_TAG, '00']], created_at: nowSec() }, generateSecretKey());
    const real = finalizeEvent({ kind: KIND_NIP46, content: 'real', tags: [], created_at: nowSec() }, generateSecretKey());
    hostile.inject(foreign);
    hostile.inject(real);
    await waitFor('real event', () => seen.length === 1);
    expect(seen).toEqual(['real']);
    expect(other.counters()).toMatchObject({ invalidSignature: 0, duplicateEvent: 0 });
  });

  it('close() rejects pending work and stops reconnecting', async () => {
    const port = await freePort();
    const pool = new RelayPool({ urls: [`ws://127.0.0.1:${port}`], backoffMs: { initial: 50, max: 50 } });
    const publishing = pool.publish(signed('never'));
    const waiting = pool.waitUntilConnected(5_000);
    await pool.close();
    await expect(publishing).rejects.toThrow(/closed/);
    await expect(waiting).rejects.toThrow(/closed/);
    const relay = later(await startLocalRelay({ port }));
    await sleep(300);
    expect(pool.health()[0]?.connected).toBe(false);
    expect(relay.port).toBe(port);
  });
});
