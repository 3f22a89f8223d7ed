import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { finalizeEvent, generateSecretKey, getEventHash, getPublicKey } from 'nostr-tools/pure';
import { startLocalRelay, type LocalRelay } from '../src/relay/index.js';
// The shared sources, not `@frostbunker/shared/transport`: that export points at dist/, which only
// exists after `tsc -b`; vitest runs the sources directly.
import { RelayPool, RelayTransport, type RelayPoolOptions } from '../../shared/src/transport/index.js';
import { KIND_FROSTBUNKER_NODE } from '../../shared/src/nostr/kinds.js';
import { initEventSigner } from '../../shared/src/nostr/event-signer.js';
import type { NostrEvent } from '../../shared/src/nostr/event.js';
import { xOnlyPubkeySchema, type XOnlyPubkey } from '../../shared/src/protocol/brands.js';
import {
  conformanceMessageSchema,
  runTransportConformance,
  sleep,
  waitFor,
  type ConformanceMessage,
} from '../../shared/test/transport/conformance.js';
import { freePort, openRawClient, startHostileRelay } from './helpers/raw-client.js';

const nowSec = () => Math.floor(Date.now() / 1000);

// As each main.ts does before it builds a pool or a transport.
beforeAll(() => initEventSigner());

interface Peer {
  readonly secretKey: Uint8Array;
  readonly pubkey: XOnlyPubkey;
  readonly pool: RelayPool;
  readonly transport: RelayTransport<ConformanceMessage>;
  /** Every event the transport handed to the pool, as signed. */
  readonly published: NostrEvent[];
}

interface PeerOptions {
  urls: string[];
  knows?: () => readonly XOnlyPubkey[];
  nowSec?: () => number;
  pool?: Partial<RelayPoolOptions>;
}

function createPeer(options: PeerOptions): Peer {
  const secretKey = generateSecretKey();
  const pool = new RelayPool({ urls: options.urls, publishTimeoutMs: 3_000, ...options.pool });
  const published: NostrEvent[] = [];
  const transport = new RelayTransport<ConformanceMessage>({
    secretKey,
    // Record what is published so tests can replay or tamper with real events.
    pool: {
      subscribe: (filters, onEvent, subscribeOptions) => pool.subscribe(filters, onEvent, subscribeOptions),
      publish: (event) => {
        published.push(event);
        return pool.publish(event);
      },
    },
    kind: KIND_FROSTBUNKER_NODE,
    schema: conformanceMessageSchema,
    isKnownSender: (pubkey) => (options.knows?.() ?? []).includes(pubkey),
    ...(options.nowSec ? { nowSec: options.nowSec } : {}),
  });
  return { secretKey, pubkey: xOnlyPubkeySchema.parse(getPublicKey(secretKey)), pool, transport, published };
}

/** Every relay of every pool connected and every subscription confirmed by EOSE. */
async function waitUntilLive(pools: RelayPool[], timeoutMs = 10_000): Promise<void> {
  await waitFor(
    'pools connected and subscribed',
    () => pools.every((pool) => pool.health().every((h) => h.connected && h.liveSubscriptions >= 1)),
    timeoutMs,
  );
}

// Two relays: every message reaches bob twice (once per relay), which is the realistic duplicate.
runTransportConformance('relay (RelayTransport over two local relays)', async () => {
  const relays = [await startLocalRelay(), await startLocalRelay()];
  const urls = relays.map((r) => r.url);
  const peers: { alice?: Peer; bob?: Peer } = {};
  const alice = createPeer({ urls, knows: () => (peers.bob ? [peers.bob.pubkey] : []) });
  const bob = createPeer({ urls, knows: () => [alice.pubkey] });
  const stranger = createPeer({ urls });
  Object.assign(peers, { alice, bob });
  const all = [alice, bob, stranger];
  await waitUntilLive(all.map((p) => p.pool));
  return {
    alice: alice.transport,
    bob: bob.transport,
    stranger: stranger.transport,
    duplicateEverything: () => {},
    duplicatesObserved: () => bob.pool.counters().duplicateEvent,
    close: async () => {
      await Promise.all(all.map((p) => p.transport.close()));
      await Promise.all(all.map((p) => p.pool.close()));
      await Promise.all(relays.map((r) => r.close()));
    },
    assertReleased: () => {
      for (const peer of all) {
        expect(peer.pool.health().some((h) => h.connected)).toBe(false);
        expect(() => peer.pool.subscribe([], () => {})).toThrow(/closed/);
      }
    },
  };
});

describe('RelayTransport over real and hostile relays', { timeout: 15_000 }, () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  const later = <T extends { close(): Promise<unknown> }>(x: T): T => {
    cleanups.push(() => x.close());
    return x;
  };
  const peerLater = (peer: Peer): Peer => {
    cleanups.push(async () => {
      await peer.transport.close();
      await peer.pool.close();
    });
    return peer;
  };
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** alice knows bob and bob knows alice; bob collects what he receives. */
  function pairOn(urls: string[], extra: { aliceNowSec?: () => number; pool?: Partial<RelayPoolOptions> } = {}) {
    let bobPubkey: XOnlyPubkey | undefined;
    const alice = peerLater(
      createPeer({
        urls,
        knows: () => (bobPubkey ? [bobPubkey] : []),
        ...(extra.aliceNowSec ? { nowSec: extra.aliceNowSec } : {}),
        ...(extra.pool ? { pool: extra.pool } : {}),
      }),
    );
    const bob = peerLater(createPeer({ urls, knows: () => [alice.pubkey], ...(extra.pool ? { pool: extra.pool } : {}) }));
    bobPubkey = bob.pubkey;
    const inbox: string[] = [];
    bob.transport.onMessage((r) => inbox.push(r.message.text));
    return { alice, bob, inbox };
  }

  it('never delivers a forged event: the local relay refuses it, and a hostile relay forwarding it gets it counted as bad_sig', async () => {
    const relay = later(await startLocalRelay());
    const hostile = later(await startHostileRelay());
    const { alice, bob, inbox } = pairOn([relay.url, hostile.url]);
    await waitUntilLive([alice.pool, bob.pool]);

    await alice.transport.send(bob.pubkey, { v: 1, text: 'genuine' });
    await waitFor('genuine message', () => inbox.includes('genuine'));
    const genuine = alice.published[0];
    if (genuine === undefined) throw new Error('nothing published');
    // Re-dated, with a correct id but alice's old signature; and a copy with an invented id.
    const redated = { ...(JSON.parse(JSON.stringify(genuine)) as NostrEvent), created_at: genuine.created_at + 1 };
    const forged = { ...redated, id: getEventHash(redated) };
    const forgedId = { ...redated, id: 'f'.repeat(64) };

    const raw = later(await openRawClient(relay.url));
    raw.send(['EVENT', forged]);
    raw.send(['EVENT', forgedId]);
    expect((await raw.next((f) => f[0] === 'OK' && f[1] === forged.id)).slice(2)).toEqual([
      false,
      'invalid: signature is wrong',
    ]);
    expect((await raw.next((f) => f[0] === 'OK' && f[1] === forgedId.id)).slice(2)).toEqual([
      false,
      'invalid: id is wrong',
    ]);

    hostile.inject(forged);
    hostile.inject(forgedId);
    await waitFor('two bad_sig drops', () => bob.transport.dropped().bad_sig === 2);
    await alice.transport.send(bob.pubkey, { v: 1, text: 'barrier' });
    await waitFor('barrier', () => inbox.includes('barrier'));
    expect(inbox).toEqual(['genuine', 'barrier']);
    expect(bob.pool.counters().invalidSignature).toBe(2);
  });

  it('drops a replayed event with created_at −120 s as stale (the local relay already filters it by since)', async () => {
    const relay = later(await startLocalRelay());
    const hostile = later(await startHostileRelay());
    const { alice, bob, inbox } = pairOn([relay.url, hostile.url], { aliceNowSec: () => nowSec() - 120 });
    await waitUntilLive([alice.pool, bob.pool]);
    await alice.transport.send(bob.pubkey, { v: 1, text: 'from the past' });
    // Via the hostile relay, which ignores `since`, the event reaches bob's transport and is dropped.
    await waitFor('stale drop', () => bob.transport.dropped().stale === 1);
    await sleep(200);
    expect(inbox).toEqual([]);
    expect(bob.transport.dropped()).toEqual({ stale: 1 });
    // One copy only reached bob's pool: the local relay did not forward an event older than `since`.
    expect(bob.pool.counters().duplicateEvent).toBe(0);
  });

  it('drops an event p-tagged to someone else as not_for_us (hostile relay ignores #p)', async () => {
    const hostile = later(await startHostileRelay());
    const { alice, bob, inbox } = pairOn([hostile.url]);
    await waitUntilLive([alice.pool, bob.pool]);
    const carol = xOnlyPubkeySchema.parse(getPublicKey(generateSecretKey()));
    await alice.transport.send(carol, { v: 1, text: 'for carol' });
    await waitFor('not_for_us drop', () => bob.transport.dropped().not_for_us === 1);
    expect(inbox).toEqual([]);
  });

  it('reconnects and resubscribes after the relay is killed and restarted on the same port', async () => {
    const first = await startLocalRelay();
    let relay: LocalRelay = first;
    cleanups.push(() => relay.close());
    const { alice, bob, inbox } = pairOn([first.url]);
    await waitUntilLive([alice.pool, bob.pool]);
    await alice.transport.send(bob.pubkey, { v: 1, text: 'before restart' });
    await waitFor('first message', () => inbox.length === 1);

    await first.close();
    await waitFor('both pools to notice', () => [alice.pool, bob.pool].every((p) => !p.health()[0]?.connected));
    await sleep(300);
    relay = await startLocalRelay({ port: first.port });
    const restartedAt = Date.now();
    await waitUntilLive([alice.pool, bob.pool]);
    const resubscribedMs = Date.now() - restartedAt;
    console.log(`[relay restart] relay-up → both pools reconnected and resubscribed (EOSE) in ${resubscribedMs} ms`);

    await alice.transport.send(bob.pubkey, { v: 1, text: 'after restart' });
    await waitFor('message after restart', () => inbox.length === 2);
    console.log(`[relay restart] relay-up → first message delivered in ${Date.now() - restartedAt} ms`);
    expect(inbox).toEqual(['before restart', 'after restart']);
    expect(bob.pool.health()[0]).toMatchObject({ connected: true, reconnects: 1 });
  });

  it('connects once the relay appears when the pool started before it existed (G22)', async () => {
    const port = await freePort();
    const url = `ws://127.0.0.1:${port}`;
    const { alice, bob, inbox } = pairOn([url], { pool: { backoffMs: { initial: 200, max: 1_000 } } });
    await sleep(700);
    expect(bob.pool.health()[0]).toMatchObject({ connected: false });
    expect(bob.pool.health()[0]?.lastError).toMatch(/ECONNREFUSED/);
    const relay = later(await startLocalRelay({ port }));
    const upAt = Date.now();
    await waitUntilLive([alice.pool, bob.pool]);
    console.log(`[cold start] relay-up → pools connected and subscribed in ${Date.now() - upAt} ms`);
    await alice.transport.send(bob.pubkey, { v: 1, text: 'hello late relay' });
    await waitFor('delivery', () => inbox.length === 1);
    expect(relay.url).toBe(url);
  });

  it('rejects a publish with no relay up within the timeout, naming each relay and why', async () => {
    const urls = [`ws://127.0.0.1:${await freePort()}`, `ws://127.0.0.1:${await freePort()}`];
    const { alice, bob } = pairOn(urls, { pool: { publishTimeoutMs: 1_000, backoffMs: { initial: 200, max: 400 } } });
    const startedAt = Date.now();
    const error = await alice.transport.send(bob.pubkey, { v: 1, text: 'into the void' }).then(
      () => null,
      (e: unknown) => e,
    );
    const elapsedMs = Date.now() - startedAt;
    expect(error).toMatchObject({ name: 'PublishError', code: 'TIMEOUT' });
    const message = (error as Error).message;
    for (const url of urls) expect(message).toContain(`${url}: not connected`);
    expect(elapsedMs).toBeLessThan(5_000);
    console.log(`[no relay] publish rejected after ${elapsedMs} ms: ${message}`);
  });

  it('keeps messages flowing through the second relay while the first is down', async () => {
    const down = await startLocalRelay();
    const up = later(await startLocalRelay());
    const { alice, bob, inbox } = pairOn([down.url, up.url]);
    await waitUntilLive([alice.pool, bob.pool]);
    await down.close();
    await waitFor('first relay seen down', () => !alice.pool.health()[0]?.connected && !bob.pool.health()[0]?.connected);
    for (const text of ['one', 'two', 'three']) await alice.transport.send(bob.pubkey, { v: 1, text });
    await waitFor('three messages', () => inbox.length === 3);
    expect(inbox).toEqual(['one', 'two', 'three']);
    const [downHealth, upHealth] = alice.pool.health();
    expect(downHealth).toMatchObject({ url: down.url, connected: false });
    expect(downHealth?.lastError).toBeTruthy();
    expect(upHealth).toMatchObject({ url: up.url, connected: true, liveSubscriptions: 1 });
  });

  it('publish resolves on the first OK with the accepting relay named', async () => {
    const relay = later(await startLocalRelay());
    const pool = later(new RelayPool({ urls: [relay.url] }));
    const event = finalizeEvent({ kind: KIND_FROSTBUNKER_NODE, content: 'x', tags: [], created_at: nowSec() }, generateSecretKey());
    await expect(pool.publish(event)).resolves.toEqual({ acceptedBy: [relay.url], rejected: [] });
  });
});

