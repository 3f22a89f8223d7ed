import { schnorr } from '@noble/curves/secp256k1.js';
import fc from 'fast-check';
import { verifyEvent, type Event } from 'nostr-tools/pure';
import { describe, expect, it } from 'vitest';
import { hexToBytes } from '../../src/crypto/bytes.js';
import { computeEventId, type UnsignedEvent } from '../../src/crypto/event-id.js';
import {
  aggregateSignature,
  commit,
  createSigningPackage,
  dealerKeygen,
  groupXOnlyKey,
  signShare,
} from '../../src/crypto/frost.js';
import { groupShape, seededRng, signWith } from './frost-helpers.js';

const groupShapeK = groupShape(7);

const eventFields = fc.record({
  created_at: fc.integer({ min: 0, max: 2 ** 40 }),
  kind: fc.integer({ min: 0, max: 65535 }),
  content: fc.oneof(fc.string({ unit: 'grapheme', maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 40 })),
  tags: fc.array(fc.array(fc.string({ unit: 'grapheme', maxLength: 16 }), { minLength: 1, maxLength: 4 }), {
    maxLength: 4,
  }),
});

describe('FROST signing properties', () => {
  it('signs a Nostr event with any k-subset of any k-of-n group, accepted by nostr-tools and noble', () => {
    fc.assert(
      fc.property(groupShapeK, eventFields, fc.integer(), ([n, k, signerIdx], fields, seed) => {
        const { group, shares } = dealerKeygen({ threshold: k, maxSigners: n, rng: seededRng(seed) });
        const unsigned: UnsignedEvent = { ...fields, pubkey: groupXOnlyKey(group) };
        const id = computeEventId(unsigned);
        const sig = signWith(group, signerIdx.map((i) => shares[i]!), hexToBytes(id), seededRng(seed + 1));
        const event: Event = { ...unsigned, id, sig };
        expect(verifyEvent(event)).toBe(true);
        expect(schnorr.verify(hexToBytes(sig), hexToBytes(id), hexToBytes(unsigned.pubkey))).toBe(true);
      }),
      { numRuns: 120 },
    );
  }, 60_000);

  it('refuses to sign or aggregate with any k−1 subset', () => {
    fc.assert(
      fc.property(groupShapeK.filter(([, k]) => k >= 3), fc.integer(), ([n, k, signerIdx], seed) => {
        const { group, shares } = dealerKeygen({ threshold: k, maxSigners: n, rng: seededRng(seed) });
        const signers = signerIdx.slice(0, k - 1).map((i) => shares[i]!);
        const round1 = signers.map((s) => commit(s));
        const pkg = createSigningPackage(new Uint8Array(32).fill(7), round1.map((r) => r.commitments));
        for (const [i, s] of signers.entries()) {
          expect(() => signShare(s, group, round1[i]!.nonces, pkg)).toThrow(expect.objectContaining({ code: 'PROTOCOL_INVALID' }));
        }
        expect(() => aggregateSignature(group, pkg, {})).toThrow(expect.objectContaining({ code: 'PROTOCOL_INVALID' }));
      }),
      { numRuns: 30 },
    );
  }, 30_000);
});
