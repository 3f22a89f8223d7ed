import fc from 'fast-check';
import { getEventHash, serializeEvent as nostrSerializeEvent } from 'nostr-tools/pure';
import { describe, expect, it } from 'vitest';
import { computeEventId, serializeEvent, type UnsignedEvent } from '../../src/crypto/event-id.js';
import { eventIdSchema } from '../../src/protocol/brands.js';

const pubkey = 'a'.repeat(64);
const anyString = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 30 }), // lone surrogates included
  fc.string({ unit: fc.constantFrom('"', '\\', '\n', '\r', '\t', '\b', '\f', '\u0000', '\u001f', '\u007f', '\u2028', '\u2029', '/', 'é', '😀'), maxLength: 20 }),
);
const unsignedEvent: fc.Arbitrary<UnsignedEvent> = fc
  .record({
    pubkey: fc.stringMatching(/^[0-9a-f]{64}$/),
    created_at: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    kind: fc.integer({ min: 0, max: 65535 }),
    tags: fc.array(fc.array(anyString, { maxLength: 5 }), { maxLength: 6 }),
    content: anyString,
  })
  // fc.record builds null-prototype objects, which nostr-tools' validateEvent refuses.
  .map((event) => ({ ...event }));

describe('NIP-01 event serialisation and id', () => {
  it('matches nostr-tools getEventHash and serializeEvent for any event, unicode and escapes included', () => {
    fc.assert(
      fc.property(unsignedEvent, (event) => {
        expect(serializeEvent(event)).toBe(nostrSerializeEvent(event));
        expect(computeEventId(event)).toBe(getEventHash(event));
      }),
      { numRuns: 500 },
    );
  });

  it('serialises exactly [0, pubkey, created_at, kind, tags, content] with NIP-01 escaping', () => {
    const event = { pubkey, created_at: 1, kind: 1, tags: [['p', 'x"y']], content: 'a\nb\\c\u0001é' };
    expect(serializeEvent(event)).toBe(`[0,"${pubkey}",1,1,[["p","x\\"y"]],"a\\nb\\\\c\\u0001é"]`);
    expect(eventIdSchema.safeParse(computeEventId(event)).success).toBe(true);
  });

  it('ignores fields outside the id (id, sig) and does not mutate its input', () => {
    const event = { pubkey, created_at: 5, kind: 7, tags: [], content: '+', id: 'f'.repeat(64), sig: '0'.repeat(128) };
    const copy = structuredClone(event);
    expect(computeEventId(event)).toBe(computeEventId({ pubkey, created_at: 5, kind: 7, tags: [], content: '+' }));
    expect(event).toEqual(copy);
  });

  it.each([
    ['event.pubkey', { pubkey: 'A'.repeat(64) }],
    ['event.pubkey', { pubkey: 'a'.repeat(62) }],
    ['event.created_at', { created_at: -1 }],
    ['event.created_at', { created_at: 1.5 }],
    ['event.kind', { kind: 65536 }],
    ['event.kind', { kind: '1' }],
    ['event.tags', { tags: 'p' }],
    ['event.tags[1]', { tags: [['p'], ['e', 3]] }],
    ['event.content', { content: null }],
  ])('rejects a bad %s, naming the field', (field, patch) => {
    const event = { pubkey, created_at: 1, kind: 1, tags: [], content: '', ...patch } as unknown as UnsignedEvent;
    expect(() => computeEventId(event)).toThrow(expect.objectContaining({ code: 'PROTOCOL_INVALID', message: expect.stringContaining(field) }));
  });
});
