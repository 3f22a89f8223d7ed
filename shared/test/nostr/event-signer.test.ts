import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as pure from 'nostr-tools/pure';
import { hexToBytes } from '../../src/crypto/bytes.js';
import { computeEventId } from '../../src/crypto/event-id.js';
import { verifySchnorr } from '../../src/crypto/schnorr.js';
import type { NostrEvent } from '../../src/nostr/event.js';
import {
  finalizeEvent,
  initEventSigner,
  isEventSignerReady,
  verifyEvent,
  type EventTemplate,
} from '../../src/nostr/event-signer.js';
import { RelayPool } from '../../src/transport/relay-pool.js';
import { readVectorText } from '../crypto/vectors.js';

// The transport's event signer (libsecp256k1 in WebAssembly), held against nostr-tools' pure-JS
// signer, which is noble, whose BIP-340 verifier runs the vendored vectors (crypto/bip340).

const template = (content = 'hello', overrides: Partial<EventTemplate> = {}): EventTemplate => ({
  kind: 24134,
  created_at: 1_700_000_000,
  tags: [['p', 'dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659']],
  content,
  ...overrides,
});
/** A fresh plain object, as the relay pool hands on after parsing a frame. */
const wire = (event: NostrEvent): NostrEvent => JSON.parse(JSON.stringify(event)) as NostrEvent;
const withPubkey = (event: NostrEvent, pubkey: string): NostrEvent => ({ ...event, pubkey, id: computeEventId({ ...event, pubkey }) });
const flipLastNibble = (hex: string): string => `${hex.slice(0, -1)}${hex.endsWith('0') ? '1' : '0'}`;

describe('event signer before initEventSigner()', () => {
  it('throws an error that names the fix, for signing, verifying and a default RelayPool', () => {
    // Runs first in this file: vitest gives each test file its own module state.
    expect(isEventSignerReady()).toBe(false);
    const signed = pure.finalizeEvent(template(), pure.generateSecretKey());
    expect(() => verifyEvent(wire(signed))).toThrow(/initEventSigner/);
    expect(() => finalizeEvent(template(), pure.generateSecretKey())).toThrow(/initEventSigner/);
    expect(() => new RelayPool({ urls: ['ws://127.0.0.1:9'] })).toThrow(/initEventSigner/);
  });
});

describe('event signer (libsecp256k1, WebAssembly)', () => {
  beforeAll(async () => {
    await Promise.all([initEventSigner(), initEventSigner()]);
  });

  it('is ready after initEventSigner(), which can be called again', async () => {
    await initEventSigner();
    expect(isEventSignerReady()).toBe(true);
  });

  it('signs events that nostr-tools verifies, and verifies events nostr-tools signs (property)', () => {
    const tag = fc.array(fc.string({ maxLength: 40 }), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(
        fc.record({
          kind: fc.integer({ min: 0, max: 65_535 }),
          created_at: fc.integer({ min: 0, max: 2 ** 32 }),
          tags: fc.array(tag, { maxLength: 4 }),
          content: fc.string({ unit: 'grapheme', maxLength: 200 }),
        }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }).filter((bytes) => bytes.some((b) => b !== 0)),
        (fields, secretKey) => {
          const ours = finalizeEvent(fields, secretKey);
          expect(ours.pubkey).toBe(pure.getPublicKey(secretKey));
          expect(pure.verifyEvent(wire(ours))).toBe(true);
          expect(verifyEvent(wire(ours))).toBe(true);
          const theirs = pure.finalizeEvent({ ...fields, tags: fields.tags.map((t) => [...t]) }, secretKey);
          expect(theirs.id).toBe(ours.id);
          expect(verifyEvent(wire(theirs))).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('signs with the BIP-340 vector secret keys under their public keys, verifiable by noble', () => {
    // test-vectors.csv: index,secret key,public key,aux_rand,message,signature,result,comment
    const rowsWithKeys = readVectorText('bip340/test-vectors.csv')
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(','))
      .filter((cells) => (cells[1] ?? '') !== '');
    expect(rowsWithKeys).toHaveLength(8);
    for (const [, secretKey, publicKey] of rowsWithKeys) {
      const event = finalizeEvent(template(), hexToBytes((secretKey ?? '').toLowerCase()));
      expect(event.pubkey).toBe((publicKey ?? '').toLowerCase());
      expect(verifySchnorr(hexToBytes(event.sig), hexToBytes(event.id), hexToBytes(event.pubkey))).toBe(true);
    }
  });

  it('uses fresh randomness: the same event signed twice gets two signatures, both valid', () => {
    const secretKey = pure.generateSecretKey();
    const first = finalizeEvent(template(), secretKey);
    const second = finalizeEvent(template(), secretKey);
    expect(first.id).toBe(second.id);
    expect(first.sig).not.toBe(second.sig);
    expect(verifyEvent(wire(first)) && verifyEvent(wire(second))).toBe(true);
  });

  it('leaves the template untouched', () => {
    const fields = template();
    const copy = structuredClone(fields);
    finalizeEvent(fields, pure.generateSecretKey());
    expect(fields).toEqual(copy);
  });

  it('refuses secret keys outside [1, n-1] and templates that are not NIP-01 shaped', () => {
    const n = hexToBytes('fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141');
    const nMinusOne = n.slice();
    nMinusOne[31] = 0x40;
    for (const bad of [new Uint8Array(32), n, Uint8Array.from({ length: 32 }, () => 0xff), new Uint8Array(31)]) {
      expect(() => finalizeEvent(template(), bad)).toThrow(TypeError);
    }
    expect(verifyEvent(wire(finalizeEvent(template(), nMinusOne)))).toBe(true);
    const secretKey = pure.generateSecretKey();
    for (const bad of [{ kind: 1.5 }, { created_at: Number.NaN }, { content: 7 }, { tags: [['p', 1]] }, { tags: 'p' }]) {
      expect(() => finalizeEvent({ ...template(), ...bad } as unknown as EventTemplate, secretKey)).toThrow(TypeError);
    }
  });

  describe('refuses, never throwing,', () => {
    const secretKey = pure.generateSecretKey();
    const good = (): NostrEvent => wire(finalizeEvent(template('original'), secretKey));
    // Signed by nostr-tools: the cases are collected before initEventSigner() has run.
    const other = pure.finalizeEvent(template('other'), pure.generateSecretKey());
    const sparseTags: string[][] = [['p']];
    sparseTags[0]!.length = 3; // ['p', <hole>, <hole>]

    const cases: Array<[string, (event: NostrEvent) => unknown]> = [
      ['changed content', (e) => ({ ...e, content: 'changed' })],
      ['changed tags', (e) => ({ ...e, tags: [] })],
      ['changed created_at', (e) => ({ ...e, created_at: e.created_at + 1 })],
      ['changed kind', (e) => ({ ...e, kind: e.kind + 1 })],
      ["another key's pubkey", (e) => ({ ...e, pubkey: other.pubkey })],
      ["another event's signature", (e) => ({ ...e, sig: other.sig })],
      ['a flipped signature bit', (e) => ({ ...e, sig: flipLastNibble(e.sig) })],
      ['an id that is not the hash', (e) => ({ ...e, id: flipLastNibble(e.id) })],
      // nostr-wasm alone accepts the next four: they must be refused before it is asked.
      ['an upper-case id', (e) => ({ ...e, id: e.id.toUpperCase() })],
      ['an empty id', (e) => ({ ...e, id: '' })],
      ['an upper-case signature', (e) => ({ ...e, sig: e.sig.toUpperCase() })],
      ['a signature one byte short', (e) => ({ ...e, sig: e.sig.slice(0, 126) })],
      ['an upper-case pubkey', (e) => ({ ...e, pubkey: e.pubkey.toUpperCase() })],
      ['non-hex in the signature', (e) => ({ ...e, sig: `0g${e.sig.slice(2)}` })],
      // BIP-340 rows 5 and 14: x not on the curve, x >= p; the id is recomputed so the check reaches the key.
      ['a pubkey that is not on the curve', (e) => withPubkey(e, 'eefdea4cdb677750a420fee807eacf21eb9898ae79b9768766e4faa04a2d4a34')],
      ['a pubkey not below the field size', (e) => withPubkey(e, 'fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc30')],
      ['a missing signature', ({ sig: _sig, ...rest }) => rest],
      ['a string kind', (e) => ({ ...e, kind: String(e.kind) })],
      ['a non-string tag value', (e) => ({ ...e, tags: [['p', 5]] })],
      ['a tag with holes', (e) => ({ ...e, tags: sparseTags })],
      ['null', () => null],
      ['a number', () => 42],
    ];
    it.each(cases)('an event with %s', (_what, mutate) => {
      const event = good();
      expect(verifyEvent(event)).toBe(true);
      expect(verifyEvent(mutate(event) as NostrEvent)).toBe(false);
    });
  });

  it('does not let a remembered signature pass an event changed after it verified', () => {
    const event = wire(finalizeEvent(template('before'), pure.generateSecretKey()));
    expect(verifyEvent(event)).toBe(true);
    expect(verifyEvent(event)).toBe(true); // the second check of the same event is the cheap one
    event.content = 'after';
    expect(verifyEvent(event)).toBe(false);
    event.content = 'before';
    event.tags.push(['t', 'added']);
    expect(verifyEvent(event)).toBe(false);
  });

  it('signs under the key now in the array when the same array is refilled with another key', () => {
    const a = pure.generateSecretKey();
    const b = pure.generateSecretKey();
    const key = Uint8Array.from(a);
    expect(finalizeEvent(template('a'), key).pubkey).toBe(pure.getPublicKey(a));
    key.set(b);
    const signed = finalizeEvent(template('b'), key);
    expect(signed.pubkey).toBe(pure.getPublicKey(b));
    expect(pure.verifyEvent(wire(signed))).toBe(true);
  });

  it('checks a 3 MiB event like any other (the id is hashed outside WebAssembly, so no heap limit), and keeps working', () => {
    // Size limits belong to the relay and the inbound bounds, not to signature checking.
    const secretKey = pure.generateSecretKey();
    const huge = pure.finalizeEvent({ ...template(), content: 'x'.repeat(3 * 1024 * 1024) }, secretKey);
    expect(verifyEvent(wire(huge))).toBe(true);
    expect(verifyEvent({ ...wire(huge), content: `${huge.content}y` })).toBe(false);
    expect(verifyEvent(wire(finalizeEvent(template('after'), secretKey)))).toBe(true);
  });

});
