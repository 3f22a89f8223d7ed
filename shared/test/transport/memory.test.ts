import { describe, expect, it } from 'vitest';
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import { xOnlyPubkeySchema, type XOnlyPubkey } from '../../src/protocol/brands.js';
import { createMemoryNetwork } from '../../src/transport/memory.js';
import {
  conformanceMessageSchema,
  runTransportConformance,
  sleep,
  waitFor,
  type ConformanceMessage,
} from './conformance.js';

const newPubkey = (): XOnlyPubkey => xOnlyPubkeySchema.parse(getPublicKey(generateSecretKey()));

runTransportConformance('memory', async () => {
  const network = createMemoryNetwork();
  const alicePubkey = newPubkey();
  const bobSecretKey = generateSecretKey();
  const bobPubkey = xOnlyPubkeySchema.parse(getPublicKey(bobSecretKey));
  const alice = network.transport({
    pubkey: alicePubkey,
    schema: conformanceMessageSchema,
    isKnownSender: (p) => p === bobPubkey,
  });
  // bob by secret key, alice by pubkey: both identity forms are exercised.
  const bob = network.transport({
    secretKey: bobSecretKey,
    schema: conformanceMessageSchema,
    isKnownSender: (p) => p === alicePubkey,
  });
  const stranger = network.transport({ pubkey: newPubkey(), schema: conformanceMessageSchema, isKnownSender: () => true });
  const transports = [alice, bob, stranger];
  return {
    alice,
    bob,
    stranger,
    duplicateEverything: () => network.setFault({ duplicate: () => true }),
    duplicatesObserved: () => network.stats().duplicatedByFault,
    close: async () => {
      await Promise.all(transports.map((t) => t.close()));
    },
    assertReleased: () => {
      expect(network.stats().attached).toBe(0);
    },
  };
});

describe('memory transport specifics', () => {
  const makeTwo = (nowSec?: { alice?: () => number; bob?: () => number }) => {
    const network = createMemoryNetwork();
    const alicePubkey = newPubkey();
    const bobPubkey = newPubkey();
    const alice = network.transport<ConformanceMessage>({
      pubkey: alicePubkey,
      schema: conformanceMessageSchema,
      isKnownSender: () => true,
      ...(nowSec?.alice ? { nowSec: nowSec.alice } : {}),
    });
    const bob = network.transport<ConformanceMessage>({
      pubkey: bobPubkey,
      schema: conformanceMessageSchema,
      isKnownSender: () => true,
      ...(nowSec?.bob ? { nowSec: nowSec.bob } : {}),
    });
    const inbox: string[] = [];
    bob.onMessage((r) => inbox.push(r.message.text));
    return { network, alice, bob, inbox };
  };

  it('drops what the drop fault selects and delivers the rest', async () => {
    const { network, alice, bob, inbox } = makeTwo();
    network.setFault({ drop: (_from, _to, message) => (message as ConformanceMessage).text.startsWith('lost') });
    for (const text of ['lost-1', 'kept-1', 'lost-2', 'kept-2']) await alice.send(bob.selfPubkey, { v: 1, text });
    await waitFor('kept messages', () => inbox.length === 2);
    await sleep(20);
    expect(inbox).toEqual(['kept-1', 'kept-2']);
    expect(network.stats()).toMatchObject({ sent: 4, droppedByFault: 2 });
  });

  it('counts a duplicated message as `duplicate` at the receiver', async () => {
    const { network, alice, bob, inbox } = makeTwo();
    network.setFault({ duplicate: () => true });
    await alice.send(bob.selfPubkey, { v: 1, text: 'twice' });
    await waitFor('duplicate drop', () => bob.dropped().duplicate === 1);
    expect(inbox).toEqual(['twice']);
  });

  it('drops a message outside the ±60 s window as `stale` (sender clock −120 s)', async () => {
    const { alice, bob, inbox } = makeTwo({ alice: () => Math.floor(Date.now() / 1000) - 120 });
    await alice.send(bob.selfPubkey, { v: 1, text: 'old' });
    await waitFor('stale drop', () => bob.dropped().stale === 1);
    expect(inbox).toEqual([]);
  });

  it('delivers asynchronously, never inside send()', async () => {
    const { alice, bob, inbox } = makeTwo();
    const sent = alice.send(bob.selfPubkey, { v: 1, text: 'later' });
    expect(inbox).toEqual([]);
    await sent;
    await waitFor('delivery', () => inbox.length === 1);
  });
});
