import { afterEach, describe, expect, it } from 'vitest';
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import { EventUtils, type Event } from '@nostr-relay/common';
import { startLocalRelay, type LocalRelay } from '../src/relay/index.js';
import { openRawClient, type RawClient } from './helpers/raw-client.js';

const KIND_EPHEMERAL_TEST = 24134;
const KIND_TEXT_NOTE = 1;
const KIND_METADATA = 0;
const nowSec = () => Math.floor(Date.now() / 1000);
/** Drops nostr-tools' `verified` symbol so an event compares equal to its wire form. */
const wire = (event: object): unknown => JSON.parse(JSON.stringify(event));

// Taken before any relay in this file starts (vitest gives each file its own modules).
const pureJsIsSigValid = EventUtils.isSigValid;

const isOk = (eventId: string) => (frame: unknown[]) => frame[0] === 'OK' && frame[1] === eventId;
const isEose = (subscriptionId: string) => (frame: unknown[]) => frame[0] === 'EOSE' && frame[1] === subscriptionId;

describe('startLocalRelay', () => {
  const opened: Array<LocalRelay | RawClient> = [];
  const track = <T extends LocalRelay | RawClient>(x: T): T => {
    opened.push(x);
    return x;
  };
  afterEach(async () => {
    for (const x of opened.splice(0).reverse()) await x.close();
  });

  const secretKey = generateSecretKey();
  const sign = (kind: number, content: string, tags: string[][] = [], createdAt = nowSec()) =>
    finalizeEvent({ kind, content, tags, created_at: createdAt }, secretKey);

  it('binds 127.0.0.1 on a free port and reports the real port in its URL', async () => {
    const relay = track(await startLocalRelay());
    expect(relay.port).toBeGreaterThan(0);
    expect(relay.url).toBe(`ws://127.0.0.1:${relay.port}`);
  });

  it('refuses a non-loopback host unless allowPublic is set', async () => {
    await expect(startLocalRelay({ host: '0.0.0.0' })).rejects.toThrow(/non-loopback/);
  });

  it('accepts a valid event and answers OK false for a bad signature or a wrong id', async () => {
    const relay = track(await startLocalRelay());
    const client = track(await openRawClient(relay.url));
    const valid = sign(KIND_TEXT_NOTE, 'valid');
    client.send(['EVENT', valid]);
    expect(await client.next(isOk(valid.id))).toEqual(['OK', valid.id, true, '']);

    const otherSig = sign(KIND_TEXT_NOTE, 'other').sig;
    const forged = { ...sign(KIND_TEXT_NOTE, 'forged'), sig: otherSig };
    client.send(['EVENT', forged]);
    expect(await client.next(isOk(forged.id))).toEqual(['OK', forged.id, false, 'invalid: signature is wrong']);

    const tampered = { ...sign(KIND_TEXT_NOTE, 'original'), content: 'tampered' };
    client.send(['EVENT', tampered]);
    expect(await client.next(isOk(tampered.id))).toEqual(['OK', tampered.id, false, 'invalid: id is wrong']);
  });

  it('checks signatures with libsecp256k1 in WebAssembly, not the pure-JS default (issue 9)', async () => {
    track(await startLocalRelay());
    expect(EventUtils.isSigValid).not.toBe(pureJsIsSigValid);
    const valid = wire(sign(KIND_TEXT_NOTE, 'fast check')) as Event;
    expect(EventUtils.isSigValid(valid)).toBe(true);
    const flipped = `${valid.sig.slice(0, -1)}${valid.sig.endsWith('0') ? '1' : '0'}`;
    expect(EventUtils.isSigValid({ ...valid, sig: flipped })).toBe(false);
    expect(EventUtils.isSigValid({ ...valid, content: 'changed' })).toBe(false);
  });

  it('answers OK false, not silence, to a malformed EVENT whose id is readable', async () => {
    const relay = track(await startLocalRelay());
    const client = track(await openRawClient(relay.url));
    const event = { ...sign(KIND_TEXT_NOTE, 'x'), kind: -1 };
    client.send(['EVENT', event]);
    const ok = await client.next(isOk(event.id));
    expect(ok[2]).toBe(false);
  });

  it('forwards ephemeral events to live subscribers and serves them to a later REQ while retained, but not to limit 0', async () => {
    const relay = track(await startLocalRelay());
    const subscriber = track(await openRawClient(relay.url));
    const publisher = track(await openRawClient(relay.url));
    subscriber.send(['REQ', 'live', { kinds: [KIND_EPHEMERAL_TEST] }]);
    await subscriber.next(isEose('live'));
    const event = sign(KIND_EPHEMERAL_TEST, 'ephemeral');
    publisher.send(['EVENT', event]);
    await publisher.next(isOk(event.id));
    expect(await subscriber.next((f) => f[0] === 'EVENT')).toEqual(['EVENT', 'live', wire(event)]);

    const late = track(await openRawClient(relay.url));
    late.send(['REQ', 'late', { kinds: [KIND_EPHEMERAL_TEST], since: event.created_at }]);
    await late.next(isEose('late'));
    expect(late.frames).toEqual([['EVENT', 'late', wire(event)], ['EOSE', 'late']]);
    // NIP-01: limit 0 asks for no stored events (nostr-tools' BunkerSigner subscribes this way).
    late.send(['REQ', 'live-only', { kinds: [KIND_EPHEMERAL_TEST], limit: 0 }]);
    await late.next(isEose('live-only'));
    expect(late.frames.filter((f) => f[1] === 'live-only')).toEqual([['EOSE', 'live-only']]);
  });

  it('answers a retained ephemeral event sent again as a duplicate and does not forward it twice', async () => {
    const relay = track(await startLocalRelay());
    const subscriber = track(await openRawClient(relay.url));
    const publisher = track(await openRawClient(relay.url));
    subscriber.send(['REQ', 'live', { kinds: [KIND_EPHEMERAL_TEST] }]);
    await subscriber.next(isEose('live'));
    const event = sign(KIND_EPHEMERAL_TEST, 'once');
    publisher.send(['EVENT', event]);
    await publisher.next(isOk(event.id));
    publisher.frames.length = 0;
    publisher.send(['EVENT', event]);
    expect(await publisher.next(isOk(event.id))).toEqual(['OK', event.id, true, 'duplicate: already have this event']);
    const marker = sign(KIND_EPHEMERAL_TEST, 'marker');
    publisher.send(['EVENT', marker]);
    await subscriber.next((f) => f[0] === 'EVENT' && (f[2] as { id: string }).id === marker.id);
    expect(subscriber.frames.filter((f) => f[0] === 'EVENT').map((f) => (f[2] as { id: string }).id)).toEqual([event.id, marker.id]);
  });

  it('forwards ephemeral events to live subscribers only when retention is off', async () => {
    const relay = track(await startLocalRelay({ ephemeralRetention: false }));
    const publisher = track(await openRawClient(relay.url));
    const event = sign(KIND_EPHEMERAL_TEST, 'not kept');
    publisher.send(['EVENT', event]);
    await publisher.next(isOk(event.id));
    const late = track(await openRawClient(relay.url));
    late.send(['REQ', 'late', { kinds: [KIND_EPHEMERAL_TEST] }]);
    await late.next(isEose('late'));
    expect(late.frames).toEqual([['EOSE', 'late']]);
  });

  it('stores regular events, keeps only the newest replaceable one, and serves them to a later REQ', async () => {
    const relay = track(await startLocalRelay());
    const client = track(await openRawClient(relay.url));
    const note = sign(KIND_TEXT_NOTE, 'note');
    const olderProfile = sign(KIND_METADATA, '{"name":"old"}', [], nowSec() - 10);
    const newerProfile = sign(KIND_METADATA, '{"name":"new"}');
    for (const event of [note, newerProfile, olderProfile]) {
      client.send(['EVENT', event]);
      await client.next(isOk(event.id));
    }
    client.send(['REQ', 'stored', { authors: [getPublicKey(secretKey)] }]);
    await client.next(isEose('stored'));
    const events = client.frames.filter((f) => f[0] === 'EVENT').map((f) => (f[2] as { id: string }).id);
    expect(events.sort()).toEqual([note.id, newerProfile.id].sort());
  });

  it('honours #p filters on live events (core 0.0.40 ignores tag filters when broadcasting)', async () => {
    const relay = track(await startLocalRelay());
    const subscriber = track(await openRawClient(relay.url));
    const publisher = track(await openRawClient(relay.url));
    const me = getPublicKey(generateSecretKey());
    const someoneElse = getPublicKey(generateSecretKey());
    subscriber.send(['REQ', 'mine', { kinds: [KIND_EPHEMERAL_TEST], '#p': [me] }]);
    await subscriber.next(isEose('mine'));
    const notMine = sign(KIND_EPHEMERAL_TEST, 'not mine', [['p', someoneElse]]);
    const mine = sign(KIND_EPHEMERAL_TEST, 'mine', [['p', me]]);
    publisher.send(['EVENT', notMine]);
    await publisher.next(isOk(notMine.id));
    publisher.send(['EVENT', mine]);
    await publisher.next(isOk(mine.id));
    expect(await subscriber.next((f) => f[0] === 'EVENT')).toEqual(['EVENT', 'mine', wire(mine)]);
    expect(subscriber.frames.filter((f) => f[0] === 'EVENT')).toHaveLength(1);
  });

  it('delivers a live event once to each matching subscription of each client, and none after CLOSE (FanOut, issue 9)', async () => {
    const relay = track(await startLocalRelay());
    const [a, b, publisher] = [track(await openRawClient(relay.url)), track(await openRawClient(relay.url)), track(await openRawClient(relay.url))];
    const me = getPublicKey(generateSecretKey());
    a.send(['REQ', 'by-kind', { kinds: [KIND_EPHEMERAL_TEST] }]);
    a.send(['REQ', 'by-p', { '#p': [me] }, { kinds: [KIND_TEXT_NOTE] }]);
    a.send(['REQ', 'other-kind', { kinds: [KIND_TEXT_NOTE] }]);
    b.send(['REQ', 'by-p', { kinds: [KIND_EPHEMERAL_TEST], '#p': [me] }]);
    b.send(['REQ', 'closed', { kinds: [KIND_EPHEMERAL_TEST] }]);
    b.send(['CLOSE', 'closed']);
    await a.next(isEose('other-kind'));
    await b.next(isEose('by-p'));
    const event = sign(KIND_EPHEMERAL_TEST, 'to me', [['p', me]]);
    publisher.send(['EVENT', event]);
    await publisher.next(isOk(event.id));
    await a.next((f) => f[0] === 'EVENT' && f[1] === 'by-p');
    await b.next((f) => f[0] === 'EVENT' && f[1] === 'by-p');
    // The relay answers frames in order: a later frame's answer means the fan-out is over.
    a.send(['REQ', 'barrier', { ids: ['0'.repeat(64)] }]);
    b.send(['REQ', 'barrier', { ids: ['0'.repeat(64)] }]);
    await Promise.all([a.next(isEose('barrier')), b.next(isEose('barrier'))]);
    const events = (c: RawClient) => c.frames.filter((f) => f[0] === 'EVENT');
    expect(events(a).map((f) => f[1]).sort()).toEqual(['by-kind', 'by-p']);
    expect(events(b)).toEqual([['EVENT', 'by-p', wire(event)]]);
    expect(events(publisher)).toEqual([]);
  });

  it('frees its port on close so it can restart on the same port', async () => {
    const first = await startLocalRelay();
    const client = await openRawClient(first.url);
    await first.close();
    await client.close();
    const second = track(await startLocalRelay({ port: first.port }));
    expect(second.url).toBe(first.url);
  });
});
